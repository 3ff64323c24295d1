import type { InferredOptionTypes, Options } from 'yargs';
import type { CredentialSource } from '../auth/credentials.js';
import { DEFAULT_RETRY_POLICY } from '../client/retry-policy.js';
import { usageError } from '../errors.js';
import { resolveInputFormat, type InputFormat } from '../input/input-format.js';
import { DEFAULT_RULES, type ValidationRules } from '../input/validate-row.js';
import { LOG_LEVELS, type LogLevel } from '../log.js';
import { LOG_FORMATS, type LogFormat } from './progress.js';
import {
  checkCanaryRows,
  checkRowSources,
  checkRunKnobs,
  expectNumber,
  resolveMaxChanges,
  RUN_DEFAULTS,
  type RunKnobs,
} from '../pipeline/run-options.js';
import { LIMITER_KINDS } from '../simulator/limiters.js';

/**
 * Every command's flags, declared once as tables: yargs reads them (and prints them in --help), the
 * flag types are inferred from them, and one pure check per command turns parsed flags into the
 * library's options. Range checks of numbers are the library's (`checkRunKnobs`): one check, used by
 * `run()` callers and the command line alike.
 */

/** Parsed flags of a command whose table is `T`, plus its `<input>` positional. */
export type FlagsOf<T extends Record<string, Options>> = InferredOptionTypes<T> & { readonly input: string };
type Env = Readonly<Record<string, string | undefined>>;

// nargs 1 lets `--out -` (stdout) through; yargs would otherwise read the bare - as a positional.
const outFlag = (describe: string) => ({ type: 'string', nargs: 1, describe }) as const;

// Next to --out in every table that has one: it is about that file.
const BOM_FLAG = {
  bom: {
    type: 'boolean',
    default: true,
    describe: 'Start a CSV --out file with a UTF-8 BOM, so Excel reads accents right (never on stdout; --no-bom: none)',
  },
} as const satisfies Record<string, Options>;

const VALIDATION_FLAGS = {
  'serial-length': {
    type: 'number',
    default: DEFAULT_RULES.serialLength,
    describe: 'Digits a DS100 serial should have; other lengths are warned about (0: no length check)',
  },
  strict: {
    type: 'boolean',
    default: DEFAULT_RULES.strict,
    describe: 'Treat warnings (e.g. SERIAL_LENGTH) as errors: such rows are invalid and never sent',
  },
} as const satisfies Record<string, Options>;

/** How the input file is read: in every command that reads one. */
export const INPUT_FORMAT_FLAGS = {
  delimiter: {
    type: 'string',
    nargs: 1,
    describe: 'The separator between values: , ; tab or | (default: found from the header, a comma on a tie)',
  },
  encoding: {
    type: 'string',
    default: 'utf-8',
    describe: 'The input\'s encoding: utf-8, windows-1252 (Excel\'s "ANSI"), latin1 or utf-16le; outputs stay UTF-8',
  },
} as const satisfies Record<string, Options>;

/** The checked `--delimiter` and `--encoding`, as the library takes them. Pure. */
export function checkInputFormatFlags(flags: Partial<InferredOptionTypes<typeof INPUT_FORMAT_FLAGS>>): InputFormat {
  const format = { delimiter: flags.delimiter, encoding: flags.encoding };
  resolveInputFormat(format);
  return format;
}

const REPORT_FLAG = {
  report: {
    type: 'string',
    describe:
      'Write a self-contained HTML report here at the end: counts, charts, a searchable table of the rows to fix',
  },
} as const satisfies Record<string, Options>;

export const VALIDATE_FLAGS = {
  out: outFlag('Report CSV to write (overwritten), one line per row; - for stdout'),
  ...BOM_FLAG,
  ...INPUT_FORMAT_FLAGS,
  ...VALIDATION_FLAGS,
  ...REPORT_FLAG,
} as const satisfies Record<string, Options>;

