import { describe, expect, it } from 'vitest';
import {
  checkEnableFlags,
  checkPlanFlags,
  checkReconcileFlags,
  checkValidateFlags,
  toCredentialSource,
  type EnableFlags,
} from '../../src/cli/options.js';

/** The flags yargs hands over for `enable in.csv --out out.csv` with every default. */
const flags = (overrides: Partial<EnableFlags> = {}): EnableFlags => ({
  input: 'in.csv',
  out: 'out.csv',
  plan: undefined,
  'only-failed': undefined,
  bom: true,
  concurrency: 4,
  rate: 10,
  'adaptive-rate': true,
  retries: 5,
  timeout: 30,
  simulate: false,
  'log-level': 'info',
  'log-format': undefined,
  progress: true,
  'progress-interval': 30,
  quiet: false,
  'max-consecutive-forbidden': 3,
  'failure-rate-min-rows': 100,
  'serial-length': 9,
  strict: false,
  delimiter: undefined,
  encoding: 'utf-8',
  'dry-run': false,
  resume: false,
  'undo-file': undefined,
  'base-url': undefined,
  'simulate-tenant': undefined,
  'simulate-users': undefined,
  'log-file': undefined,
  'key-file': undefined,
  'oauth-client': undefined,
  'max-failure-rate': undefined,
  'summary-json': undefined,
  'metrics-file': undefined,
  report: undefined,
  'max-runtime': undefined,
  state: undefined,
  canary: undefined,
  yes: false,
  ...overrides,
});
const env = { DS100_TOKEN: 'secret-token', DS100_BASE_URL: 'https://t.example/AdminInterface/restapi/' };

describe('checkEnableFlags', () => {
  it('maps the flags onto the library options: seconds to ms, retries into the retry policy', () => {
    const settings = checkEnableFlags(flags({ 'max-failure-rate': 20, 'serial-length': 8, strict: true }), env);
    expect(settings).toMatchObject({
      input: 'in.csv',
      out: 'out.csv',
      concurrency: 4,
      rate: 10,
      adaptiveRate: true,
      timeoutMs: 30_000,
      retryPolicy: { retries: 5 },
      maxConsecutiveForbidden: 3,
      maxFailureRate: 20,
      failureRateMinRows: 100,
      rules: { serialLength: 8, strict: true },
      logLevel: 'info',
    });
  });

  it('reads the state and cron flags', () => {
    const settings = checkEnableFlags(flags({ state: 's.state', resume: true, 'max-runtime': '1h30m' }), env);
    expect([settings.state, settings.resume, settings.maxRuntimeMs]).toEqual(['s.state', true, 5_400_000]);
  });

  it('takes the token and base URL from the environment, and --base-url wins over DS100_BASE_URL', () => {
    expect(checkEnableFlags(flags(), env)).toMatchObject({
      credentials: { kind: 'token', token: 'secret-token' },
      baseUrl: env.DS100_BASE_URL,
    });
    expect(checkEnableFlags(flags({ 'base-url': 'https://other.example/' }), env).baseUrl).toBe(
      'https://other.example/',
    );
  });

  it('never falls back to the simulator silently', () => {
    expect(() => checkEnableFlags(flags(), { DS100_TOKEN: 't' })).toThrow(/No tenant given.*--simulate/);
  });

  it('no credentials at all is a usage error that names every way', () => {
    expect(() => checkEnableFlags(flags({ 'base-url': 'https://x.example/' }), {})).toThrow(
      /No credentials: pass --key-file .* or --oauth-client, or set DS100_TOKEN/,
    );
  });

  it('needs neither with --simulate, and ignores DS100_TOKEN then', () => {
    const settings = checkEnableFlags(flags({ simulate: true }), { DS100_TOKEN: 't' });
    expect(settings.simulate).toBe(true);
    expect(settings.credentials).toBeUndefined();
  });

  it('a key file is enough: the base URL comes from it', () => {
    const settings = checkEnableFlags(flags({ 'key-file': 'a.key' }), {});
    expect(settings.credentials).toEqual({ kind: 'key-file', file: 'a.key' });
    expect(settings.baseUrl).toBeUndefined();
  });

  it.each<[Partial<EnableFlags>, RegExp]>([
    [{ simulate: true, 'base-url': 'https://x.example/' }, /--simulate and --base-url conflict/],
    [{ 'simulate-tenant': 't.csv' }, /--simulate-tenant only makes sense with --simulate/],
    [{ 'simulate-users': 'u.csv' }, /--simulate-users only makes sense with --simulate/],
    [{ simulate: true, 'oauth-client': 'c.json' }, /--oauth-client cannot be used with --simulate/],
    [{ concurrency: 0 }, /^Expected `concurrency` \(--concurrency\) to be a whole number from 1 to 256, got 0$/],
    [{ concurrency: 2.5 }, /--concurrency\) to be a whole number/],
    [{ rate: 0 }, /^Expected `rate` \(--rate\) to be a number from 0.01 to 100,000, got 0$/],
    [{ retries: -1 }, /--retries/],
    [{ timeout: Number.NaN }, /--timeout, in seconds\) to be a number from 1 to 3,600,000, got NaN$/],
    [
      { 'max-failure-rate': 120 },
      /^Expected `maxFailureRate` \(--max-failure-rate\) to be a number from 0 to 100, got 120$/,
    ],
    [{ 'max-consecutive-forbidden': 1.5 }, /--max-consecutive-forbidden\) to be a whole number/],
    [{ 'serial-length': 40 }, /--serial-length\) to be a whole number from 0 to 36, got 40/],
    [{ resume: true }, /^--resume needs --state FILE: the ledger of the run to continue$/],
    [{ 'max-runtime': '90' }, /^Expected --max-runtime to be a duration such as 90s, 45m or 1h30m, got "90"$/],
  ])('rejects %j', (override, message) => {
    expect(() => checkEnableFlags(flags(override), env)).toThrow(message);
  });
});

