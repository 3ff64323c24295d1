import { isXlsxPath } from './results-writer.js';
import type { Outcome, PlanAction, RowErrorCode, RowResult, StopReason } from '../types.js';
import { undoCommandOf } from './undo-writer.js';

/** Where a run that can change the tenant listed what it changed (see undo-writer.ts). */
export interface UndoFacts {
  /** The undo file; undefined when none was written (results on stdout and no --undo-file). */
  readonly file: string | undefined;
  /** Lines this run added to it: credentials it changed that the file did not list already. */
  readonly linesAdded: number;
}

export interface RunSummary {
  readonly input: string;
  readonly out: string;
  /** Data rows read; every one has a line in the results. */
  readonly rows: number;
  readonly byOutcome: Readonly<Partial<Record<Outcome, number>>>;
  readonly byErrorCode: Readonly<Partial<Record<RowErrorCode, number>>>;
  /** HTTP requests started, retries included. */
  readonly requests: number;
  /** Of `requests`, those sent again after a failed attempt (a 429, a 5xx, a timeout …). */
  readonly retries?: number | undefined;
  /** Answers 429 (rate limited) the tenant gave. */
  readonly rateLimitedAnswers?: number | undefined;
  /** Requests per second allowed when the run ended (below `rate` after 429s). */
  readonly finalRate?: number | undefined;
  /** Time from the first row handed to the queue to the last row written: `elapsedMs` less the pre-scan and the token. */
  readonly sendingMs?: number | undefined;
  readonly startedAt: string;
  readonly elapsedMs: number;
  /** True when the run went to the built-in simulator, not a real tenant. */
  readonly simulated: boolean;
  /** Set when the run stopped early (a circuit breaker, or the caller's signal). */
  readonly stopped?: StopReason | undefined;
  /** The command that produced the summary. */
  readonly command: 'enable' | 'plan' | 'validate' | 'reconcile' | 'disable';
  /** plan: which change it previewed (`--action`); enable when left out. */
  readonly action?: PlanAction | undefined;
  /** enable, reconcile, disable: the undo file. */
  readonly undo?: UndoFacts | undefined;
  /** With a state ledger: pairs it holds that the input no longer does (drift; never acted on). */
  readonly removedFromInput?: number | undefined;
}

/** How far a run has come: what `onProgress` is called with. */
export interface RunProgress {
  /** Rows with a result so far (invalid and skipped rows included). */
  readonly rowsDone: number;
  /** Data rows in the input (from the pre-scan). */
  readonly rowsTotal: number;
  readonly byOutcome: Readonly<Partial<Record<Outcome, number>>>;
  /** Rows done per second since the first row was handed on; 0 before any time has passed. */
  readonly rowsPerSecond: number;
  /** Seconds left at that rate, rounded up; undefined while the rate is still 0. */
  readonly etaSeconds: number | undefined;
}