/** Where requests go, with which credentials, how fast, and when to give up: every command that sends. */
const TENANT_FLAGS = {
  'base-url': { type: 'string', describe: "The tenant's adminRestApiUrl [env: DS100_BASE_URL]" },
  concurrency: { type: 'number', default: RUN_DEFAULTS.concurrency, describe: 'Most requests in flight' },
  rate: {
    type: 'number',
    default: RUN_DEFAULTS.rate,
    describe: 'Most request starts per second, retries included, evenly spaced',
  },
  'adaptive-rate': {
    type: 'boolean',
    default: RUN_DEFAULTS.adaptiveRate,
    describe:
      "On 429s, pace everyone to the tenant's kind of limit (rate, window, in flight) and climb back up " +
      '(--no-adaptive-rate: fixed pace)',
  },
  retries: {
    type: 'number',
    default: DEFAULT_RETRY_POLICY.retries,
    describe: 'Retries after a 429, 5xx, timeout or network error',
  },
  timeout: { type: 'number', default: RUN_DEFAULTS.timeoutMs / 1000, describe: 'Seconds one attempt may take' },
  simulate: {
    type: 'boolean',
    default: false,
    describe: 'Run against the built-in simulated tenant (nothing real is touched)',
  },
  'simulate-tenant': {
    type: 'string',
    describe: 'With --simulate: CSV of the pairs registered on the simulated tenant (default: every pair in the input)',
  },
  'simulate-users': {
    type: 'string',
    describe:
      'With --simulate: CSV of the users (email,userId) the simulated tenant finds by email (default: every ' +
      'well-formed address, with an ID derived from it)',
  },
  'log-file': { type: 'string', describe: 'Write JSON logs here instead of stderr' },
  'log-level': { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'Log detail; debug logs every row' },
  'log-format': {
    choices: LOG_FORMATS,
    describe: 'Logs as JSON, or pretty (one readable line each); default: pretty on a terminal without --log-file',
  },
  progress: {
    type: 'boolean',
    default: true,
    describe: 'Show progress: a live bar on a terminal, else a "progress" log record (--no-progress: neither)',
  },
  'progress-interval': {
    type: 'number',
    default: 30,
    describe: 'Seconds between "progress" log records when stderr is no terminal; 0: never',
  },
  quiet: { type: 'boolean', default: false, describe: 'No progress, and logs from warn up only' },
  'key-file': {
    type: 'string',
    describe: "The console's API key file (<uuid>.key); tokens are minted and renewed from it [env: DS100_KEY_FILE]",
  },
  'oauth-client': {
    type: 'string',
    describe: 'OAuth API client file (clientId, issuer, privateKey) [env: DS100_OAUTH_CLIENT]',
  },
  'max-consecutive-forbidden': {
    type: 'number',
    default: RUN_DEFAULTS.maxConsecutiveForbidden,
    describe:
      'Stop the run (exit 3) after this many rows in a row fail in a way no later row escapes: 403 despite a ' +
      'fresh token, the tenant unreachable or silent, a 404 that is not the API; 0: never',
  },
  'max-failure-rate': {
    type: 'number',
    describe: 'Stop the run (exit 3) when more than this percentage of the rows sent so far failed (default: no limit)',
  },
  'failure-rate-min-rows': {
    type: 'number',
    default: RUN_DEFAULTS.failureRateMinRows,
    describe: 'Rows sent before --max-failure-rate is judged',
  },
  ...VALIDATION_FLAGS,
  ...REPORT_FLAG,
  'summary-json': { type: 'string', describe: 'Write a machine-readable summary here at the end, for monitoring' },
  'metrics-file': {
    type: 'string',
    describe:
      "Write the run's metrics here at the end in Prometheus text format, for node_exporter's textfile collector",
  },
  'max-runtime': {
    type: 'string',
    describe: 'End the run after this long (e.g. 45m, 1h30m) as Ctrl-C would: in-flight rows finish (exit 6)',
  },
} as const satisfies Record<string, Options>;

/**
 * `--canary N` and `--yes`, for every command that changes the tenant (spread into its table; the
 * checked values come from checkCanaryFlags).
 */
export const CANARY_FLAGS = {
  canary: {
    type: 'number',
    describe:
      'Send the first N valid rows, show their outcomes, then ask whether to go on (no terminal and no --yes: ' +
      'stop there, exit 8). A canary row failing for a reason not its own (403, network, 5xx) stops the run (exit 3)',
  },
  yes: {
    type: 'boolean',
    alias: 'y',
    default: false,
    describe: 'With --canary: go on after the canary without asking (for jobs without a terminal)',
  },
} as const satisfies Record<string, Options>;

const STATE_FLAG = {
  type: 'string',
  describe: "State ledger (created if missing): each pair's latest outcome; <file>.lock keeps a second run out",
} as const;