describe('checkValidateFlags', () => {
  it('--serial-length must be 0 to 36', () => {
    expect(checkValidateFlags({ input: 'a.csv', bom: true, 'serial-length': 9, strict: true }).rules).toEqual({
      serialLength: 9,
      strict: true,
    });
    expect(() => checkValidateFlags({ input: 'a.csv', bom: true, 'serial-length': 40, strict: false })).toThrow(
      /--serial-length\) to be a whole number from 0 to 36, got 40/,
    );
  });
});

describe('--bom', () => {
  it('is on by default and --no-bom turns it off, for every command with --out', () => {
    expect(checkEnableFlags(flags(), env).bom).toBe(true);
    expect(checkEnableFlags(flags({ bom: false }), env).bom).toBe(false);
    const { resume: _resume, 'dry-run': _dryRun, state: _state, ...tenantOnly } = flags({ bom: false });
    expect(checkPlanFlags({ ...tenantOnly, action: 'enable' }, env).bom).toBe(false);
    expect(checkReconcileFlags({ ...tenantOnly, state: 's', recheck: false, 'max-changes': undefined }, env).bom).toBe(
      false,
    );
    expect(checkValidateFlags({ input: 'a.csv', bom: false, 'serial-length': 9, strict: false }).bom).toBe(false);
  });
});

describe('checkPlanFlags and checkReconcileFlags', () => {
  const { resume: _resume, 'dry-run': _dryRun, state: _state, ...enableOnly } = flags();
  const planFlags = { ...enableOnly, out: undefined, action: 'enable' as const };

  it('plan: needs a tenant and a token like enable, but --out is optional', () => {
    expect(() => checkPlanFlags(planFlags, {})).toThrow(/No tenant given/);
    const settings = checkPlanFlags(planFlags, { DS100_BASE_URL: 'https://t.example/', DS100_TOKEN: 'x' });
    expect(settings.out).toBeUndefined();
    expect(settings.baseUrl).toBe('https://t.example/');
  });

  it('reconcile: the state file and the limits', () => {
    const settings = checkReconcileFlags({ ...planFlags, state: 'n.state', recheck: true, 'max-changes': 10 }, env);
    expect([settings.state, settings.recheck, settings.maxChanges]).toEqual(['n.state', true, 10]);
    expect(() =>
      checkReconcileFlags({ ...planFlags, state: 'n.state', recheck: false, 'max-changes': -1 }, env),
    ).toThrow(/--max-changes\) to be a whole number/);
  });
});

describe('credential source', () => {
  it('takes --key-file, DS100_KEY_FILE, --oauth-client or DS100_TOKEN', () => {
    expect(toCredentialSource({ 'key-file': 'a.key' }, {})).toEqual({ kind: 'key-file', file: 'a.key' });
    expect(toCredentialSource({}, { DS100_KEY_FILE: 'b.key' })).toEqual({ kind: 'key-file', file: 'b.key' });
    expect(toCredentialSource({ 'oauth-client': 'c.json' }, {})).toEqual({ kind: 'oauth-client', file: 'c.json' });
    expect(toCredentialSource({}, { DS100_TOKEN: 't' })).toEqual({ kind: 'token', token: 't' });
  });

  it('refuses two at once, naming both', () => {
    expect(() => toCredentialSource({ 'key-file': 'a.key' }, { DS100_TOKEN: 't' })).toThrow(
      'Give one way to authenticate, got --key-file and DS100_TOKEN; drop all but one',
    );
    expect(() => toCredentialSource({ 'key-file': 'a.key', 'oauth-client': 'c.json' }, {})).toThrow(
      /--key-file and --oauth-client/,
    );
  });

  it('ignores DS100_TOKEN with --simulate', () => {
    expect(toCredentialSource({ simulate: true }, { DS100_TOKEN: 't' })).toBeUndefined();
  });
});
