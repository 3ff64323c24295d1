import { MultiBar, type SingleBar } from 'cli-progress';
import type { LogLevel } from '../log.js';
import type { Outcome } from '../types.js';
import { formatDuration, type RunProgress } from '../output/summary.js';

/** What the terminal gets during a run: a live bar, progress records in the log, or neither. */
export interface TerminalChoice {
  /** A live bar on stderr (a terminal only). */
  readonly bar: boolean;
  /** How often a `progress` info record is logged; undefined: never. */
  readonly progressLogEveryMs: number | undefined;
  readonly logFormat: LogFormat;
  readonly logLevel: LogLevel;
  /**
   * True when the bar is shown: warnings and errors are printed above it; the rest would tear it
   * apart, and go only to `--log-file` if one is given (at `logLevel`), else nowhere.
   */
  readonly logsAboveBar: boolean;
}

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const VERBOSITY: readonly LogLevel[] = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'];
/** The quieter of two levels. */
const quieter = (a: LogLevel, b: LogLevel): LogLevel => (VERBOSITY.indexOf(a) <= VERBOSITY.indexOf(b) ? a : b);

/**
 * Decides, from whether stderr is a terminal and the flags, what a run shows while it goes. Pure:
 * the terminal check is passed in. A terminal gets a bar and readable logs; cron, CI or a pipe get
 * JSON logs with a `progress` record every `progressIntervalSeconds` (0: never).
 */
export function chooseTerminal(facts: {
  readonly isTTY: boolean;
  readonly progress: boolean;
  readonly quiet: boolean;
  readonly progressIntervalSeconds: number;
  readonly logFormat: LogFormat | undefined;
  readonly logFile: string | undefined;
  readonly logLevel: LogLevel;
}): TerminalChoice {
  const showsProgress = facts.progress && !facts.quiet;
  const bar = showsProgress && facts.isTTY;
  const logLevel = facts.quiet ? quieter(facts.logLevel, 'warn') : facts.logLevel;
  const logsAboveBar = bar;
  return {
    bar,
    progressLogEveryMs:
      showsProgress && !facts.isTTY && facts.progressIntervalSeconds > 0
        ? facts.progressIntervalSeconds * 1000
        : undefined,
    logFormat: facts.logFormat ?? (facts.isTTY && facts.logFile === undefined ? 'pretty' : 'json'),
    logLevel: bar && facts.logFile === undefined ? quieter(logLevel, 'warn') : logLevel,
    logsAboveBar,
  };
}

/**
 * The figures of a progress record: the same for the bar and the log. Named are the command's own
 * first outcome (`lead`: `enabled`, `disabled`, `would-enable` …, see outcomeOrderOf), `failed` and
 * `invalid`; the rest are summed as "other".
 */
export function progressFields(progress: RunProgress, lead: Outcome = 'enabled') {
  const count = (outcome: Outcome): number => progress.byOutcome[outcome] ?? 0;
  const all = Object.values(progress.byOutcome).reduce((sum, n) => sum + (n ?? 0), 0);
  return {
    rowsDone: progress.rowsDone,
    rowsTotal: progress.rowsTotal,
    rowsPerSecond: Math.round(progress.rowsPerSecond * 10) / 10,
    etaSeconds: progress.etaSeconds,
    [lead]: count(lead),
    failed: count('failed'),
    invalid: count('invalid'),
    other: all - count(lead) - count('failed') - count('invalid'),
  };
}

/** Where the bar draws: stderr, or a fake terminal in tests. */
export type BarStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** A live bar and the way to print a line above it. */
export interface ProgressBar {
  update(progress: RunProgress): void;
  /** Prints `line` above the bar (a warning, an error). */
  log(line: string): void;
  /**
   * Stops drawing, leaving the bar's last state on screen, so that a question can be asked below it
   * (`--canary`); the next `update` draws a new bar under whatever was printed meanwhile.
   */
  pause(): void;
  stop(): void;
}

const formatFor = (lead: Outcome): string =>
  `{bar} {value}/{total} rows | {speed} rows/s | ETA {etaText} | ${lead} {lead} failed {failed} invalid {invalid} other {other}`;

/** Draws a bar with cli-progress on `stream`, which must be a terminal; `lead` as for progressFields. */
export function startProgressBar(stream: BarStream, rowsTotal: number, lead: Outcome = 'enabled'): ProgressBar {
  // A new MultiBar after a pause: each keeps track of the lines it drew itself, so an old one would
  // move the cursor up over what was printed meanwhile.
  const newBars = () =>
    new MultiBar({
      stream,
      format: formatFor(lead),
      hideCursor: true,
      // The session handles the signals: the bar is stopped in its `finally`.
      gracefulExit: false,
      clearOnComplete: false,
      barsize: 24,
    });
  let bars = newBars();
  const payload = (progress?: RunProgress) => {
    const fields = progress && progressFields(progress, lead);
    return {
      speed: fields ? fields.rowsPerSecond.toLocaleString('en') : '0',
      etaText:
        fields?.etaSeconds === undefined
          ? '?'
          : fields.etaSeconds < 60
            ? `${fields.etaSeconds} s`
            : formatDuration(fields.etaSeconds * 1000),
      lead: fields?.[lead] ?? 0,
      failed: fields?.failed ?? 0,
      invalid: fields?.invalid ?? 0,
      other: fields?.other ?? 0,
    };
  };
  let bar: SingleBar = bars.create(rowsTotal, 0, payload());
  let isStopped = false;
  let isPaused = false;
  const finish = (): void => {
    // A redraw first: MultiBar prints lines logged since the last one only then, and stop() drops them.
    bars.update();
    bars.stop();
  };
  return {
    update: (progress) => {
      if (isStopped) return;
      if (isPaused) {
        // The paused bar stays on screen as a line of its own; this one is drawn afresh below.
        isPaused = false;
        bars = newBars();
        bar = bars.create(rowsTotal, progress.rowsDone, payload(progress));
      }
      bar.update(progress.rowsDone, payload(progress));
    },
    log: (line) => {
      const text = line.endsWith('\n') ? line : `${line}\n`;
      if (isPaused) stream.write(text);
      else bars.log(text);
    },
    pause: () => {
      if (isStopped || isPaused) return;
      isPaused = true;
      finish();
    },
    stop: () => {
      if (isStopped) return;
      isStopped = true;
      if (!isPaused) finish();
    },
  };
}
