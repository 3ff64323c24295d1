import { normaliseBaseUrl } from '../client/base-url.js';
import type { TokenProvider } from '../client/ds100-client.js';
import type { ProxySettings } from '../client/http.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../client/retry-policy.js';
import { usageError } from '../errors.js';
import type { InputFormat } from '../input/input-format.js';
import { DEFAULT_RULES, type ValidationRules } from '../input/validate-row.js';
import { silentLogger, type Logger } from '../log.js';
import type { PaceSample } from '../output/report-timeline.js';
import type { RunProgress } from '../output/summary.js';
import type { StateStore } from '../state/state-store.js';
import type { RowResult } from '../types.js';
import type { CanaryOptions } from './canary.js';

/** Options of every command that talks to the tenant; the CLI flags map onto these one to one. */
export interface RunOptions {
  /** CSV of device/user pairs with a header row. */
  readonly input: string;
  /** The input's separator and encoding (`--delimiter`, `--encoding`). Default: detected separator, UTF-8. */
  readonly inputFormat?: InputFormat | undefined;
  /** Results CSV path, or `-` for stdout. Overwritten. `plan` and `reconcile` may leave it out. */
  readonly out?: string | undefined;
  /** Start a CSV `out` file with a UTF-8 BOM (for Excel). Default true; never on stdout, no effect on `.xlsx`. */
  readonly bom?: boolean | undefined;
  /** The tenant's adminRestApiUrl, e.g. `https://example.access.securid.com/AdminInterface/restapi/`. */
  readonly baseUrl: string;
  readonly tokenProvider: TokenProvider;
  /** Most requests in flight, 1 to 256. Default 4. */
  readonly concurrency?: number;
  /** Most request starts per second, retries included, 0.01 to 100,000. Default 10. */
  readonly rate?: number;
  /**
   * On 429s, tell what kind of limit the tenant has (a rate, a window, requests in flight, or noise)
   * and pace everyone to it (see PacePolicy), climbing back towards `rate` and `concurrency` after a
   * while without 429s. Default true: the vendor publishes no limit, so both are ceilings. With false
   * the pace stays at `rate` and `concurrency`, and 429s are only retried row by row.
   */
  readonly adaptiveRate?: boolean;
  /** Retry timing; `retries` (0 to 50) defaults to 5. Tests shrink the delays. */
  readonly retryPolicy?: Partial<RetryPolicy>;
  /** Deadline of one attempt, 1 ms to 1 hour. Default 30 000 ms. */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
  /** Marks the summary as a simulated run. Default false. */
  readonly simulated?: boolean;
  /** How strict the input checks are (`--serial-length`, `--strict`). Default: 9 digits, not strict. */
  readonly rules?: Partial<ValidationRules>;
  /**
   * Stop the run after this many rows in a row fail in a way no later row can escape (403 even after
   * a token renewal, no token obtainable, an untrusted certificate, the tenant unreachable or silent
   * after every retry, a 404 that is not the API's). Default 3; 0 turns the breaker off.
   */
  readonly maxConsecutiveForbidden?: number;
  /** Stop the run when more than this percentage (0 to 100) of the rows sent so far failed. Default: no limit. */
  readonly maxFailureRate?: number | undefined;
  /** Rows that must have been sent and finished before `maxFailureRate` is judged. Default 100. */
  readonly failureRateMinRows?: number;
  /**
   * Stops the run from outside (Ctrl-C, a deadline): no new row is sent, requests on the wire
   * finish, every remaining row is written `not-attempted`. Abort it with a StopReason as the reason
   * to choose the code and message; any other reason reads as RUN_ABORTED.
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
  /**
   * Told every row's result as it is counted, in the order rows finish (not file order), e.g. to
   * keep the rows an HTML report lists. Must not throw; keep what it holds bounded.
   */
  readonly onResult?: ((result: RowResult) => void) | undefined;
  /**
   * Told, right after each `onResult`, the pace allowed then (requests/s) and the 429 answers since
   * the run began, e.g. for the report's timeline. Must not throw.
   */
  readonly onPace?: ((pace: PaceSample) => void) | undefined;
  /**
   * Told how far the run has come as rows finish, at most every `progressIntervalMs`, and once more
   * when the last row is done. Called from the run itself (no timer of its own): keep it quick, and
   * do not throw. Example: `onProgress: (p) => bar.update(p.rowsDone)`.
   */
  readonly onProgress?: ((progress: RunProgress) => void) | undefined;
  /** Least time between two `onProgress` calls, 0 to a day, in ms. Default 1000. */
  readonly progressIntervalMs?: number | undefined;
  /**
   * Set when `input` is a temporary copy made of this file (the rows `--only-failed` re-runs, see
   * only-failed.ts): messages and the summary name this file, and a copy without rows is a run of
   * nothing rather than an error (every row succeeded last time).
   */
  readonly inputCopyOf?: string | undefined;
  /**
   * Send the first `rows` valid rows, then hold every other row until `approve` says to go on
   * (`--canary N`, `--yes`); see CanaryOptions. Default: no canary.
   * Example: `canary: { rows: 5, approve: async ({ results }) => results.every((r) => r.outcome === 'enabled') }`.
   */
  readonly canary?: CanaryOptions | undefined;
}

