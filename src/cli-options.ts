import { resolve } from 'node:path';
import type { Options } from 'yargs';
import { usageError } from './errors.js';
import { LOG_LEVELS, type LogLevel } from './log.js';
import { RUN_DEFAULTS, type RunOptions } from './run.js';
import { DEFAULT_RETRY_POLICY } from './client/retry-policy.js';

/** The `enable` command's flags, declared once: yargs reads this table and `toEnableSettings` maps it. */
export const ENABLE_FLAGS = {
  out: { type: 'string', describe: 'Results CSV to write (overwritten); - for stdout', demandOption: true },
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
}

/** Checked settings: run options less the parts the CLI builds (token provider, base URL when simulated). */
export interface EnableSettings extends Omit<
  RunOptions,
  'tokenProvider' | 'baseUrl' | 'logger' | 'retryPolicy' | 'simulated'
> {
  readonly baseUrl: string | undefined;
  readonly token: string | undefined;
  readonly retries: number;
  readonly simulate: boolean;
  readonly simulateTenant: string | undefined;
  readonly logFile: string | undefined;
  readonly logLevel: LogLevel;
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
  if (flags.simulate && flags.baseUrl !== undefined) {
    throw usageError('--simulate and --base-url conflict: a run goes either to the simulator or to a tenant');
  }
  if (flags.simulateTenant !== undefined && !flags.simulate) {
    throw usageError('--simulate-tenant only makes sense with --simulate');
  }
  if (!flags.simulate && baseUrl === undefined) {
    throw usageError(
      'No tenant given: set --base-url or DS100_BASE_URL to the adminRestApiUrl, or pass --simulate to try the built-in simulator',
    );
  }
  if (!flags.simulate && token === undefined) {
    throw usageError('No bearer token: set the environment variable DS100_TOKEN (never pass a token as an argument)');
  }
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
  };
}
