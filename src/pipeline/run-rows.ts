import { Ds100Client } from '../client/ds100-client.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../client/retry-policy.js';
import type { ProxySettings } from '../client/http.js';
import type { AttemptOutcome } from '../client/response.js';
import type { TokenProvider } from '../auth/token-cache.js';
import { Ds100Error } from '../errors.js';
import { openInput } from '../input/open-input.js';
import { DEFAULT_RULES, type ValidationRules } from '../input/validate-row.js';
import { silentLogger, type Logger } from '../log.js';
import { ResultsWriter } from '../output/results-writer.js';
import { SummaryCounter, type RunSummary } from '../output/summary.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { Dispatcher, type Dispatched } from '../queue/dispatcher.js';
import { Pacer } from '../queue/pacer.js';
import type { StateStore } from '../state/state-store.js';
import type { InputRow, RowResult, StopReason } from '../types.js';

/** Options of `run()`, the library's entry point; the CLI flags map onto these one to one. */
export interface RunOptions {
  /** CSV of device/user pairs with a header row. */
  readonly input: string;
  /** Results CSV path, or `-` for stdout. Overwritten. */
  readonly out: string;
  /** The tenant's adminRestApiUrl, e.g. `https://example.access.securid.com/AdminInterface/restapi/`. */
  readonly baseUrl: string;
  readonly tokenProvider: TokenProvider;
  /** Most requests in flight. Default 4. */
  readonly concurrency?: number;
  /** Most request starts per second, retries included, evenly spaced. Default 10. */
  readonly rate?: number;
  /**
   * Slow down for everyone when the tenant answers 429, and creep back up towards `rate` after a
   * while without 429s (see AdaptiveRate). Default true: the vendor publishes no limit, so `rate` is
   * a ceiling. With false the pace stays at `rate` and 429s are only retried row by row.
   */
  readonly adaptiveRate?: boolean;
  /** Retry timing; `retries` defaults to 5. Tests shrink the delays. */
  readonly retryPolicy?: Partial<RetryPolicy>;
  /** Deadline of one attempt. Default 30 000 ms. */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
  /** Marks the summary as a simulated run. Default false. */
  readonly simulated?: boolean;
  /** How strict the input checks are (`--serial-length`, `--strict`). Default: 9 digits, not strict. */
  readonly rules?: Partial<ValidationRules>;
  /**
   * Stop the run after this many rows in a row are refused (403 even after a token renewal, or no
   * token obtainable). Default 3; 0 turns the breaker off.
   */
  readonly maxConsecutiveForbidden?: number;
  /** Stop the run when more than this percentage of the rows sent so far failed. Default: no limit. */
  readonly maxFailureRate?: number | undefined;
  /** Rows that must have been sent and finished before `maxFailureRate` is judged. Default 100. */
  readonly failureRateMinRows?: number;
  /**
   * Stops the run from outside (the CLI's Ctrl-C, a deadline): no new row is sent, requests on the
   * wire finish, every remaining row is written `not-attempted`. Abort it with a StopReason as the
   * reason to choose the code and message; any other reason reads as RUN_ABORTED.
   */
  readonly signal?: AbortSignal | undefined;
  /** Send through a proxy (see proxySettingsFromEnv). Default: direct. */
  readonly proxy?: ProxySettings | undefined;
  /**
   * The state ledger (`--state`), opened and locked by the caller, who also closes it: every row's
   * outcome is recorded in it as the row finishes, and the summary reports pairs it holds that the
   * input no longer does.
   */
  readonly state?: StateStore | undefined;
  /** With `state`: rows the ledger records as enabled are not sent again (`enable --resume`). */
  readonly resume?: boolean | undefined;
}

export const RUN_DEFAULTS = {
  concurrency: 4,
  rate: 10,
  timeoutMs: 30_000,
  maxConsecutiveForbidden: 3,
  failureRateMinRows: 100,
  adaptiveRate: true,
} as const;

/** A row whose request was sent and answered (or failed for good). */
export type SentRow = Extract<Dispatched, { outcome: AttemptOutcome }>;

const isStopReason = (value: unknown): value is StopReason =>
  !!value &&
  typeof value === 'object' &&
  typeof (value as StopReason).code === 'string' &&
  typeof (value as StopReason).message === 'string';