export const RUN_DEFAULTS = {
  concurrency: 4,
  rate: 10,
  timeoutMs: 30_000,
  maxConsecutiveForbidden: 3,
  failureRateMinRows: 100,
  adaptiveRate: true,
  progressIntervalMs: 1000,
} as const;

/** RunOptions checked, with every default filled in. */
export interface ResolvedRunOptions extends RunOptions {
  readonly concurrency: number;
  readonly rate: number;
  readonly adaptiveRate: boolean;
  readonly retryPolicy: RetryPolicy;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly rules: ValidationRules;
  readonly maxConsecutiveForbidden: number;
  readonly failureRateMinRows: number;
  readonly progressIntervalMs: number;
}

interface Range {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

/**
 * Checks one number option. The message names the option and its flag, so that it reads right
 * both to a library user and on the command line.
 */
export function expectNumber(name: string, flag: string, value: number, { min, max, integer }: Range): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    const kind = integer ? 'a whole number' : 'a number';
    const range = `from ${min.toLocaleString('en')} to ${max.toLocaleString('en')}`;
    throw usageError(`Expected \`${name}\` (${flag}) to be ${kind} ${range}, got ${String(value)}`);
  }
  return value;
}

/**
 * `maxChanges` (`--max-changes`) checked: a whole number from 0; no limit (infinity) when undefined.
 * Throws Ds100Error USAGE.
 */
export const resolveMaxChanges = (maxChanges: number | undefined): number =>
  maxChanges === undefined
    ? Number.POSITIVE_INFINITY
    : expectNumber('maxChanges', '--max-changes', maxChanges, { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });

/**
 * The options every run that changes the tenant (enable, disable) checks first: a results file
 * (`-`: stdout), and `resume` only with the ledger it resumes from. Throws Ds100Error USAGE.
 */
export function checkChangeRun(options: {
  readonly out: unknown;
  readonly resume?: boolean | undefined;
  readonly state?: unknown;
}): void {
  if (options.resume && !options.state)
    throw usageError('Expected `state` (--state) with `resume`: the ledger of the run to continue');
  if (typeof options.out !== 'string' || options.out === '')
    throw usageError('Expected `out` (--out) to be a file name, or - for stdout');
}

/**
 * Where a run's rows come from, checked: an input file, a plan (`--plan`, for enable and disable) or
 * the failed rows of earlier results (`--only-failed`, for enable and disable), which brings its own
 * rows and so goes with neither of the others. Whether anything names the rows at all is the
 * caller's to say. Throws Ds100Error USAGE.
 */
export function checkRowSources(
  command: string,
  sources: {
    readonly input?: string | undefined;
    readonly plan?: string | undefined;
    readonly onlyFailed?: string | undefined;
  },
): void {
  const { input, plan, onlyFailed } = sources;
  if (command !== 'enable' && command !== 'disable' && (plan !== undefined || onlyFailed !== undefined)) {
    throw usageError(`--plan and --only-failed are for enable and disable, not ${command}`);
  }
  if (onlyFailed === undefined) return;
  if (input !== undefined) {
    throw usageError('Give either an input file or --only-failed RESULTS, not both: the rows come from the results');
  }
  if (plan !== undefined) throw usageError('Give either --plan or --only-failed, not both');
}

