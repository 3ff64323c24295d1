import type { Outcome } from '../types.js';
import type { RunSummary, ValidationSummary } from './summary.js';

/** Exit codes, stable because cron wrappers and monitoring branch on them (README and --help). */
export const EXIT_CODES = {
  ok: 0,
  rowsNeedAttention: 1,
  usage: 2,
  aborted: 3,
  locked: 4,
  maxChanges: 5,
  maxRuntime: 6,
  outputFailed: 7,
  canaryOnly: 8,
  internal: 70,
  sigint: 130,
  sigterm: 143,
} as const;

export type Command = RunSummary['command'];

/** The commands that take `--canary N` (disable too, once it exists). */
const CANARY_COMMANDS: readonly Command[] = ['enable', 'reconcile', 'disable'];

/**
 * What each exit code means, per command where it differs; the --help epilogs are made from this
 * list. A meaning's lines stay under 70 characters, so that help does not wrap them at 80 columns.
 */
export const EXIT_CODE_MEANINGS: ReadonlyArray<{
  readonly code: string;
  readonly meaning: string;
  readonly commands: readonly Command[];
}> = [
  { code: '0', meaning: 'every row was enabled (by this run, or already before it)', commands: ['enable'] },
  { code: '0', meaning: 'every row was disabled (by this run, or already before it)', commands: ['disable'] },
  { code: '0', meaning: 'every row was enabled, is unchanged or is not registered yet', commands: ['reconcile'] },
  {
    code: '0',
    meaning:
      'every row would be enabled or is already enabled\n(--action disable: would be disabled or is already disabled)',
    commands: ['plan'],
  },
  { code: '0', meaning: 'every row is valid (rows with only a warning count as valid)', commands: ['validate'] },
  {
    code: '1',
    meaning: 'the run finished; some rows need attention (see the results file)',
    commands: ['enable', 'reconcile', 'disable'],
  },
  {
    code: '1',
    meaning: 'some rows are invalid, not registered, registered to another user,\nor their lookup failed',
    commands: ['plan'],
  },
  { code: '1', meaning: 'some rows are invalid (see the summary, or the --out report)', commands: ['validate'] },
  {
    code: '2',
    meaning:
      'usage, input-file, key-file, credential, state-file or undo-file\n' +
      'error, or the preflight lookup showed the tenant cannot be used;\n' +
      'nothing was changed',
    commands: ['enable', 'reconcile', 'disable', 'plan'],
  },
  {
    code: '2',
    meaning: 'usage error, or the file itself is unusable\n(empty, header only, not UTF-8, not CSV …)',
    commands: ['validate'],
  },
  {
    code: '3',
    meaning:
      'the run was stopped early (403s kept coming, the tenant stopped\n' +
      'answering, or too many rows failed);\n' +
      'rows not sent are in the results as not-attempted, RUN_ABORTED',
    commands: ['enable', 'reconcile', 'disable', 'plan'],
  },
  {
    code: '3',
    meaning:
      'a --canary row failed for a reason not its own (403, network,\n' +
      '5xx, unknown outcome): nobody was asked; rows not sent are\n' +
      'not-attempted, CANARY_FAILED',
    commands: CANARY_COMMANDS,
  },
  {
    code: '4',
    meaning: 'another run holds the lock on the --state file; nothing was done',
    commands: ['enable', 'reconcile', 'disable'],
  },
  {
    code: '5',
    meaning: '--max-changes was reached; further changes are not-attempted',
    commands: ['reconcile', 'disable'],
  },
  {
    code: '6',
    meaning: '--max-runtime ran out; rows not sent are not-attempted, MAX_RUNTIME',
    commands: ['enable', 'reconcile', 'disable', 'plan'],
  },
  {
    code: '7',
    meaning:
      'an output file could not be written (disk full, I/O error …);\n' +
      'the run stopped; rows not sent are not-attempted, OUTPUT_FAILED',
    commands: ['enable', 'reconcile', 'disable', 'plan'],
  },
  { code: '7', meaning: 'every row is valid, but the --report file could not be written', commands: ['validate'] },
  {
    code: '8',
    meaning:
      '--canary N: the first N rows were sent, and going on was declined\n' +
      '(or not asked: no terminal, no --yes); the rest are\n' +
      'not-attempted, CANARY_ONLY',
    commands: CANARY_COMMANDS,
  },
  {
    code: '70',
    meaning: 'internal error (a bug: please report it with the log)',
    commands: ['enable', 'reconcile', 'disable', 'plan', 'validate'],
  },
  {
    code: '130 / 143',
    meaning: 'interrupted by SIGINT / SIGTERM;\nrows not sent are not-attempted, INTERRUPTED',
    commands: ['enable', 'reconcile', 'disable', 'plan'],
  },
];

// Per command, the outcomes that need nothing more from anyone. For reconcile a device not
// registered yet is the normal state of a rollout: it is looked at again on the next run. A
// credential that had the status before the run is as good as one the run changed.
export const GOOD_OUTCOMES: Readonly<Record<Command, readonly Outcome[]>> = {
  enable: ['enabled', 'already-enabled'],
  disable: ['disabled', 'already-disabled'],
  plan: ['would-enable', 'already-enabled', 'would-disable', 'already-disabled'],
  validate: ['valid'],
  reconcile: ['enabled', 'unchanged', 'not-registered'],
};

/**
 * Exit status of a finished run: 3, 6, 7, 8 or 130 when it stopped early (breaker or failed canary,
 * --max-runtime, an output that could not be written, a declined canary, a signal; the CLI says 143
 * for SIGTERM), 5 when --max-changes held changes back, 0 when every row ended well,
 * 1 otherwise.
 */
export function exitCodeFor(summary: RunSummary): number {
  switch (summary.stopped?.code) {
    case 'RUN_ABORTED':
    case 'CANARY_FAILED':
      return EXIT_CODES.aborted;
    case 'CANARY_ONLY':
      return EXIT_CODES.canaryOnly;
    case 'INTERRUPTED':
      return EXIT_CODES.sigint;
    case 'MAX_RUNTIME':
      return EXIT_CODES.maxRuntime;
    case 'OUTPUT_FAILED':
      return EXIT_CODES.outputFailed;
    default:
      break;
  }
  if (summary.byErrorCode.MAX_CHANGES_REACHED) return EXIT_CODES.maxChanges;
  const good = GOOD_OUTCOMES[summary.command];
  const goodRows = good.reduce((sum, outcome) => sum + (summary.byOutcome[outcome] ?? 0), 0);
  return goodRows === summary.rows ? EXIT_CODES.ok : EXIT_CODES.rowsNeedAttention;
}

/** 0 when every row is valid (warnings allowed), 1 otherwise. */
export const validationExitCode = (summary: ValidationSummary): 0 | 1 => (summary.invalid === 0 ? 0 : 1);