// Built field by field rather than with spreads: this runs for every row, and one object shape is
// cheaper for V8 than a spread of the row (it showed in the profile).
export function enableResult(row: InputRow, { outcome, attempts }: SentRow): RowResult {
  return {
    line: row.line,
    deviceSerialNumber: row.deviceSerialNumber,
    userId: row.userId,
    carried: row.carried,
    attempts,
    httpStatus: outcome.httpStatus,
    outcome: outcome.ok ? 'enabled' : 'failed',
    token: outcome.ok ? outcome.token : undefined,
    errorCode: outcome.ok ? undefined : outcome.code,
    errorMessage: outcome.ok ? undefined : outcome.message,
  };
}

export const notAttempted = (row: InputRow, reason: StopReason | undefined): RowResult => {
  const { code, message } = reason ?? { code: 'RUN_ABORTED', message: 'the run was stopped' };
  return { ...row, attempts: 0, outcome: 'not-attempted', errorCode: code, errorMessage: message };
};

/** One more request for a row already under way, paced and retried like any other. */
export type FollowUp = (send: (client: Ds100Client) => Promise<AttemptOutcome>) => Promise<Dispatched>;

/** What a command does with each valid row: one request, and the result made of its outcome. */
export interface RowAction {
  readonly command: 'enable' | 'plan' | 'reconcile';
  /** Decides a row without any request (e.g. the ledger says it is done); undefined sends it. */
  settle?(row: InputRow): RowResult | undefined;
  send(client: Ds100Client, row: InputRow): Promise<AttemptOutcome>;
  /**
   * The row's result from the first request's outcome; `follow` may send one more request for it.
   * Undefined when the run stopped before the row could finish: it is then `not-attempted`.
   */
  toResult(row: InputRow, sent: SentRow, follow: FollowUp): RowResult | undefined | Promise<RowResult | undefined>;
}

/**
 * Enables every valid pair of the input file and writes one result per data row. Prints nothing;
 * returns the summary. Throws a Ds100Error before any request when the input or output is unusable.
 */
export async function run(options: RunOptions): Promise<RunSummary> {
  const { state } = options;
  if (options.resume && !state) throw new Ds100Error('USAGE', 'resume needs the state ledger of the earlier run');
  return processRows(options, {
    command: 'enable',
    settle:
      options.resume && state
        ? (row) => state.enabledResult(row, 'enabled', 'enabled by an earlier run; not sent again')
        : undefined,
    send: (client, row) => client.enableOtp(row),
    toResult: enableResult,
  });
}

/**
 * The pipeline every command that talks to the tenant shares: the whole input is checked first
 * (nothing is sent for a file that cannot be used), then each valid row goes through one client,
 * one pace and one retry policy, and every row gets a result. `out` may be omitted (plan).
 */
