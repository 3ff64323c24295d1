import { resolve } from 'node:path';
import type { Options } from 'yargs';
import { usageError } from '../errors.js';
import { LOG_LEVELS, type LogLevel } from '../log.js';
import { RUN_DEFAULTS, type RunOptions } from '../pipeline/run-rows.js';
import { DEFAULT_RETRY_POLICY } from '../client/retry-policy.js';
import type { CredentialSource } from '../auth/credentials.js';
import { DEFAULT_RULES, type ValidationRules } from '../input/validate-row.js';
import { parseDuration } from '../state/duration.js';

/** Flags of the input checks, shared by enable, validate and plan (one set of rules). */
export const VALIDATION_FLAGS = {
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

/** The `validate` command's flags. */
export const VALIDATE_FLAGS = {
  out: { type: 'string', describe: 'Report CSV to write (overwritten), one line per row; - for stdout' },
  ...VALIDATION_FLAGS,
} as const satisfies Record<string, Options>;

/** What the CLI parsed for `validate` (and `enable --dry-run`). */
export interface ValidateFlags {
  input: string;
  out?: string | undefined;
  serialLength: number;
  strict: boolean;
}

/** Checks the validate flags. Pure. */
export function toValidateSettings(flags: ValidateFlags): {
  input: string;
  out: string | undefined;
  rules: ValidationRules;
} {
  if (flags.out !== undefined && flags.out !== '-' && resolve(flags.out) === resolve(flags.input)) {
    throw usageError(`--out must not be the input file (${flags.input}): it would be overwritten`);
  }
  return {
    input: flags.input,
    out: flags.out,
    rules: {
      serialLength: expectNumber('serial-length', flags.serialLength, { min: 0, max: 36, integer: true }),
      strict: flags.strict,
    },
  };
}

/** Flags of runs that keep state across runs or answer to cron (enable, reconcile; plan takes the last two). */
export const STATE_FLAGS = {
  state: {
    type: 'string',
    describe: "State ledger (created if missing): each pair's latest outcome; <file>.lock keeps a second run out",
  },
  'summary-json': { type: 'string', describe: 'Write a machine-readable summary here at the end, for monitoring' },
  'max-runtime': {
    type: 'string',
    describe: 'End the run after this long (e.g. 45m, 1h30m) as Ctrl-C would: in-flight rows finish (exit 6)',
  },
} as const satisfies Record<string, Options>;

/** The `enable` command's flags, declared once: yargs reads this table and `toEnableSettings` maps it. */
export const ENABLE_FLAGS = {
  // nargs 1 lets `--out -` (stdout) through; yargs would otherwise read the bare - as a positional.
  out: { type: 'string', nargs: 1, describe: 'Results CSV to write (overwritten); - for stdout', demandOption: true },
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
    describe: 'Slow down for everyone on a 429 and creep back up to --rate (--no-adaptive-rate: fixed pace)',
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
  'log-file': { type: 'string', describe: 'Write JSON logs here instead of stderr' },
  'log-level': { choices: LOG_LEVELS, default: 'info', describe: 'Log detail; debug logs every row' },
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
      'Stop the run (exit 3) after this many rows in a row are refused with 403 despite a fresh token; 0: never',
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
  'dry-run': {
    type: 'boolean',
    default: false,
    describe: 'Only check the file, as `validate` does (--out gets the report); no network, no token needed',
  },
  ...STATE_FLAGS,
  resume: {
    type: 'boolean',
    default: false,
    describe: 'With --state: continue an interrupted run; rows the ledger records as enabled are not sent again',
  },
} as const satisfies Record<string, Options>;

/** The `plan` command's flags: enable's, with --out optional and no --dry-run (plan is read-only anyway). */
export const PLAN_FLAGS = {
  ...Object.fromEntries(
    Object.entries(ENABLE_FLAGS).filter(([name]) => !['dry-run', 'state', 'resume'].includes(name)),
  ),
  out: { type: 'string', describe: 'Plan CSV to write (overwritten), one line per row; - for stdout' },
} as Omit<typeof ENABLE_FLAGS, 'dry-run' | 'out' | 'state' | 'resume'> & {
  readonly out: { readonly type: 'string'; readonly describe: string };
};

/** The `reconcile` command's flags: plan's (read-only lookups, same auth and pacing) plus state and limits. */
export const RECONCILE_FLAGS = {
  ...PLAN_FLAGS,
  out: { type: 'string', describe: 'Results CSV to write (overwritten), one line per row; - for stdout' },
  state: { ...STATE_FLAGS.state, demandOption: true },
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
} as const satisfies Record<string, Options>;

/** What the CLI parsed, before it is checked. */
export interface EnableFlags {
  input: string;
  out: string;
  baseUrl?: string | undefined;
  concurrency: number;
  rate: number;
  adaptiveRate?: boolean | undefined;
  retries: number;
  timeout: number;
  simulate: boolean;
  simulateTenant?: string | undefined;
  logFile?: string | undefined;
  logLevel: string;
  keyFile?: string | undefined;
  oauthClient?: string | undefined;
  maxConsecutiveForbidden: number;
  maxFailureRate?: number | undefined;
  failureRateMinRows: number;
  serialLength: number;
  strict: boolean;
  dryRun?: boolean | undefined;
  state?: string | undefined;
  resume?: boolean | undefined;
  summaryJson?: string | undefined;
  maxRuntime?: string | undefined;
}

/** What the CLI parsed for `plan`. */
export type PlanFlags = Omit<EnableFlags, 'out' | 'dryRun' | 'state' | 'resume'> & { out?: string | undefined };

/** What the CLI parsed for `reconcile`. */
export type ReconcileFlags = PlanFlags & { state: string; recheck: boolean; maxChanges?: number | undefined };

/** Checked settings: run options less the parts the CLI builds (token provider, base URL when simulated). */
export interface EnableSettings extends Omit<
  RunOptions,
  'tokenProvider' | 'baseUrl' | 'logger' | 'retryPolicy' | 'simulated' | 'signal' | 'proxy' | 'rules' | 'state'
> {
  /** The state ledger's path (the CLI opens and locks it). */
  readonly state: string | undefined;
  readonly summaryJson: string | undefined;
  readonly maxRuntimeMs: number | undefined;
  /** Explicit base URL; when undefined the key file's adminRestApiUrl is used (or the simulator's). */
  readonly baseUrl: string | undefined;
  readonly token: string | undefined;
  /** Where tokens come from; undefined only with --simulate and no key file (the simulator's token). */
  readonly credentials: CredentialSource | undefined;
  readonly retries: number;
  readonly simulate: boolean;
  readonly simulateTenant: string | undefined;
  readonly logFile: string | undefined;
  readonly logLevel: LogLevel;
  readonly rules: ValidationRules;
}

const expectNumber = (
  flag: string,
  value: number,
  { min, max, integer }: { min: number; max: number; integer: boolean },
): number => {
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const kind = integer ? 'a whole number' : 'a number';
    throw usageError(`Expected --${flag} to be ${kind} from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
};

/**
 * Checks flags and environment together and rejects what conflicts. Pure: `env` is passed in.
 * The token only ever comes from the environment: arguments leak into shell history and `ps`.
 */
export function toEnableSettings(
  flags: EnableFlags,
  env: Readonly<Record<string, string | undefined>>,
): EnableSettings {
  const baseUrl = flags.baseUrl ?? (env['DS100_BASE_URL'] || undefined);
  const token = env['DS100_TOKEN'] || undefined;
  const credentials = toCredentialSource(flags, env);
  if (flags.simulate && flags.baseUrl !== undefined) {
    throw usageError('--simulate and --base-url conflict: a run goes either to the simulator or to a tenant');
  }
  if (flags.simulateTenant !== undefined && !flags.simulate) {
    throw usageError('--simulate-tenant only makes sense with --simulate');
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
  const maxFailureRate =
    flags.maxFailureRate === undefined
      ? undefined
      : expectNumber('max-failure-rate', flags.maxFailureRate, { min: 0, max: 100, integer: false });
  if (flags.out !== '-' && resolve(flags.out) === resolve(flags.input)) {
    throw usageError(`--out must not be the input file (${flags.input}): it would be overwritten`);
  }
  if (!(LOG_LEVELS as readonly string[]).includes(flags.logLevel)) {
    throw usageError(`Expected --log-level to be one of ${LOG_LEVELS.join(', ')}, got ${flags.logLevel}`);
  }
  return {
    input: flags.input,
    out: flags.out,
    baseUrl: flags.simulate ? undefined : baseUrl,
    token: flags.simulate ? undefined : token,
    concurrency: expectNumber('concurrency', flags.concurrency, { min: 1, max: 256, integer: true }),
    rate: expectNumber('rate', flags.rate, { min: 0.01, max: 100_000, integer: false }),
    adaptiveRate: flags.adaptiveRate ?? RUN_DEFAULTS.adaptiveRate,
    retries: expectNumber('retries', flags.retries, { min: 0, max: 50, integer: true }),
    timeoutMs: expectNumber('timeout', flags.timeout, { min: 0.001, max: 3600, integer: false }) * 1000,
    simulate: flags.simulate,
    simulateTenant: flags.simulateTenant,
    logFile: flags.logFile,
    logLevel: flags.logLevel as LogLevel,
    credentials,
    maxConsecutiveForbidden: expectNumber('max-consecutive-forbidden', flags.maxConsecutiveForbidden, {
      min: 0,
      max: 1_000_000,
      integer: true,
    }),
    maxFailureRate,
    failureRateMinRows: expectNumber('failure-rate-min-rows', flags.failureRateMinRows, {
      min: 1,
      max: Number.MAX_SAFE_INTEGER,
      integer: true,
    }),
    rules: toValidateSettings(flags).rules,
    ...toStateSettings(flags),
  };
}

/** Checks the state and cron flags shared by enable, plan and reconcile. Pure. */
function toStateSettings(flags: {
  out?: string | undefined;
  state?: string | undefined;
  resume?: boolean | undefined;
  summaryJson?: string | undefined;
  maxRuntime?: string | undefined;
}): { state: string | undefined; resume: boolean; summaryJson: string | undefined; maxRuntimeMs: number | undefined } {
  if (flags.resume && flags.state === undefined) {
    throw usageError('--resume needs --state FILE: the ledger of the run to continue');
  }
  if (flags.state !== undefined && flags.out !== undefined && resolve(flags.state) === resolve(flags.out)) {
    throw usageError('--state and --out must be different files');
  }
  const maxRuntimeMs = flags.maxRuntime === undefined ? undefined : parseDuration(flags.maxRuntime);
  if (flags.maxRuntime !== undefined && maxRuntimeMs === undefined) {
    throw usageError(`Expected --max-runtime to be a duration such as 90s, 45m or 1h30m, got "${flags.maxRuntime}"`);
  }
  return { state: flags.state, resume: flags.resume ?? false, summaryJson: flags.summaryJson, maxRuntimeMs };
}

/** Checks the reconcile flags: plan's checks, plus the limits. */
export function toReconcileSettings(
  flags: ReconcileFlags,
  env: Readonly<Record<string, string | undefined>>,
): ReturnType<typeof toPlanSettings> & { readonly recheck: boolean; readonly maxChanges: number | undefined } {
  const maxChanges =
    flags.maxChanges === undefined
      ? undefined
      : expectNumber('max-changes', flags.maxChanges, { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });
  return { ...toPlanSettings(flags, env), state: flags.state, recheck: flags.recheck, maxChanges };
}

/** Checks the plan flags: the same tenant, auth and pacing checks as enable; `out` may be left out. */
export function toPlanSettings(
  flags: PlanFlags,
  env: Readonly<Record<string, string | undefined>>,
): Omit<EnableSettings, 'out'> & { readonly out: string | undefined } {
  // '-' stands in for a missing --out only to pass enable's checks; the real value is put back.
  return { ...toEnableSettings({ ...flags, out: flags.out ?? '-' }, env), out: flags.out };
}

/**
 * Picks the one credential source from flags and environment. Two at once is refused rather than
 * ranked: a forgotten DS100_TOKEN silently winning over --key-file (or the reverse) is the kind of
 * surprise that costs an afternoon. With --simulate, DS100_TOKEN is ignored (the simulator has its own).
 */
export function toCredentialSource(
  flags: { keyFile?: string | undefined; oauthClient?: string | undefined; simulate?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): CredentialSource | undefined {
  const given: Array<{ name: string; source: CredentialSource }> = [];
  const keyFile = flags.keyFile ?? (env['DS100_KEY_FILE'] || undefined);
  const oauthClient = flags.oauthClient ?? (env['DS100_OAUTH_CLIENT'] || undefined);
  const token = flags.simulate ? undefined : env['DS100_TOKEN'] || undefined;
  if (keyFile !== undefined) {
    given.push({ name: flags.keyFile ? '--key-file' : 'DS100_KEY_FILE', source: { kind: 'key-file', file: keyFile } });
  }
  if (oauthClient !== undefined) {
    given.push({
      name: flags.oauthClient ? '--oauth-client' : 'DS100_OAUTH_CLIENT',
      source: { kind: 'oauth-client', file: oauthClient },
    });
  }
  if (token !== undefined) given.push({ name: 'DS100_TOKEN', source: { kind: 'token', token } });
  if (given.length > 1) {
    throw usageError(`Give one way to authenticate, got ${given.map((g) => g.name).join(' and ')}; drop all but one`);
  }
  return given[0]?.source;
}
