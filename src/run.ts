import { Ds100Client } from './client/ds100-client.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './client/retry-policy.js';
import type { TokenProvider } from './client/token-provider.js';
import type { AttemptOutcome } from './client/response.js';
import { openInput } from './input/read-rows.js';
import { DEFAULT_RULES, type ValidationRules } from './input/validate-row.js';
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
  /** Retry timing; `retries` defaults to 5. Tests shrink the delays. */
  readonly retryPolicy?: Partial<RetryPolicy>;
  /** Deadline of one attempt. Default 30 000 ms. */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
  /** Marks the summary as a simulated run. Default false. */
  readonly simulated?: boolean;
  /** How strict the input checks are (`--serial-length`, `--strict`). Default: 9 digits, not strict. */
  readonly rules?: Partial<ValidationRules>;
}

export const RUN_DEFAULTS = { concurrency: 4, rate: 10, timeoutMs: 30_000 } as const;

function resultFor(row: InputRow, { outcome, attempts }: Dispatched): RowResult {
  const base = { ...row, attempts, httpStatus: outcome.httpStatus };
  return outcome.ok
    ? { ...base, outcome: 'enabled', token: outcome.token }
    : { ...base, outcome: 'failed', errorCode: outcome.code, errorMessage: outcome.message };
}

/** What a command does with each valid row: one request, and the result made of its outcome. */
export interface RowAction {
  readonly command: 'enable' | 'plan';
  send(client: Ds100Client, row: InputRow): Promise<AttemptOutcome>;
  toResult(row: InputRow, dispatched: Dispatched): RowResult;
}

/**
 * Enables every valid pair of the input file and writes one result per data row. Prints nothing;
 * returns the summary. Throws a Ds100Error before any request when the input or output is unusable.
 */
export async function run(options: RunOptions): Promise<RunSummary> {
  return processRows(options, {
    command: 'enable',
    send: (client, row) => client.enableOtp(row),
    toResult: resultFor,
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
  });
  try {
    const input = await openInput(options.input, { rules: { ...DEFAULT_RULES, ...options.rules } });
    const writer =
      options.out === undefined ? undefined : await ResultsWriter.open(options.out, input.columns.carriedNames);
    const counter = new SummaryCounter();
    const dispatcher = new Dispatcher({
      concurrency,
      pacer: new Pacer(rate),
      retryPolicy: { ...DEFAULT_RETRY_POLICY, ...options.retryPolicy },
    });
    const record = async (result: RowResult): Promise<void> => {
      counter.add(result);
      await writer?.write(result);
      logger.debug({ line: result.line, outcome: result.outcome, errorCode: result.errorCode }, 'row done');
    };
    logger.info(
      { command: action.command, input: options.input, out: options.out, concurrency, rate, rows: input.scan.rows },
      'run started',
    );
    try {
      for await (const item of input.items) {
        if (item.kind === 'invalid') {
          const { code, message } = item.problem;
          await record({ ...item.row, outcome: 'invalid', errorCode: code, errorMessage: message, attempts: 0 });
          continue;
        }
        const { row, warning } = item;
        if (warning) logger.warn({ line: row.line, code: warning.code }, warning.message);
        await dispatcher.submit(
          () => action.send(client, row),
          (dispatched) => record(action.toResult(row, dispatched)),
        );
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
    });
    logger.info({ rows: summary.rows, byOutcome: summary.byOutcome, requests: summary.requests }, 'run finished');
    return { ...summary, command: action.command };
  } finally {
    await client.close();
  }
}
