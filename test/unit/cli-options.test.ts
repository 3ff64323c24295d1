import { describe, expect, it } from 'vitest';
import { toEnableSettings, type EnableFlags } from '../../src/cli/options.js';

const flags: EnableFlags = {
  input: 'in.csv',
  out: 'out.csv',
  concurrency: 4,
  rate: 10,
  retries: 5,
  timeout: 30,
  simulate: false,
  logLevel: 'info',
  maxConsecutiveForbidden: 3,
  failureRateMinRows: 100,
  serialLength: 9,
  strict: false,
};
const env = { DS100_TOKEN: 'secret-token', DS100_BASE_URL: 'https://t.example/AdminInterface/restapi/' };

describe('toEnableSettings', () => {
  it('reads the state and cron flags', () => {
    const settings = toEnableSettings({ ...flags, state: 's.state', resume: true, maxRuntime: '1h30m' }, env);
    expect([settings.state, settings.resume, settings.maxRuntimeMs]).toEqual(['s.state', true, 5_400_000]);
  });

  it('takes the token and base URL from the environment', () => {
    const settings = toEnableSettings(flags, env);
    expect(settings.token).toBe('secret-token');
    expect(settings.baseUrl).toBe(env.DS100_BASE_URL);
    expect(settings.timeoutMs).toBe(30_000);
  });

  it('lets --base-url win over DS100_BASE_URL', () => {
    expect(toEnableSettings({ ...flags, baseUrl: 'https://other.example/' }, env).baseUrl).toBe(
      'https://other.example/',
    );
  });

  it('never falls back to the simulator silently', () => {
    expect(() => toEnableSettings(flags, { DS100_TOKEN: 't' })).toThrow(/No tenant given.*--simulate/);
  });

  it('requires the token from the environment', () => {
    expect(() => toEnableSettings(flags, { DS100_BASE_URL: env.DS100_BASE_URL })).toThrow(/DS100_TOKEN/);
  });

  it('needs neither with --simulate', () => {
    const settings = toEnableSettings({ ...flags, simulate: true }, {});
    expect(settings.simulate).toBe(true);
    expect(settings.token).toBeUndefined();
  });

  it.each<[Partial<EnableFlags>, RegExp]>([
    [{ simulate: true, baseUrl: 'https://x.example/' }, /--simulate and --base-url conflict/],
    [{ simulateTenant: 't.csv' }, /--simulate-tenant only makes sense with --simulate/],
    [{ out: 'in.csv' }, /--out must not be the input file/],
    [{ concurrency: 0 }, /^Expected --concurrency to be a whole number from 1 to 256, got 0$/],
    [{ concurrency: 2.5 }, /--concurrency to be a whole number/],
    [{ rate: 0 }, /^Expected --rate to be a number from 0.01 to 100000, got 0$/],
    [{ retries: -1 }, /--retries/],
    [{ timeout: Number.NaN }, /^Expected --timeout to be a number from 0.001 to 3600, got NaN$/],
    [{ logLevel: 'loud' }, /--log-level/],
    [{ resume: true }, /^--resume needs --state FILE: the ledger of the run to continue$/],
    [{ maxRuntime: '90' }, /^Expected --max-runtime to be a duration such as 90s, 45m or 1h30m, got "90"$/],
    [{ state: 'out.csv' }, /^--state and --out must be different files$/],
  ])('rejects %j', (override, message) => {
    expect(() => toEnableSettings({ ...flags, ...override }, env)).toThrow(message);
  });
});