/** The numbers that tune a run and the strictness of its input checks: what `checkRunKnobs` checks. */
export type RunKnobs = Pick<
  RunOptions,
  | 'concurrency'
  | 'rate'
  | 'retryPolicy'
  | 'timeoutMs'
  | 'maxConsecutiveForbidden'
  | 'maxFailureRate'
  | 'failureRateMinRows'
  | 'rules'
>;

/**
 * Checks every number of a run, once, for `run()` callers and the command line alike. Throws
 * Ds100Error USAGE with a sentence, never a hang or a bare RangeError further down.
 */
export function checkRunKnobs(knobs: RunKnobs): void {
  const check = (
    name: keyof RunKnobs | 'retryPolicy.retries',
    flag: string,
    value: number | undefined,
    range: Range,
  ) => {
    if (value !== undefined) expectNumber(name, flag, value, range);
  };
  check('concurrency', '--concurrency', knobs.concurrency, { min: 1, max: 256, integer: true });
  check('rate', '--rate', knobs.rate, { min: 0.01, max: 100_000, integer: false });
  check('retryPolicy.retries', '--retries', knobs.retryPolicy?.retries, { min: 0, max: 50, integer: true });
  check('timeoutMs', '--timeout, in seconds', knobs.timeoutMs, { min: 1, max: 3_600_000, integer: false });
  check('maxConsecutiveForbidden', '--max-consecutive-forbidden', knobs.maxConsecutiveForbidden, {
    min: 0,
    max: 1_000_000,
    integer: true,
  });
  check('maxFailureRate', '--max-failure-rate', knobs.maxFailureRate, { min: 0, max: 100, integer: false });
  check('failureRateMinRows', '--failure-rate-min-rows', knobs.failureRateMinRows, {
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    integer: true,
  });
  if (knobs.rules?.serialLength !== undefined) {
    expectNumber('rules.serialLength', '--serial-length', knobs.rules.serialLength, { min: 0, max: 36, integer: true });
  }
}

/** Checks `canary.rows` (`--canary`): a whole number from 1. */
export const checkCanaryRows = (rows: number): number =>
  expectNumber('canary.rows', '--canary', rows, { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true });

/** The input checks' rules, checked, with the defaults filled in: for a run, and for validate alone. */
export function resolveRules(rules: Partial<ValidationRules> | undefined): ValidationRules {
  checkRunKnobs({ rules });
  return { ...DEFAULT_RULES, ...rules };
}

/**
 * Checks the options of a run and fills in the defaults. Throws Ds100Error USAGE before anything is
 * opened or sent.
 */
export function resolveRunOptions(options: RunOptions): ResolvedRunOptions {
  if (typeof options.input !== 'string' || options.input === '') throw usageError('Expected `input` to be a file name');
  if (typeof options.tokenProvider?.getToken !== 'function') {
    throw usageError('Expected `tokenProvider` to be a TokenProvider (see staticTokenProvider, loadCredentials)');
  }
  normaliseBaseUrl(options.baseUrl);
  checkRunKnobs(options);
  if (options.canary !== undefined) {
    checkCanaryRows(options.canary.rows);
    if (typeof options.canary.approve !== 'function') throw usageError('Expected `canary.approve` to be a function');
  }
  return {
    ...options,
    concurrency: options.concurrency ?? RUN_DEFAULTS.concurrency,
    rate: options.rate ?? RUN_DEFAULTS.rate,
    adaptiveRate: options.adaptiveRate ?? RUN_DEFAULTS.adaptiveRate,
    retryPolicy: { ...DEFAULT_RETRY_POLICY, ...options.retryPolicy },
    timeoutMs: options.timeoutMs ?? RUN_DEFAULTS.timeoutMs,
    logger: options.logger ?? silentLogger,
    rules: resolveRules(options.rules),
    maxConsecutiveForbidden: options.maxConsecutiveForbidden ?? RUN_DEFAULTS.maxConsecutiveForbidden,
    failureRateMinRows: options.failureRateMinRows ?? RUN_DEFAULTS.failureRateMinRows,
    progressIntervalMs:
      options.progressIntervalMs === undefined
        ? RUN_DEFAULTS.progressIntervalMs
        : expectNumber('progressIntervalMs', '--progress-interval, in seconds', options.progressIntervalMs, {
            min: 0,
            max: 86_400_000,
            integer: false,
          }),
  };
}
