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
  /** The command that produced the summary. */
  readonly command: 'enable' | 'plan' | 'validate' | 'reconcile';
  /** With a state ledger: pairs it holds that the input no longer does (drift; never acted on). */
  readonly removedFromInput?: number | undefined;
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
    command: RunSummary['command'];
    input: string;
    out: string;
    requests: number;
    simulated: boolean;
    stopped?: StopReason | undefined;
    removedFromInput?: number | undefined;
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

/** What a run knows when an output it writes failed: the facts `describeOutputFailure` words. */
export interface OutputFailureFacts {
  readonly command: RunSummary['command'];
  /** The failures' messages, first first, e.g. "cannot write the results file r.csv: the disk is full". */
  readonly failures: readonly string[];
  /** The first failure's errno code (ENOSPC …), to choose the advice. */
  readonly errno: string | undefined;
  /** The results: where, whether they failed, and how many rows are surely in them. */
  readonly results?: { readonly out: string; readonly failed: boolean; readonly rowsWritten: number | undefined };
  /** The state file, when the run keeps one. */
  readonly state?: { readonly file: string; readonly failed: boolean };
  /** A stop that came before the failure (Ctrl-C, a breaker …). */
  readonly earlierStop?: StopReason | undefined;
}

/**
 * The summary's line for a run that stopped because an output could not be written: what failed and
 * why, where every row can be found now, and what to do, e.g. "cannot write the results file r.csv:
 * the disk is full; the results file holds 26 rows, the state file s.state every row that was sent;
 * free space and run again with --resume".
 */
export function describeOutputFailure(facts: OutputFailureFacts): string {
  const { results, state } = facts;
  const resultsName = results?.out === '-' ? 'the results on stdout' : `the results file ${results?.out}`;
  const where: string[] = [];
  if (results && !results.failed) where.push(`${resultsName} ${results.out === '-' ? 'hold' : 'holds'} every row`);
  if (results?.failed) {
    where.push(
      results.rowsWritten === undefined
        ? `${resultsName} end early`
        : `${resultsName} holds ${results.rowsWritten} rows`,
    );
  }
  if (state) {
    where.push(
      state.failed
        ? `the state file ${state.file} holds the rows recorded before that`
        : `the state file ${state.file} every row that was sent`,
    );
  }
  if (results?.failed && (!state || state.failed)) where.push('the rows sent after that are in the log');
  else if (state?.failed && results) where.push('the results are the record of this run');

  const fix =
    facts.errno === 'ENOSPC' || facts.errno === 'EDQUOT'
      ? 'free space'
      : facts.errno === 'EROFS'
        ? 'make the file system writable'
        : 'fix that';
  const isResumable = facts.command === 'enable' && state !== undefined;
  const again = isResumable ? 'run again with --resume' : 'run again';
  // Enabling an enabled credential again changes nothing; worth saying where rows will be sent again.
  const resent =
    facts.command !== 'enable'
      ? ''
      : !state
        ? ' (a row enabled already is enabled again, which changes nothing on the tenant)'
        : state.failed
          ? ' (rows the state file lacks are sent again, which changes nothing for those enabled already)'
          : '';
  const earlier = facts.earlierStop ? `; the run had been stopped already: ${facts.earlierStop.message}` : '';
  return `${facts.failures.join('; and ')}; ${where.join(', ')}; ${fix} and ${again}${resent}${earlier}`;
}

// Listed only when there are some: a run that stopped early, an answer nobody could settle.
const LISTED_WHEN_SOME: ReadonlySet<Outcome> = new Set(['not-attempted', 'unknown']);

/** Each command's outcomes, in the order the summary lists them. */
export const OUTCOME_ORDERS: Readonly<Record<NonNullable<RunSummary['command']>, readonly Outcome[]>> = {
  enable: ['enabled', 'failed', 'unknown', 'invalid', 'not-attempted'],
  plan: [
    'would-enable',
    'already-enabled',
    'not-registered',
    'registered-to-other-user',
    'failed',
    'invalid',
    'not-attempted',
  ],
  validate: ['valid', 'invalid'],
  reconcile: ['enabled', 'unchanged', 'not-registered', 'conflict', 'failed', 'unknown', 'invalid', 'not-attempted'],
};

