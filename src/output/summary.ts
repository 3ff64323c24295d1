import type { Outcome, RowErrorCode, RowResult, StopReason } from '../types.js';

export interface RunSummary {
  readonly input: string;
  readonly out: string;
  /** Data rows read; every one has a line in the results. */
  readonly rows: number;
  readonly byOutcome: Readonly<Partial<Record<Outcome, number>>>;
  readonly byErrorCode: Readonly<Partial<Record<RowErrorCode, number>>>;
  /** HTTP requests started, retries included. */
  readonly requests: number;
  readonly startedAt: string;
  readonly elapsedMs: number;
  /** True when the run went to the built-in simulator, not a real tenant. */
  readonly simulated: boolean;
  /** Set when the run stopped early (a circuit breaker, or the caller's signal). */
  readonly stopped?: StopReason | undefined;
}

/** Tallies results as they are written. */
export class SummaryCounter {
  readonly #started = Date.now();
  #rows = 0;
  readonly #byOutcome: Partial<Record<Outcome, number>> = {};
  readonly #byErrorCode: Partial<Record<RowErrorCode, number>> = {};

  add(result: RowResult): void {
    this.#rows++;
    this.#byOutcome[result.outcome] = (this.#byOutcome[result.outcome] ?? 0) + 1;
    if (result.errorCode) this.#byErrorCode[result.errorCode] = (this.#byErrorCode[result.errorCode] ?? 0) + 1;
  }

  finish(fields: {
    input: string;
    out: string;
    requests: number;
    simulated: boolean;
    stopped?: StopReason | undefined;
  }): RunSummary {
    return {
      ...fields,
      rows: this.#rows,
      byOutcome: { ...this.#byOutcome },
      byErrorCode: { ...this.#byErrorCode },
      startedAt: new Date(this.#started).toISOString(),
      elapsedMs: Date.now() - this.#started,
    };
  }
}

/** Exit status of a run: 3 when it was stopped early, 0 when every row was enabled, 1 otherwise. */
export const exitCodeFor = (summary: RunSummary): 0 | 1 | 3 =>
  summary.stopped ? 3 : (summary.byOutcome.enabled ?? 0) === summary.rows ? 0 : 1;

const OUTCOME_ORDER: readonly Outcome[] = ['enabled', 'failed', 'invalid', 'not-attempted'];

/** The one-screen report printed at the end of a run. */
export function formatSummary(summary: RunSummary): string {
  const seconds = summary.elapsedMs / 1000;
  const perSecond = seconds > 0 ? (summary.requests / seconds).toFixed(1) : '0';
  const lines = [
    summary.simulated ? 'SIMULATED TENANT (--simulate): no real tenant or device was touched.' : '',
    `ds100-bulk enable: ${summary.rows} rows from ${summary.input}`,
    summary.stopped ? `RUN STOPPED EARLY (${summary.stopped.code}): ${summary.stopped.message}` : '',
    ...OUTCOME_ORDER.filter((outcome) => outcome !== 'not-attempted' || summary.byOutcome[outcome]).map(
      (outcome) => `  ${outcome.padEnd(10)} ${summary.byOutcome[outcome] ?? 0}`,
    ),
  ];
  const codes = Object.entries(summary.byErrorCode).toSorted(([, a], [, b]) => b - a);
  if (codes.length > 0) {
    lines.push('errors by code:', ...codes.map(([code, count]) => `  ${code.padEnd(26)} ${count}`));
  }
  lines.push(
    `requests: ${summary.requests} in ${seconds.toFixed(1)} s (${perSecond}/s)`,
    `results: ${summary.out === '-' ? 'stdout' : summary.out}`,
  );
  return lines.filter((line) => line !== '').join('\n');
}
