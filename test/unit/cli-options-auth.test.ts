import { describe, expect, it } from 'vitest';
import { toCredentialSource, toEnableSettings, type EnableFlags } from '../../src/cli/options.js';

const flags = (overrides: Partial<EnableFlags> = {}): EnableFlags => ({
  input: 'in.csv',
  out: 'out.csv',
  concurrency: 4,
  rate: 10,
  retries: 5,
  timeout: 30,
  simulate: false,
  logLevel: 'info',
  serialLength: 9,
  strict: false,
  maxConsecutiveForbidden: 3,
  failureRateMinRows: 100,
  ...overrides,
});

describe('credential source', () => {
  it('takes --key-file, DS100_KEY_FILE, --oauth-client or DS100_TOKEN', () => {
    expect(toCredentialSource({ keyFile: 'a.key' }, {})).toEqual({ kind: 'key-file', file: 'a.key' });
    expect(toCredentialSource({}, { DS100_KEY_FILE: 'b.key' })).toEqual({ kind: 'key-file', file: 'b.key' });
    expect(toCredentialSource({ oauthClient: 'c.json' }, {})).toEqual({ kind: 'oauth-client', file: 'c.json' });
    expect(toCredentialSource({}, { DS100_TOKEN: 't' })).toEqual({ kind: 'token', token: 't' });
  });

  it('refuses two at once, naming both', () => {
    expect(() => toCredentialSource({ keyFile: 'a.key' }, { DS100_TOKEN: 't' })).toThrow(
      'Give one way to authenticate, got --key-file and DS100_TOKEN; drop all but one',
    );
    expect(() => toCredentialSource({ keyFile: 'a.key', oauthClient: 'c.json' }, {})).toThrow(
      /--key-file and --oauth-client/,
    );
  });

  it('ignores DS100_TOKEN with --simulate', () => {
    expect(toCredentialSource({ simulate: true }, { DS100_TOKEN: 't' })).toBeUndefined();
  });
});

describe('toEnableSettings with credentials', () => {
  it('a key file is enough: the base URL comes from it', () => {
    const settings = toEnableSettings(flags({ keyFile: 'a.key' }), {});
    expect(settings.credentials).toEqual({ kind: 'key-file', file: 'a.key' });
    expect(settings.baseUrl).toBeUndefined();
  });

  it('no credentials at all is a usage error that names every way', () => {
    expect(() => toEnableSettings(flags({ baseUrl: 'https://x.example/' }), {})).toThrow(
      /No credentials: pass --key-file .* or --oauth-client, or set DS100_TOKEN/,
    );
  });

  it('--max-failure-rate is a percentage from 0 to 100', () => {
    expect(toEnableSettings(flags({ keyFile: 'a.key', maxFailureRate: 20 }), {}).maxFailureRate).toBe(20);
    expect(() => toEnableSettings(flags({ keyFile: 'a.key', maxFailureRate: 120 }), {})).toThrow(
      'Expected --max-failure-rate to be a number from 0 to 100, got 120',
    );
  });

  it('--max-consecutive-forbidden is a whole number', () => {
    expect(() => toEnableSettings(flags({ keyFile: 'a.key', maxConsecutiveForbidden: 1.5 }), {})).toThrow(
      /--max-consecutive-forbidden to be a whole number/,
    );
  });

  it('--oauth-client cannot go to the simulator', () => {
    expect(() => toEnableSettings(flags({ simulate: true, oauthClient: 'c.json' }), {})).toThrow(
      /--oauth-client cannot be used with --simulate/,
    );
  });
});