/** The one-screen report printed at the end of a run. */
export function formatSummary(summary: RunSummary): string {
  const seconds = summary.elapsedMs / 1000;
  const perSecond = seconds > 0 ? (summary.requests / seconds).toFixed(1) : '0';
  const { command } = summary;
  const order = OUTCOME_ORDERS[command];
  const width = Math.max(10, ...order.map((outcome) => outcome.length));
  const lines = [
    summary.simulated ? 'SIMULATED TENANT (--simulate): no real tenant or device was touched.' : '',
    `ds100-bulk ${command}: ${summary.rows} rows from ${summary.input}`,
    summary.stopped ? `RUN STOPPED EARLY (${summary.stopped.code}): ${summary.stopped.message}` : '',
    ...order
      .filter((outcome) => !LISTED_WHEN_SOME.has(outcome) || summary.byOutcome[outcome])
      .map((outcome) => `  ${outcome.padEnd(width)} ${summary.byOutcome[outcome] ?? 0}`),
  ];
  const codes = Object.entries(summary.byErrorCode).toSorted(([, a], [, b]) => b - a);
  if (codes.length > 0) {
    lines.push('errors by code:', ...codes.map(([code, count]) => `  ${code.padEnd(26)} ${count}`));
  }
  if (summary.removedFromInput) {
    lines.push(
      `removed from input: ${summary.removedFromInput} pairs in the state file are no longer in the input (not acted on)`,
    );
  }
  lines.push(
    `requests: ${summary.requests} in ${seconds.toFixed(1)} s (${perSecond}/s)`,
    `results: ${summary.out === '-' ? 'stdout' : summary.out || 'not written (add --out FILE for one line per row)'}`,
  );
  return lines.filter((line) => line !== '').join('\n');
}

/** What `ds100-bulk validate` (and `enable --dry-run`) found; no request was sent. */
export interface ValidationSummary {
  readonly input: string;
  /** Report path, `-` for stdout, or '' when no report was asked for. */
  readonly out: string;
  readonly rows: number;
  /** Rows a run would send, warnings included. */
  readonly valid: number;
  readonly invalid: number;
  readonly byErrorCode: Readonly<Partial<Record<RowErrorCode, number>>>;
  readonly byWarningCode: Readonly<Partial<Record<RowErrorCode, number>>>;
  /** The first rows of each code, in file order. */
  readonly examples: ReadonlyMap<RowErrorCode, ReadonlyArray<{ readonly line: number; readonly message: string }>>;
  readonly elapsedMs: number;
}

/** The validation report printed at the end: counts by code, each with its first examples. */
export function formatValidationSummary(summary: ValidationSummary): string {
  const withWarning = Object.values(summary.byWarningCode).reduce((sum, count) => sum + (count ?? 0), 0);
  const lines = [
    `ds100-bulk validate: ${summary.rows} rows in ${summary.input} (checked offline: nothing was sent)`,
    `  ${'valid'.padEnd(10)} ${summary.valid}${withWarning > 0 ? ` (${withWarning} with a warning)` : ''}`,
    `  ${'invalid'.padEnd(10)} ${summary.invalid}`,
  ];
  const section = (title: string, counts: Readonly<Partial<Record<RowErrorCode, number>>>): void => {
    const codes = Object.entries(counts).toSorted(([, a], [, b]) => (b ?? 0) - (a ?? 0));
    if (codes.length === 0) return;
    lines.push(title);
    for (const [code, count] of codes) {
      lines.push(`  ${code.padEnd(26)} ${count}`);
      for (const { line, message } of summary.examples.get(code as RowErrorCode) ?? []) {
        lines.push(`    ${summary.input}: line ${line}: ${message}`);
      }
    }
  };
  section('errors by code (these rows would not be sent):', summary.byErrorCode);
  section('warnings by code (these rows would still be sent):', summary.byWarningCode);
  const seconds = summary.elapsedMs / 1000;
  lines.push(
    `checked in ${seconds.toFixed(1)} s`,
    `report: ${summary.out === '-' ? 'stdout' : summary.out || 'not written (add --out FILE for one line per row)'}`,
  );
  return lines.join('\n');
}