const UNDO_FILE_FLAG = {
  'undo-file': {
    type: 'string',
    nargs: 1,
    describe:
      'Undo file: one line per credential this run changed, in the input format (appended to if it exists ' +
      'with the same header). Default: <out>.undo.csv',
  },
} as const satisfies Record<string, Options>;

/** Where an enable's or disable's rows come from besides an input file: a reviewed plan, or earlier results. */
export const ROWS_FROM_FLAGS = {
  plan: {
    type: 'string',
    describe:
      'Apply a reviewed plan (plan --out plan.csv): send only its would-enable (would-disable) rows; refused ' +
      '(exit 2) if the plan was edited or the input changed since. The input may be left out: the plan names it',
  },
  'only-failed': {
    type: 'string',
    describe:
      'Re-run the rows of an earlier results file that did not succeed (failed, unknown, invalid, ' +
      'not-attempted …), with their own columns; give no input file',
  },
} as const satisfies Record<string, Options>;

export const ENABLE_FLAGS = {
  out: { ...outFlag('Results CSV to write (overwritten); - for stdout'), demandOption: true },
  ...BOM_FLAG,
  ...INPUT_FORMAT_FLAGS,
  ...TENANT_FLAGS,
  'dry-run': {
    type: 'boolean',
    default: false,
    describe: 'Only check the file, as `validate` does (--out gets the report); no network, no token needed',
  },
  state: STATE_FLAG,
  resume: {
    type: 'boolean',
    default: false,
    describe: 'With --state: continue an interrupted run; rows the ledger records as enabled are not sent again',
  },
  ...ROWS_FROM_FLAGS,
  ...CANARY_FLAGS,
  ...UNDO_FILE_FLAG,
} as const satisfies Record<string, Options>;

export const DISABLE_FLAGS = {
  out: { ...outFlag('Results CSV to write (overwritten); - for stdout'), demandOption: true },
  ...BOM_FLAG,
  ...INPUT_FORMAT_FLAGS,
  ...TENANT_FLAGS,
  state: STATE_FLAG,
  resume: {
    type: 'boolean',
    default: false,
    describe: 'With --state: continue an interrupted run; rows the ledger records as disabled are not sent again',
  },
  'max-changes': {
    type: 'number',
    describe:
      'Send at most N disable requests in this run; the rest are not-attempted (exit 5). A guard against a wrong file',
  },
  ...UNDO_FILE_FLAG,
  ...ROWS_FROM_FLAGS,
  ...CANARY_FLAGS,
} as const satisfies Record<string, Options>;

export const PLAN_FLAGS = {
  out: outFlag('Plan CSV to write (overwritten), one line per row; - for stdout'),
  ...BOM_FLAG,
  ...INPUT_FORMAT_FLAGS,
  ...TENANT_FLAGS,
  action: {
    choices: ['enable', 'disable'] as const,
    default: 'enable' as 'enable' | 'disable',
    describe: 'Which run to preview: enable, or disable (would-disable / already-disabled)',
  },
} as const satisfies Record<string, Options>;

export const RECONCILE_FLAGS = {
  out: outFlag('Results CSV to write (overwritten), one line per row; - for stdout'),
  ...BOM_FLAG,
  ...INPUT_FORMAT_FLAGS,
  ...TENANT_FLAGS,
  state: { ...STATE_FLAG, demandOption: true },
  recheck: {
    type: 'boolean',
    default: false,
    describe: 'Look up pairs the ledger calls enabled again (read-only) instead of trusting it',
  },
  'max-changes': {
    type: 'number',
    describe:
      'Enable at most N credentials in this run; the rest are not-attempted (exit 5). A guard against a wrong file',
  },
  ...CANARY_FLAGS,
  ...UNDO_FILE_FLAG,
} as const satisfies Record<string, Options>;