export async function processRows(
  options: Omit<RunOptions, 'out'> & { readonly out?: string | undefined },
  action: RowAction,
): Promise<RunSummary> {
  const logger = options.logger ?? silentLogger;
  const concurrency = options.concurrency ?? RUN_DEFAULTS.concurrency;
  const rate = options.rate ?? RUN_DEFAULTS.rate;
  const client = new Ds100Client({
    baseUrl: options.baseUrl,
    tokenProvider: options.tokenProvider,
    timeoutMs: options.timeoutMs ?? RUN_DEFAULTS.timeoutMs,
    connections: concurrency,
    proxy: options.proxy,
  });
  // One way to stop, whatever the cause (a breaker below, or the caller's signal): stop admitting
  // rows, let requests on the wire finish, write every remaining row as not-attempted.
  const stopper = new AbortController();
  let stopReason: StopReason | undefined;
  const stop = (reason: StopReason): void => {
    if (stopReason) return;
    stopReason = reason;
    logger.error({ code: reason.code, reason: reason.message }, 'run stopping: no further rows are sent');
    stopper.abort(reason);
  };
  const onOuterAbort = (): void =>
    stop(
      isStopReason(options.signal?.reason)
        ? options.signal.reason
        : { code: 'RUN_ABORTED', message: 'the run was stopped' },
    );
  const { state } = options;
  try {
    const input = await openInput(options.input, { rules: { ...DEFAULT_RULES, ...options.rules } });
    // Obtain the first token before anything is written or sent, so that unusable credentials
    // (an OAuth client the server refuses, an unreachable token endpoint) stop the run at once.
    try {
      await options.tokenProvider.getToken();
    } catch (error) {
      throw error instanceof Ds100Error
        ? error
        : new Ds100Error('AUTH', `no bearer token could be obtained: ${(error as Error).message}`, { cause: error });
    }
    const writer =
      options.out === undefined ? undefined : await ResultsWriter.open(options.out, input.columns.carriedNames);
    const counter = new SummaryCounter();
    const breaker = new CircuitBreaker({
      maxConsecutiveForbidden: options.maxConsecutiveForbidden ?? RUN_DEFAULTS.maxConsecutiveForbidden,
      maxFailureRatePercent: options.maxFailureRate,
      failureRateMinRows: options.failureRateMinRows ?? RUN_DEFAULTS.failureRateMinRows,
    });
    const retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retryPolicy };
    const isAdaptive = options.adaptiveRate ?? RUN_DEFAULTS.adaptiveRate;
    const pacer = new Pacer(rate, {
      adaptive: isAdaptive && { maxPauseMs: retryPolicy.maxRetryAfterMs },
      onRateChange: ({ direction, rate: now, pausedForMs }) => {
        const perSecond = Math.round(now * 100) / 100;
        if (direction === 'down') {
          logger.warn(
            { rate: perSecond, pausedForMs: Math.round(pausedForMs) },
            'the tenant answered 429: pace lowered',
          );
        } else {
          logger.debug({ rate: perSecond }, 'no 429 for a while: pace raised');
        }
      },
    });
    const dispatcher = new Dispatcher({ concurrency, pacer, retryPolicy, signal: stopper.signal });
    const follow: FollowUp = (send) => dispatcher.send(() => send(client));
    const toResult = async (row: InputRow, dispatched: Dispatched): Promise<RowResult> =>
      (dispatched.outcome === undefined ? undefined : await action.toResult(row, dispatched, follow)) ??
      notAttempted(row, stopReason);
    const record = async (result: RowResult): Promise<void> => {
      counter.add(result);
      // The ledger first: once a row is recorded as enabled, it is never sent again, even if the
      // process dies before its results line is written.
      state?.record(result);
      const written = writer?.write(result);
      if (written) await written;
      logger.debug({ line: result.line, outcome: result.outcome, errorCode: result.errorCode }, 'row done');
      const tripped = breaker.observe(result);
      if (tripped) stop(tripped);
    };
    if (options.signal?.aborted) onOuterAbort();
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    logger.info(
      {
        command: action.command,
        input: options.input,
        out: options.out,
        concurrency,
        rate,
        adaptiveRate: isAdaptive,
        rows: input.rows,
      },
      'run started',
    );
    try {
      for await (const item of input.items) {
        state?.markSeen(item.row);
        if (item.kind === 'invalid') {
          const { code, message } = item.problem;
          await record({ ...item.row, outcome: 'invalid', errorCode: code, errorMessage: message, attempts: 0 });
          continue;
        }
        const { row, warning } = item;
        if (warning) logger.warn({ line: row.line, code: warning.code }, warning.message);
        const settled = action.settle?.(row);
        if (settled) {
          await record(settled);
          continue;
        }
        if (stopReason) {
          // Still read and written, so that the results hold every input row.
          await record(notAttempted(row, stopReason));
          continue;
        }
        const admitted = dispatcher.submit(
          () => action.send(client, row),
          async (dispatched) => record(await toResult(row, dispatched)),
        );
        if (admitted) await admitted; // most rows are admitted at once: no trip through the microtasks
      }
    } finally {
      // Rows already admitted still finish and are written, even when reading failed half-way.
      await dispatcher.drain();
      await writer?.close();
    }
    const summary = counter.finish({
      input: options.input,
      out: options.out ?? '',
      requests: dispatcher.requestsSent,
      simulated: options.simulated ?? false,
      stopped: stopReason,
      removedFromInput: state?.removedFromInput().length,
    });
    logger.info(
      {
        rows: summary.rows,
        byOutcome: summary.byOutcome,
        requests: summary.requests,
        rateLimitedAnswers: dispatcher.rateLimitedAnswers,
        finalRate: Math.round(pacer.rate * 100) / 100,
        elapsedMs: summary.elapsedMs,
      },
      'run finished',
    );
    return { ...summary, command: action.command };
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    await client.close();
  }
}
