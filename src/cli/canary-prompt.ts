import { createInterface } from 'node:readline';
import type { CanaryOptions, CanaryReport } from '../pipeline/canary.js';
import { STDIN } from '../input/stdin.js';
import type { RowResult } from '../types.js';
import type { CanarySettings } from './options.js';
import type { ProgressBar } from './progress.js';

/** How the command line answers the canary's question: see `canaryApprover`. */
export interface CanaryPromptOptions {
  /** The command, for the advice when nobody can be asked. */
  readonly command: string;
  /** `--yes`: go on without asking. */
  readonly yes: boolean;
  /** Whether someone can answer on `input`: stdin is a terminal and is not the input file (`-`). */
  readonly canAsk: boolean;
  /** Why nobody can be asked, when `canAsk` is false. Default: stdin is not a terminal. */
  readonly whyNotAsked?: string | undefined;
  /** Where answers are read: process.stdin. */
  readonly input: NodeJS.ReadableStream;
  /** Where the canary's rows and the question go: process.stderr (stdout may be the results). */
  readonly output: NodeJS.WritableStream;
  /** Called before anything is printed: stop drawing a progress bar, so that it does not draw over the question. */
  readonly beforePrint?: (() => void) | undefined;
}

/** Longest message shown per canary row; the results file has the whole of it. */
const MESSAGE_WIDTH = 60;

const shortened = (text: string): string =>
  text.length <= MESSAGE_WIDTH ? text : `${text.slice(0, MESSAGE_WIDTH - 1).trimEnd()}…`;

const COLUMNS = ['line', 'deviceSerialNumber', 'userId', 'outcome', 'errorCode', 'message'] as const;

const cellsOf = (result: RowResult): string[] => [
  String(result.line),
  result.deviceSerialNumber,
  result.userId,
  result.outcome,
  result.errorCode ?? '',
  shortened((result.errorMessage ?? '').replaceAll(/\s+/g, ' ')),
];

/**
 * The canary's rows as a small table with their counts, for whoever decides whether to go on.
 * Pure. Example:
 * ```
 * canary: 2 rows sent: enabled 1, failed 1
 * line  deviceSerialNumber  userId  outcome  errorCode  message
 * 2     140100000           …       enabled
 * 3     140100001           …       failed   NOT_FOUND  the DS100 is not registered to this user
 * ```
 */
export function formatCanaryReport({ results }: CanaryReport): string {
  const byOutcome = new Map<string, number>();
  for (const { outcome } of results) byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
  const counts = [...byOutcome].map(([outcome, rows]) => `${outcome} ${rows}`).join(', ');
  const rows = [[...COLUMNS], ...results.map(cellsOf)];
  const widths = COLUMNS.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)));
  const lines = rows.map((cells) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
  return [`canary: ${results.length} ${results.length === 1 ? 'row' : 'rows'} sent: ${counts}`, ...lines].join('\n');
}

/**
 * Asks `question` on `output` and reads one line from `input`: only y or yes (any case) is yes;
 * Enter, anything else, the end of the input or `signal` aborting (the run was stopped meanwhile)
 * is no. The terminal is left in its normal line mode, so that Ctrl-C stays a signal for the run.
 */
export function askYesNo(
  question: string,
  { input, output, signal }: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream; signal?: AbortSignal },
): Promise<boolean> {
  return new Promise((resolve) => {
    const lines = createInterface({ input, output, terminal: false });
    let isAnswered = false;
    const answer = (isYes: boolean): void => {
      if (isAnswered) return;
      isAnswered = true;
      signal?.removeEventListener('abort', onAbort);
      lines.close();
      resolve(isYes);
    };
    const onAbort = (): void => {
      output.write('\n');
      answer(false);
    };
    if (signal?.aborted) return answer(false);
    signal?.addEventListener('abort', onAbort, { once: true });
    lines.on('close', () => answer(false));
    lines.question(question, (text) => answer(/^y(es)?$/i.test(text.trim())));
  });
}

/**
 * The command line's `approve` for `--canary`: prints the canary's rows, then goes on with `--yes`,
 * asks on a terminal, and declines otherwise, saying how to go on.
 */
export function canaryApprover(options: CanaryPromptOptions): CanaryOptions['approve'] {
  const { output } = options;
  return async (canary, signal) => {
    options.beforePrint?.();
    output.write(`${formatCanaryReport(canary)}\n`);
    const rest = `the remaining ${canary.rowsLeft.toLocaleString('en')} ${canary.rowsLeft === 1 ? 'row' : 'rows'}`;
    if (options.yes) {
      output.write(`--yes: going on with ${rest}\n`);
      return true;
    }
    if (!options.canAsk) {
      // enable and disable keep a ledger with --state; the rest of a run resumed from it skips the canary rows.
      const resume = options.command === 'enable' || options.command === 'disable' ? ' (or --resume with --state)' : '';
      output.write(
        `${options.whyNotAsked ?? 'stdin is not a terminal'}; re-run with --yes to go on${resume}; stopping after the canary\n`,
      );
      return false;
    }
    return askYesNo(`Go on with ${rest}? [y/N] `, { input: options.input, output, signal });
  };
}

/**
 * `RunOptions.canary` for the checked `--canary` / `--yes` flags on this process's terminal: asks on
 * stdin when it is a terminal and not the input file (`-`), prints on stderr (stdout may carry the
 * results), and pauses the progress bar, if one is drawn, while it does. Undefined without --canary.
 */
export function canaryOnTerminal(
  command: string,
  settings: Partial<CanarySettings> & { readonly input?: string | undefined },
  terminal: {
    readonly stdin: NodeJS.ReadStream;
    readonly stderr: NodeJS.WritableStream;
    readonly bar: () => ProgressBar | undefined;
  },
): CanaryOptions | undefined {
  if (settings.canaryRows === undefined) return undefined;
  const isInputOnStdin = settings.input === STDIN;
  return {
    rows: settings.canaryRows,
    approve: canaryApprover({
      command,
      yes: settings.yes === true,
      canAsk: terminal.stdin.isTTY === true && !isInputOnStdin,
      whyNotAsked: isInputOnStdin ? 'stdin is the input file, so nobody can be asked there' : undefined,
      input: terminal.stdin,
      output: terminal.stderr,
      beforePrint: () => terminal.bar()?.pause(),
    }),
  };
}