export const SIMULATE_FLAGS = {
  port: { type: 'number', default: 0, describe: 'Port (0 picks a free one)' },
  host: { type: 'string', default: '127.0.0.1' },
  tenant: { type: 'string', describe: 'CSV of registered pairs (default: any well-formed pair is registered)' },
  users: {
    type: 'string',
    describe:
      'CSV of the users (email,userId) POST v1/users/lookup finds (default: every well-formed address, with an ID derived from it)',
  },
  latency: { type: 'number', default: 0, describe: 'Milliseconds added to every answer' },
  'rate-limit': {
    type: 'number',
    describe: 'Requests per second before answering 429 with Retry-After (short for --limiter bucket --limit N)',
  },
  burst: {
    type: 'number',
    describe:
      'With --rate-limit or --limiter bucket: requests accepted at once before the limit bites (default: --limit)',
  },
  limiter: {
    choices: LIMITER_KINDS,
    describe:
      "The tenant's kind of rate limit, answered 429: bucket (token bucket, --limit per --window, a burst of " +
      '--burst), sliding (at most --limit in any rolling --window), fixed (at most --limit per fixed --window ' +
      'from the first request), concurrency (at most --limit requests in flight; no Retry-After)',
  },
  limit: { type: 'number', describe: 'With --limiter: requests per --window, or in flight for concurrency' },
  window: { type: 'number', describe: 'With --limiter bucket, sliding or fixed: the window in seconds (default 1)' },
  'limit-schedule': {
    type: 'string',
    describe:
      'With --limiter: the limit changes mid-run, as SECONDS:LIMIT pairs counted from the first request, ' +
      'e.g. 0:50,10:100 (one that starts at 0 takes the place of --limit)',
  },
  'random-429': {
    type: 'number',
    describe:
      'Share (0 to 1) of the requests the limit lets through (all, without one) answered 429 anyway, ' +
      'Retry-After: 1, drawn from --seed: noise with no limit behind it',
  },
  'error-rate': { type: 'number', default: 0, describe: 'Share of requests answered 500, 0 to 1' },
  fault: {
    type: 'string',
    array: true,
    describe:
      'KIND=SHARE, repeatable: a share (0 to 1) of DS100 requests meets this fault, drawn from --seed. ' +
      'Nothing is changed by: reset-before-change (connection reset), proxy-html-502 (an HTML 502 page), ' +
      'throttle-seconds / throttle-date / throttle-no-retry-after / throttle-absurd (429 with Retry-After in ' +
      'seconds, as an HTTP-date, none, or 86400), error-burst (this and the next --error-burst-length - 1 ' +
      'requests answered 500). The change is made, then: reset-after-change (connection reset), ' +
      'hang-after-change (no answer ever), empty-ok / object-ok / other-device-ok (200 with an empty body, ' +
      'a JSON object, or an array about another device; a 404 is sent as is)',
  },
  seed: {
    type: 'number',
    default: 1,
    describe: 'Seeds --error-rate, --fault and --random-429: the same seed and order of requests, the same faults',
  },
  'error-burst-length': { type: 'number', default: 5, describe: 'Requests in a row an error-burst answers 500' },
  'throttle-retry-after': {
    type: 'number',
    default: 1,
    describe: 'Seconds the throttle-seconds and throttle-date faults ask to wait',
  },
  'outage-after': {
    type: 'number',
    array: true,
    describe:
      'Go away when the request after this many arrives (listener and every connection closed), then listen ' +
      'again on the same port after --outage-ms; repeatable',
  },
  'outage-ms': { type: 'number', default: 1000, describe: 'How long each --outage-after outage lasts, in ms' },
  stateless: {
    type: 'boolean',
    default: false,
    describe: 'Without --tenant: answer every pair as registered but keep nothing (flat memory, for benchmarks)',
  },
  token: { type: 'string', describe: 'Bearer token to accept [env: DS100_TOKEN] (default: random)' },
  'key-file': { type: 'string', describe: 'Also accept JWTs minted from this API key file' },
} as const satisfies Record<string, Options>;

export const TOKEN_FLAGS = {
  'key-file': { type: 'string', describe: "The console's API key file [env: DS100_KEY_FILE]" },
  'oauth-client': { type: 'string', describe: 'OAuth API client file [env: DS100_OAUTH_CLIENT]' },
} as const satisfies Record<string, Options>;

