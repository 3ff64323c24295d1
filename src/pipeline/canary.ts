import { RUN_WIDE_FAILURES } from './circuit-breaker.js';
import type { InputRow, RowErrorCode, RowResult, StopReason } from '../types.js';

/** What `CanaryOptions.approve` is shown once the canary rows have finished. */
export interface CanaryReport {
  /** The canary rows' results, in file order. */
  readonly results: readonly RowResult[];
  /** Input rows with no result yet: what going on would read (some may turn out invalid, or done already). */
  readonly rowsLeft: number;
}

/**
 * `RunOptions.canary`: send the first `rows` valid rows, and only go on once `approve` says so.
 * Example: `{ rows: 5, approve: async ({ results }) => results.every((r) => r.outcome === 'enabled') }`.
 */
export interface CanaryOptions {
  /**
   * How many rows the canary is, a whole number from 1: the first rows that are actually sent.
   * Invalid rows, and rows settled without a request (by the ledger on `--resume`), do not count.
   */
  readonly rows: number;
  /**
   * Asked once the canary rows have all finished, and only when rows are left: true goes on at full
   * pace, false stops the run (`CANARY_ONLY`; every row left is `not-attempted`). Never asked when a
   * canary row failed for a reason that is not its own (the run stops with `CANARY_FAILED`) or when
   * the run was stopped meanwhile. `signal` aborts when the run is stopped while the question waits
   * (Ctrl-C, --max-runtime): the answer no longer matters, so drop the question. A rejection ends
   * the run with that error, as a bug would: answer false instead.
   */
  approve(canary: CanaryReport, signal: AbortSignal): Promise<boolean>;
}

/**
 * Failures that say nothing about the row itself: the credentials, the network or the tenant. Every
 * further row would most likely meet them too, so a canary row ending in one stops the run without
 * asking. The rows' own failures (NOT_FOUND, BAD_REQUEST, invalid rows, conflicts) are the canary's
 * news, shown to whoever decides.
 */
export const NOT_THE_ROWS_OWN: ReadonlySet<RowErrorCode> = new Set<RowErrorCode>([
  // What stops a whole run (credentials, trust, reach), and what the tenant answers whatever the row.
  ...RUN_WIDE_FAILURES,
  'SERVER_ERROR',
  'RATE_LIMITED',
  'BAD_RESPONSE',
  'UNEXPECTED_STATUS',
]);

/**
 * The stop a canary calls for when some of its rows failed for a reason not their own, naming the
 * codes and how many rows hit each, most first; undefined when it may go on. Pure.
 */
export function canaryFailure(results: readonly RowResult[]): StopReason | undefined {
  const byCode = new Map<RowErrorCode, number>();
  for (const { errorCode } of results) {
    if (errorCode && NOT_THE_ROWS_OWN.has(errorCode)) byCode.set(errorCode, (byCode.get(errorCode) ?? 0) + 1);
  }
  if (byCode.size === 0) return undefined;
  const counts = [...byCode]
    .toSorted(([, a], [, b]) => b - a)
    .map(([code, rows], index) =>
      index === 0 ? `${rows} of its ${results.length} rows ended ${code}` : `${rows} ${code}`,
    );
  return {
    code: 'CANARY_FAILED',
    message:
      `the canary failed: ${counts.join(', ')}, a failure that is not the rows' own (credentials, network ` +
      'or tenant); nobody was asked, and the run stopped before this row was sent',
  };
}

/** What the canary needs of the run it guards. */
export interface CanaryRun {
  /** The run's stop: aborted, the canary neither asks nor lets a row go. */
  readonly signal: AbortSignal;
  /** Stops the run the way every stop does (rows left are `not-attempted` with the reason's code). */
  readonly stop: (reason: StopReason) => void;
  /** Input rows with no result yet. */
  readonly rowsLeft: () => number;
  /** Told how long the question waited, so that the run's rate and ETA leave that time out. */
  readonly onWaited: (ms: number) => void;
}

/**
 * A canary in a run: the first `rows` rows sent are watched; the row after them waits until they
 * have all finished, and is then let go, or the run stopped (CANARY_FAILED, CANARY_ONLY). Nothing
 * is sent while the question waits, and since the request queue counts its pace from the starts it
 * saw, the time waited is not banked as a burst once the answer comes.
 */
export class Canary {
  readonly #options: CanaryOptions;
  readonly #run: CanaryRun;
  readonly #lines = new Set<number>();
  readonly #finishing: Array<Promise<unknown>> = [];
  readonly #results: RowResult[] = [];
  #isDecided = false;

  constructor(options: CanaryOptions, run: CanaryRun) {
    this.#options = options;
    this.#run = run;
  }

  /** Told each row handed on to be sent, with a promise that settles once its result is recorded. */
  sending(row: InputRow, done: Promise<unknown>): void {
    if (this.#lines.size >= this.#options.rows) return;
    this.#lines.add(row.line);
    this.#finishing.push(done);
  }

  /** Told every result the run records; keeps the canary rows'. */
  observe(result: RowResult): void {
    if (this.#lines.has(result.line)) this.#results.push(result);
  }

  /**
   * Asked before a row is sent. True at once until the canary is complete, and after it was
   * approved; for the first row after it, waits for the canary rows, then decides. False means the
   * run was stopped (by the canary, or meanwhile by anything else).
   */
  async mayGo(): Promise<boolean> {
    if (this.#isDecided || this.#lines.size < this.#options.rows) return true;
    this.#isDecided = true;
    await Promise.all(this.#finishing);
    const { signal, stop } = this.#run;
    // A row that threw has no result: the run ends with its error, not with a question.
    if (signal.aborted || this.#results.length < this.#lines.size) return false;
    const results = this.#results.toSorted((a, b) => a.line - b.line);
    const failure = canaryFailure(results);
    if (failure) {
      stop(failure);
      return false;
    }
    const askedAt = Date.now();
    const isApproved = await untilStopped(
      () => this.#options.approve({ results, rowsLeft: this.#run.rowsLeft() }, signal),
      signal,
    );
    this.#run.onWaited(Date.now() - askedAt);
    if (signal.aborted) return false;
    if (!isApproved) {
      const { rows } = this.#options;
      stop({
        code: 'CANARY_ONLY',
        message: `--canary ${rows}: the first ${rows} rows were sent and going on was not approved; this row was not sent`,
      });
    }
    return isApproved;
  }
}

/** `ask`'s answer, or false as soon as `signal` aborts (the question is left to its signal). */
function untilStopped(ask: () => Promise<boolean>, signal: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    (async () => ask())()
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}
