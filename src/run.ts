import { Ds100Client } from './client/ds100-client.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './client/retry-policy.js';
import type { TokenProvider } from './client/token-provider.js';
import { openInput } from './input/read-rows.js';
import { silentLogger, type Logger } from './log.js';
import { ResultsWriter } from './output/results-writer.js';
import { SummaryCounter, type RunSummary } from './output/summary.js';
import { Dispatcher, type Dispatched } from './queue/dispatcher.js';
import { Pacer } from './queue/pacer.js';
import type { InputRow, RowResult } from './types.js';

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
}

export const RUN_DEFAULTS = { concurrency: 4, rate: 10, timeoutMs: 30_000, adaptiveRate: true } as const;

// Built field by field rather than with spreads: this runs for every row, and one object shape is
// cheaper for V8 than a spread of the row (it showed in the profile).
function resultFor(row: InputRow, { outcome, attempts }: Dispatched): RowResult {
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

/**
 * Enables every valid pair of the input file and writes one result per data row. Prints nothing;
 * returns the summary. Throws a Ds100Error before any request when the input or output is unusable.
 */
export async function run(options: RunOptions): Promise<RunSummary> {
  const logger = options.logger ?? silentLogger;
  const concurrency = options.concurrency ?? RUN_DEFAULTS.concurrency;
  const rate = options.rate ?? RUN_DEFAULTS.rate;
  const client = new Ds100Client({
    baseUrl: options.baseUrl,
    tokenProvider: options.tokenProvider,
    timeoutMs: options.timeoutMs ?? RUN_DEFAULTS.timeoutMs,
    connections: concurrency,
  });
  try {
    const input = await openInput(options.input);
    const writer = await ResultsWriter.open(options.out, input.columns.carriedNames);
    const counter = new SummaryCounter();
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
    const dispatcher = new Dispatcher({ concurrency, pacer, retryPolicy });
    const record = async (result: RowResult): Promise<void> => {
      counter.add(result);
      await writer.write(result);
      logger.debug({ line: result.line, outcome: result.outcome, errorCode: result.errorCode }, 'row done');
    };
    logger.info({ input: options.input, out: options.out, concurrency, rate, adaptiveRate: isAdaptive }, 'run started');
    try {
      for await (const item of input.items) {
        if (item.kind === 'invalid') {
          const { code, message } = item.problem;
          await record({ ...item.row, outcome: 'invalid', errorCode: code, errorMessage: message, attempts: 0 });
          continue;
        }
        const { row } = item;
        await dispatcher.submit(
          () => client.enableOtp(row),
          (dispatched) => record(resultFor(row, dispatched)),
        );
      }
    } finally {
      // Rows already admitted still finish and are written, even when reading failed half-way.
      await dispatcher.drain();
      await writer.close();
    }
    const summary = counter.finish({
      input: options.input,
      out: options.out,
      requests: dispatcher.requestsSent,
      simulated: options.simulated ?? false,
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
    return summary;
  } finally {
    await client.close();
  }
}