export type ValidateFlags = FlagsOf<typeof VALIDATE_FLAGS>;
export type EnableFlags = FlagsOf<typeof ENABLE_FLAGS>;
export type PlanFlags = FlagsOf<typeof PLAN_FLAGS>;
export type DisableFlags = FlagsOf<typeof DISABLE_FLAGS>;
export type ReconcileFlags = FlagsOf<typeof RECONCILE_FLAGS>;
export type SimulateFlags = InferredOptionTypes<typeof SIMULATE_FLAGS>;
export type TokenFlags = InferredOptionTypes<typeof TOKEN_FLAGS>;
type TenantFlags = FlagsOf<typeof TENANT_FLAGS> &
  FlagsOf<typeof BOM_FLAG> &
  FlagsOf<typeof INPUT_FORMAT_FLAGS> & { readonly out?: string | undefined; readonly state?: string };

/**
 * Reads a duration such as `90s`, `45m`, `1h30m` or `2h` (for --max-runtime) into milliseconds.
 * Returns undefined for anything else, so that the caller can name the flag in its message.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  if (!match || text.trim() === '') return undefined;
  const [, hours = '0', minutes = '0', seconds = '0'] = match;
  const ms = ((Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000;
  return ms > 0 ? ms : undefined;
}

/**
 * The checked `validate` flags (also `enable --dry-run`). Pure: that --out is not the input is
 * checked on the files themselves, by `validate()` (see output/file-clashes.ts).
 */
export function checkValidateFlags(
  flags: FlagsOf<typeof VALIDATION_FLAGS> &
    FlagsOf<typeof BOM_FLAG> &
    Partial<InferredOptionTypes<typeof INPUT_FORMAT_FLAGS>> & {
      readonly out?: string | undefined;
      readonly report?: string | undefined;
    },
): {
  input: string;
  inputFormat: InputFormat;
  out: string | undefined;
  bom: boolean;
  rules: ValidationRules;
  report: string | undefined;
} {
  const rules = { serialLength: flags['serial-length'], strict: flags.strict };
  checkRunKnobs({ rules });
  return {
    input: flags.input,
    inputFormat: checkInputFormatFlags(flags),
    out: flags.out,
    bom: flags.bom,
    rules,
    report: flags.report,
  };
}

/**
 * Picks the one credential source from flags and environment. Two at once is refused rather than
 * ranked: a forgotten DS100_TOKEN silently winning over --key-file (or the reverse) is the kind of
 * surprise that costs an afternoon. With --simulate, DS100_TOKEN is ignored (the simulator has its own).
 */
export function toCredentialSource(
  flags: { 'key-file'?: string | undefined; 'oauth-client'?: string | undefined; simulate?: boolean },
  env: Env,
): CredentialSource | undefined {
  const given: Array<{ name: string; source: CredentialSource }> = [];
  const keyFile = flags['key-file'] ?? (env['DS100_KEY_FILE'] || undefined);
  const oauthClient = flags['oauth-client'] ?? (env['DS100_OAUTH_CLIENT'] || undefined);
  const token = flags.simulate ? undefined : env['DS100_TOKEN'] || undefined;
  if (keyFile !== undefined) {
    given.push({
      name: flags['key-file'] ? '--key-file' : 'DS100_KEY_FILE',
      source: { kind: 'key-file', file: keyFile },
    });
  }
  if (oauthClient !== undefined) {
    given.push({
      name: flags['oauth-client'] ? '--oauth-client' : 'DS100_OAUTH_CLIENT',
      source: { kind: 'oauth-client', file: oauthClient },
    });
  }
  if (token !== undefined) given.push({ name: 'DS100_TOKEN', source: { kind: 'token', token } });
  if (given.length > 1) {
    throw usageError(`Give one way to authenticate, got ${given.map((g) => g.name).join(' and ')}; drop all but one`);
  }
  return given[0]?.source;
}

/** What a command that talks to the tenant needs, checked: the session's options less logger, proxy and signals. */
export interface TenantSettings extends RunKnobs {
  /** Undefined only for `enable --plan` (the plan names it) and `enable --only-failed`. */
  readonly input: string | undefined;
  readonly inputFormat: InputFormat;
  readonly out: string | undefined;
  readonly bom: boolean;
  /** Explicit base URL; when undefined the credentials' adminRestApiUrl is used (or the simulator's). */
  readonly baseUrl: string | undefined;
  /** Where tokens come from; undefined only with --simulate and no key file (the simulator's token). */
  readonly credentials: CredentialSource | undefined;
  readonly simulate: boolean;
  readonly simulateTenant: string | undefined;
  readonly simulateUsers: string | undefined;
  readonly adaptiveRate: boolean;
  readonly logFile: string | undefined;
  readonly logLevel: LogLevel;
  /** Undefined: chosen by whether stderr is a terminal (chooseTerminal). */
  readonly logFormat: LogFormat | undefined;
  readonly progress: boolean;
  readonly progressIntervalSeconds: number;
  readonly quiet: boolean;
  readonly state: string | undefined;
  readonly summaryJson: string | undefined;
  readonly metricsFile: string | undefined;
  readonly report: string | undefined;
  readonly maxRuntimeMs: number | undefined;
}