/** The progress of a run `elapsedMs` after its first row. Pure. */
export function progressOf(
  done: { readonly rowsDone: number; readonly byOutcome: RunProgress['byOutcome'] },
  rowsTotal: number,
  elapsedMs: number,
): RunProgress {
  const rowsPerSecond = elapsedMs > 0 ? done.rowsDone / (elapsedMs / 1000) : 0;
  const left = Math.max(0, rowsTotal - done.rowsDone);
  const etaSeconds = left === 0 ? 0 : rowsPerSecond > 0 ? Math.ceil(left / rowsPerSecond) : undefined;
  return { rowsDone: done.rowsDone, rowsTotal, byOutcome: done.byOutcome, rowsPerSecond, etaSeconds };
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

  /** Rows done so far and their outcomes, for progress. */
  get rowsDone(): number {
    return this.#rows;
  }

  get byOutcome(): Readonly<Partial<Record<Outcome, number>>> {
    return { ...this.#byOutcome };
  }

  finish(fields: {
    command: RunSummary['command'];
    input: string;
    out: string;
    requests: number;
    retries?: number | undefined;
    rateLimitedAnswers?: number | undefined;
    finalRate?: number | undefined;
    sendingMs?: number | undefined;
    simulated: boolean;
    stopped?: StopReason | undefined;
    removedFromInput?: number | undefined;
    undo?: UndoFacts | undefined;
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
  /** The undo file, when the run writes one, and the outcome of the rows it lists. */
  readonly undo?: { readonly file: string; readonly failed: boolean; readonly outcome: Outcome } | undefined;
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
  const { undo } = facts;
  if (undo?.failed) {
    where.push(
      `the undo file ${undo.file} lacks the rows ${undo.outcome} after that (the results list them, and the log names them)`,
    );
  }

  const fix =
    facts.errno === 'ENOSPC' || facts.errno === 'EDQUOT'
      ? 'free space'
      : facts.errno === 'EROFS'
        ? 'make the file system writable'
        : 'fix that';
  const isChange = facts.command === 'enable' || facts.command === 'disable';
  const isResumable = isChange && state !== undefined;
  const again = isResumable ? 'run again with --resume' : 'run again';
  // Enabling an enabled credential again changes nothing; worth saying where rows will be sent again.
  const done = facts.command === 'disable' ? 'disabled' : 'enabled';
  const resent = !isChange
    ? ''
    : !state
      ? ` (a row ${done} already is ${done} again, which changes nothing on the tenant)`
      : state.failed
        ? ` (rows the state file lacks are sent again, which changes nothing for those ${done} already)`
        : '';
  const earlier = facts.earlierStop ? `; the run had been stopped already: ${facts.earlierStop.message}` : '';
  return `${facts.failures.join('; and ')}; ${where.join(', ')}; ${fix} and ${again}${resent}${earlier}`;
}

// Listed only when there are some: a run that stopped early, an answer nobody could settle.
const LISTED_WHEN_SOME: ReadonlySet<Outcome> = new Set(['not-attempted', 'unknown']);

// A run that changes the tenant lists what was so before it only when there was some (plan always
// does): it is left out of the columns' width too, so that a summary without any looks as it did.
const isAlreadyOfChange = (command: RunSummary['command'], outcome: Outcome): boolean =>
  (command === 'enable' || command === 'disable') && (outcome === 'already-enabled' || outcome === 'already-disabled');

/** Each command's outcomes, in the order the summary lists them. */
export const OUTCOME_ORDERS: Readonly<Record<NonNullable<RunSummary['command']>, readonly Outcome[]>> = {
  enable: ['enabled', 'already-enabled', 'failed', 'unknown', 'invalid', 'not-attempted'],
  disable: ['disabled', 'already-disabled', 'failed', 'unknown', 'invalid', 'not-attempted'],
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

/** `plan --action disable`'s outcomes, in the order the summary lists them. */
const PLAN_DISABLE_ORDER: readonly Outcome[] = [
  'would-disable',
  'already-disabled',
  'not-registered',
  'registered-to-other-user',
  'failed',
  'invalid',
  'not-attempted',
];

/** The outcomes a summary lists, in order: the command's, or plan's for the change it previewed. */
export const outcomeOrderOf = (summary: Pick<RunSummary, 'command' | 'action'>): readonly Outcome[] =>
  summary.command === 'plan' && summary.action === 'disable' ? PLAN_DISABLE_ORDER : OUTCOME_ORDERS[summary.command];

/** A count for people: 12,345. */
const count = (value: number): string => value.toLocaleString('en');

/** A pace for people: 8.5/s, 1,250/s. */
const pace = (value: number): string =>
  `${value.toLocaleString('en', { maximumFractionDigits: value < 10 ? 2 : value < 100 ? 1 : 0 })}/s`;

/** A span of time for people: "0.4 s", "42 s", "4 min 12 s", "2 h 5 min". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  const minutes = Math.round(whole / 60);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * The start-of-run estimate, e.g. "3,000 rows at 10/s: about 5 min; raise --rate if your tenant
 * allows". Pure.
 */
export function describeEstimate(rows: number, rate: number): string {
  const seconds = rows / rate;
  const about =
    seconds < 90
      ? `${Math.max(1, Math.round(seconds))} s`
      : seconds < 90 * 60
        ? `${Math.round(seconds / 60)} min`
        : `${(seconds / 3600).toLocaleString('en', { maximumFractionDigits: 1 })} h`;
  return `${rows.toLocaleString('en')} rows at ${rate.toLocaleString('en')}/s: about ${about}; raise --rate if your tenant allows`;
}

/** Where the run's own files are, for the advice after a stop: the state ledger, if it kept one. */
export interface SummaryContext {
  readonly state?: string | undefined;
  /**
   * How the run named its rows on the command line, for the command that resumes it: e.g.
   * `['--only-failed', 'r.csv']` or `['--plan', 'plan.csv']`. Default: the input file.
   */
  readonly rowsFrom?: readonly string[] | undefined;
}

/**
 * Without a ledger: the command that sends the rows of an enable or disable run that did not succeed,
 * read back from its CSV results (`--only-failed`), its undo lines going on in this run's undo file.
 * Undefined when the results went to stdout or a workbook, which `--only-failed` cannot read. Pure.
 */
function rerunCommand(summary: RunSummary): string | undefined {
  const { out } = summary;
  if (out === '' || out === '-' || isXlsxPath(out)) return undefined;
  const undo = summary.undo?.file === undefined ? [] : ['--undo-file', summary.undo.file];
  return ['ds100-bulk', summary.command, '--only-failed', out, '--out', resumedName(out), ...undo]
    .map(quoted)
    .join(' ');
}

/**
 * The command that resumes an enable or disable run from its ledger: the same rows, the results to a
 * new file, the undo lines on in this run's undo file. Pure.
 */
function resumeCommand(summary: RunSummary, state: string, context: SummaryContext): string {
  const rows = context.rowsFrom ?? [summary.input];
  const out = ['--out', resumedName(summary.out || 'results.csv')];
  // The resumed run's results go to a new file: its undo lines go on in this run's undo file.
  const undo = summary.undo?.file === undefined ? [] : ['--undo-file', summary.undo.file];
  return ['ds100-bulk', summary.command, ...rows, ...out, '--state', state, '--resume', ...undo].map(quoted).join(' ');
}

// The stops a user asked for (Ctrl-C, kill, a deadline): the rows left are theirs to send later.
const RESUMABLE_STOPS: ReadonlySet<string> = new Set(['INTERRUPTED', 'MAX_RUNTIME']);

/** `results.csv` -> `results-resumed.csv`: a new file, so the first run's results stay as they are. */
const resumedName = (out: string): string =>
  out === '-' ? '-' : out.replace(/(\.[^./\\]+)?$/, (extension) => `-resumed${extension}`);

const quoted = (arg: string): string => (/^[\w./:@=-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`);

/**
 * After an `enable` or `disable` stopped by a signal or --max-runtime, how to carry on: with a state
 * ledger, the command that resumes it; without one, that running again sends every row again
 * (harmless: enabling an enabled credential changes nothing). After a declined `--canary`, how to
 * send the rest, for enable, disable and reconcile. Undefined for any other run.
 */
export function resumeAdvice(summary: RunSummary, context: SummaryContext = {}): string | undefined {
  if (summary.stopped?.code === 'CANARY_ONLY') return canaryAdvice(summary, context);
  const { command } = summary;
  if (command !== 'enable' && command !== 'disable') return undefined;
  if (!summary.stopped || !RESUMABLE_STOPS.has(summary.stopped.code)) return undefined;
  if (context.state === undefined) {
    const rerun = rerunCommand(summary);
    if (rerun) return `to finish: ${rerun} (sends only the rows that did not succeed)`;
    const word = command === 'disable' ? 'disabled' : 'enabled';
    return `to finish: run the same command again; without --state it sends every row again, which is harmless (${word === 'enabled' ? 'an' : 'a'} ${word} credential stays ${word})`;
  }
  return `to finish: ${resumeCommand(summary, context.state, context)}`;
}

/**
 * After a run that stopped after its canary (`--canary N`, not approved), how to send the rest: the
 * canary rows are in the ledger when there is one, so resuming skips them; without one they are in
 * the results only, and running the whole file again sends them again, which changes nothing.
 */
function canaryAdvice(summary: RunSummary, context: SummaryContext): string {
  const { command } = summary;
  if ((command === 'enable' || command === 'disable') && context.state !== undefined) {
    const resume = resumeCommand(summary, context.state, context);
    return `only the canary was sent; to send the rest: ${resume} (the canary rows are in the state file and are not sent again)`;
  }
  const rerun = command === 'reconcile' ? undefined : rerunCommand(summary);
  if (rerun)
    return `only the canary was sent; to send the rest: ${rerun} (the canary rows that succeeded are left out)`;
  if (command === 'reconcile') {
    return 'only the canary was sent; to send the rest: run the same command again with --yes (the rows it enabled are in the state file and are not sent again)';
  }
  return (
    'only the canary was sent; the rows it did are in the results; to send the rest: run the same command ' +
    'again with --yes (without --state it sends the canary rows again, which changes nothing: they are reported ' +
    `${command === 'disable' ? 'already-disabled' : 'already-enabled'})`
  );
}

/**
 * The summary's line about the undo file, e.g. "undo: results.undo.csv (3 lines added by this run);
 * to take them back: ds100-bulk disable results.undo.csv --out undo-results.csv (with your usual
 * flags)". Undefined for a run that changes nothing. Pure.
 */
export function describeUndo(summary: Pick<RunSummary, 'command' | 'undo'>): string | undefined {
  const { command, undo } = summary;
  if (!undo || (command !== 'enable' && command !== 'reconcile' && command !== 'disable')) return undefined;
  if (undo.file === undefined) {
    return 'undo: not written (the results went to stdout); add --undo-file FILE to keep the list of what a run changed';
  }
  const lines = `${count(undo.linesAdded)} line${undo.linesAdded === 1 ? '' : 's'} added by this run`;
  if (undo.linesAdded === 0) return `undo: ${undo.file} (${lines})`;
  const back = ['ds100-bulk', undoCommandOf(command), undo.file, '--out', `undo-${basenameOf(undo.file)}`];
  return `undo: ${undo.file} (${lines}); to take the changes back: ${back.map(quoted).join(' ')} (with your usual flags)`;
}

/** `dir/results.undo.csv` -> `results.csv`: the undo run's results go to the folder it runs in. */
const basenameOf = (file: string): string => (file.split(/[\\/]/).pop() ?? file).replace(/\.undo\.csv$/i, '.csv');

/** The one-screen report printed at the end of a run. */
export function formatSummary(summary: RunSummary, context: SummaryContext = {}): string {
  const { command } = summary;
  const order = outcomeOrderOf(summary).filter(
    (outcome) => !isAlreadyOfChange(command, outcome) || summary.byOutcome[outcome],
  );
  const width = Math.max(10, ...order.map((outcome) => outcome.length));
  const lines = [
    summary.simulated ? 'SIMULATED TENANT (--simulate): no real tenant or device was touched.' : '',
    `ds100-bulk ${command}${summary.action === 'disable' ? ' --action disable' : ''}: ${count(summary.rows)} rows from ${summary.input}`,
    summary.stopped ? `RUN STOPPED EARLY (${summary.stopped.code}): ${summary.stopped.message}` : '',
    ...order
      .filter((outcome) => !LISTED_WHEN_SOME.has(outcome) || summary.byOutcome[outcome])
      .map((outcome) => `  ${outcome.padEnd(width)} ${count(summary.byOutcome[outcome] ?? 0)}`),
  ];
  const codes = Object.entries(summary.byErrorCode).toSorted(([, a], [, b]) => b - a);
  if (codes.length > 0) {
    lines.push('errors by code:', ...codes.map(([code, n]) => `  ${code.padEnd(26)} ${count(n)}`));
  }
  if (summary.removedFromInput) {
    lines.push(
      `removed from input: ${count(summary.removedFromInput)} pairs in the state file are no longer in the input (not acted on)`,
    );
  }
  const requestFacts = [
    summary.retries === undefined ? '' : `${count(summary.retries)} retries`,
    summary.rateLimitedAnswers === undefined ? '' : `${count(summary.rateLimitedAnswers)} answered 429`,
  ].filter((fact) => fact !== '');
  const finalPace = summary.finalRate === undefined ? '' : `; final pace ${pace(summary.finalRate)}`;
  const sendingMs = summary.sendingMs ?? summary.elapsedMs;
  // Rows a stop left unsent were written in no time: they would flatter the rate.
  const rowsDone = summary.rows - (summary.byOutcome['not-attempted'] ?? 0);
  const rowsPerSecond = sendingMs > 0 ? rowsDone / (sendingMs / 1000) : 0;
  lines.push(
    `requests: ${count(summary.requests)}${requestFacts.length > 0 ? ` (${requestFacts.join(', ')})` : ''}${finalPace}`,
    `time: ${formatDuration(summary.elapsedMs)}; ${count(rowsDone)} rows done in ${formatDuration(sendingMs)} of sending (${pace(rowsPerSecond)})`,
    `results: ${summary.out === '-' ? 'stdout' : summary.out || 'not written (add --out FILE for one line per row)'}`,
    describeUndo(summary) ?? '',
    resumeAdvice(summary, context) ?? '',
  );
  return lines.filter((line) => line !== '').join('\n');
}

/** What `ds100-bulk validate` (and `enable --dry-run`) found; no request was sent. */
export interface ValidationSummary {
  readonly input: string;
  /** How the input was read when it was not comma-separated UTF-8 (separator, encoding); else undefined. */
  readonly readAs?: string | undefined;
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
    ...(summary.readAs === undefined ? [] : [`  ${summary.readAs}`]),
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
