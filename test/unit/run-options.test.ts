import { describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/auth/token-cache.js';
import { Ds100Error } from '../../src/errors.js';
import { enable } from '../../src/index.js';
import { checkRunKnobs, resolveRunOptions, RUN_DEFAULTS, type RunOptions } from '../../src/pipeline/run-options.js';

const base: RunOptions = {
  input: 'in.csv',
  baseUrl: 'https://t.example/AdminInterface/restapi/',
  tokenProvider: staticTokenProvider('t'),
};

describe('resolveRunOptions', () => {
  it('fills in every default', () => {
    expect(resolveRunOptions(base)).toMatchObject({
      ...RUN_DEFAULTS,
      retryPolicy: { retries: 5, baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryAfterMs: 300_000 },
      rules: { serialLength: 9, strict: false },
    });
  });

  it.each<[Partial<RunOptions>, string]>([
    [{ concurrency: 0 }, 'Expected `concurrency` (--concurrency) to be a whole number from 1 to 256, got 0'],
    [{ rate: 0 }, 'Expected `rate` (--rate) to be a number from 0.01 to 100,000, got 0'],
    [{ rate: Number.POSITIVE_INFINITY }, 'Expected `rate` (--rate) to be a number from 0.01 to 100,000, got Infinity'],
    [{ timeoutMs: 0 }, 'Expected `timeoutMs` (--timeout, in seconds) to be a number from 1 to 3,600,000, got 0'],
    [{ retryPolicy: { retries: 51 } }, 'Expected `retryPolicy.retries` (--retries) to be a whole number from 0 to 50'],
    [{ maxFailureRate: -1 }, '(--max-failure-rate) to be a number from 0 to 100, got -1'],
    [{ failureRateMinRows: 0 }, '(--failure-rate-min-rows) to be a whole number from 1'],
    [{ rules: { serialLength: 37 } }, '(--serial-length) to be a whole number from 0 to 36, got 37'],
    [{ baseUrl: 'http://tenant.example/' }, 'Expected the base URL to use https://'],
    [{ input: '' }, 'Expected `input` to be a file name'],
    [{ tokenProvider: undefined as never }, 'Expected `tokenProvider` to be a TokenProvider'],
  ])('refuses %j with a USAGE error and a sentence', (override, message) => {
    const attempt = () => resolveRunOptions({ ...base, ...override });
    expect(attempt).toThrow(Ds100Error);
    expect(attempt).toThrow(message);
  });

  it('checkRunKnobs accepts what the defaults are', () => {
    expect(() => checkRunKnobs(RUN_DEFAULTS)).not.toThrow();
  });
});

describe('the library boundary', () => {
  it('enable({ concurrency: 0 }) and enable({ rate: 0 }) reject with USAGE before touching anything', async () => {
    for (const override of [{ concurrency: 0 }, { rate: 0 }]) {
      await expect(enable({ ...base, out: 'never-written.csv', ...override })).rejects.toMatchObject({
        name: 'Ds100Error',
        code: 'USAGE',
      });
    }
  });

  it('enable without `out`, or with resume but no state, is a USAGE error', async () => {
    await expect(enable({ ...base, out: '' })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(enable({ ...base, out: 'x.csv', resume: true })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