/**
 * Checks the flags shared by every command that talks to the tenant, with the environment, and
 * rejects what conflicts. Pure: `env` is passed in. The token only ever comes from the environment:
 * arguments leak into shell history and `ps`. Whether an output is an input is a question for the
 * files themselves, asked before anything is opened (sessionFiles and checkFileClashes).
 */
function checkTenantFlags(flags: TenantFlags, env: Env): TenantSettings {
  const baseUrl = flags['base-url'] ?? (env['DS100_BASE_URL'] || undefined);
  const credentials = toCredentialSource(flags, env);
  if (flags.simulate && flags['base-url'] !== undefined) {
    throw usageError('--simulate and --base-url conflict: a run goes either to the simulator or to a tenant');
  }
  if (flags['simulate-tenant'] !== undefined && !flags.simulate) {
    throw usageError('--simulate-tenant only makes sense with --simulate');
  }
  if (flags['simulate-users'] !== undefined && !flags.simulate) {
    throw usageError('--simulate-users only makes sense with --simulate');
  }
  if (
    !flags.simulate &&
    baseUrl === undefined &&
    credentials?.kind !== 'key-file' &&
    credentials?.kind !== 'oauth-client'
  ) {
    throw usageError(
      'No tenant given: set --base-url or DS100_BASE_URL to the adminRestApiUrl, or pass --simulate to try the built-in simulator',
    );
  }
  if (!flags.simulate && credentials === undefined) {
    throw usageError(
      "No credentials: pass --key-file with the console's API key file, or --oauth-client, or set DS100_TOKEN " +
        '(never pass a token as an argument)',
    );
  }
  if (flags.simulate && credentials?.kind === 'oauth-client') {
    throw usageError('--oauth-client cannot be used with --simulate: its issuer is a real tenant');
  }
  const maxRuntime = flags['max-runtime'];
  const maxRuntimeMs = maxRuntime === undefined ? undefined : parseDuration(maxRuntime);
  if (maxRuntime !== undefined && maxRuntimeMs === undefined) {
    throw usageError(`Expected --max-runtime to be a duration such as 90s, 45m or 1h30m, got "${maxRuntime}"`);
  }
  const knobs: RunKnobs = {
    concurrency: flags.concurrency,
    rate: flags.rate,
    retryPolicy: { retries: flags.retries },
    timeoutMs: flags.timeout * 1000,
    maxConsecutiveForbidden: flags['max-consecutive-forbidden'],
    maxFailureRate: flags['max-failure-rate'],
    failureRateMinRows: flags['failure-rate-min-rows'],
    rules: { serialLength: flags['serial-length'], strict: flags.strict },
  };
  checkRunKnobs(knobs);
  return {
    ...knobs,
    input: flags.input,
    inputFormat: checkInputFormatFlags(flags),
    out: flags.out,
    bom: flags.bom,
    baseUrl: flags.simulate ? undefined : baseUrl,
    credentials,
    simulate: flags.simulate,
    simulateTenant: flags['simulate-tenant'],
    simulateUsers: flags['simulate-users'],
    adaptiveRate: flags['adaptive-rate'],
    logFile: flags['log-file'],
    logLevel: flags['log-level'],
    logFormat: flags['log-format'],
    progress: flags.progress,
    progressIntervalSeconds: expectNumber(
      'progressIntervalMs',
      '--progress-interval, in seconds',
      flags['progress-interval'],
      {
        min: 0,
        max: 86_400,
        integer: false,
      },
    ),
    quiet: flags.quiet,
    state: flags.state,
    summaryJson: flags['summary-json'],
    metricsFile: flags['metrics-file'],
    report: flags.report,
    maxRuntimeMs,
  };
}

/** The checked `--canary` and `--yes`: what the command line turns into `RunOptions.canary`. */
export interface CanarySettings {
  /** Rows the canary is; undefined: no canary. */
  readonly canaryRows: number | undefined;
  /** Go on after the canary without asking. */
  readonly yes: boolean;
}

/** Checks `--canary N` (a whole number from 1) and `--yes` (only with --canary). Pure. */
export function checkCanaryFlags(flags: InferredOptionTypes<typeof CANARY_FLAGS>): CanarySettings {
  const rows = flags.canary;
  if (rows === undefined && flags.yes) throw usageError('--yes only makes sense with --canary N');
  return { canaryRows: rows === undefined ? undefined : checkCanaryRows(rows), yes: flags.yes };
}

/** --undo-file, checked: a file, never stdout (the results may be there). Pure. */
function checkUndoFileFlag(undoFile: string | undefined): string | undefined {
  if (undoFile === '-' || undoFile === '') {
    throw usageError(`Expected --undo-file to be a file name, got "${undoFile}"`);
  }
  return undoFile;
}

/** Where the rows of an enable or disable come from: an input file, a plan, or earlier results. */
export interface RowSources {
  /** Undefined with --only-failed, and with --plan when the plan's own input is meant. */
  readonly input: string | undefined;
  readonly plan: string | undefined;
  readonly onlyFailed: string | undefined;
}

/** The checked flags of an enable or a disable. */
type ChangeSettings = TenantSettings &
  CanarySettings &
  RowSources & { readonly out: string; readonly resume: boolean; readonly undoFile: string | undefined };

/**
 * The flags enable and disable share, checked; `--max-changes`, which only disable has, is checked
 * after --resume and before the others. Pure.
 */
function checkChangeFlags(
  flags: Omit<EnableFlags, 'dry-run'> & { readonly 'max-changes'?: number | undefined },
  env: Env,
  command: 'enable' | 'disable',
): ChangeSettings {
  if (flags.resume && flags.state === undefined) {
    throw usageError('--resume needs --state FILE: the ledger of the run to continue');
  }
  resolveMaxChanges(flags['max-changes']);
  const undoFile = checkUndoFileFlag(flags['undo-file']);
  const tenant = checkTenantFlags(flags, env);
  const canary = checkCanaryFlags(flags);
  // The input positional is optional: --plan names its input, --only-failed brings its rows.
  const { input, plan } = flags;
  const onlyFailed = flags['only-failed'];
  checkRowSources(command, { input, plan, onlyFailed });
  if (input === undefined && onlyFailed === undefined && plan === undefined) {
    throw usageError(
      `Name the input file: ds100-bulk ${command} <input> --out results.csv (or --plan / --only-failed)`,
    );
  }
  return { ...tenant, ...canary, input, plan, onlyFailed, out: flags.out, resume: flags.resume, undoFile };
}

/** The checked `enable` flags. Pure. */
export const checkEnableFlags = (flags: EnableFlags, env: Env): ChangeSettings =>
  checkChangeFlags(flags, env, 'enable');

/** The checked `disable` flags: enable's, plus --max-changes. Pure. */
export const checkDisableFlags = (
  flags: DisableFlags,
  env: Env,
): ChangeSettings & { readonly maxChanges: number | undefined } => ({
  ...checkChangeFlags(flags, env, 'disable'),
  maxChanges: flags['max-changes'],
});

/** The checked `plan` flags: the same tenant, auth and pacing checks as enable; `--out` may be left out. Pure. */
export function checkPlanFlags(flags: PlanFlags, env: Env): TenantSettings & { readonly action: 'enable' | 'disable' } {
  return { ...checkTenantFlags(flags, env), action: flags.action };
}

/** The checked `reconcile` flags: plan's, plus the state ledger and the limits. Pure. */
export function checkReconcileFlags(
  flags: ReconcileFlags,
  env: Env,
): TenantSettings &
  CanarySettings & {
    readonly state: string;
    readonly recheck: boolean;
    readonly maxChanges: number | undefined;
    readonly undoFile: string | undefined;
  } {
  const maxChanges = flags['max-changes'];
  resolveMaxChanges(maxChanges);
  const undoFile = checkUndoFileFlag(flags['undo-file']);
  return {
    ...checkTenantFlags(flags, env),
    ...checkCanaryFlags(flags),
    state: flags.state,
    recheck: flags.recheck,
    maxChanges,
    undoFile,
  };
}
