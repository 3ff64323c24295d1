import { describe, expect, it } from 'vitest';
import { decideRetry, DEFAULT_RETRY_POLICY, parseRetryAfter } from '../../src/client/retry-policy.js';
import type { FailureCode } from '../../src/types.js';

const policy = { retries: 3, baseDelayMs: 1000, maxDelayMs: 5000, maxRetryAfterMs: 120_000 };

const delays = (random: number): number[] =>
  [1, 2, 3, 4, 5].map((attempt) => {
    const decision = decideRetry({ code: 'SERVER_ERROR' }, attempt, { ...policy, retries: 10 }, () => random);
    return decision.retry ? decision.delayMs : -1;
  });

describe('decideRetry', () => {
  it.each<FailureCode>(['BAD_REQUEST', 'FORBIDDEN', 'NOT_FOUND', 'BAD_RESPONSE', 'UNEXPECTED_STATUS'])(
    'never retries %s',
    (code) => {
      expect(decideRetry({ code }, 1, policy)).toEqual({ retry: false });
    },
  );

  it.each<FailureCode>(['RATE_LIMITED', 'SERVER_ERROR', 'TIMEOUT', 'NETWORK_ERROR'])('retries %s', (code) => {
    expect(decideRetry({ code }, 1, policy).retry).toBe(true);
  });

  it('stops once the retries are used up', () => {
    expect(decideRetry({ code: 'SERVER_ERROR' }, 3, policy).retry).toBe(true);
    expect(decideRetry({ code: 'SERVER_ERROR' }, 4, policy)).toEqual({ retry: false });
  });

  it('backs off exponentially with equal jitter, capped', () => {
    expect(delays(0)).toEqual([500, 1000, 2000, 2500, 2500]);
    expect(delays(1)).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it('waits exactly as long as Retry-After says, ignoring jitter', () => {
    expect(decideRetry({ code: 'RATE_LIMITED', retryAfterMs: 7000 }, 1, policy, () => 0.9)).toEqual({
      retry: true,
      delayMs: 7000,
    });
  });

  it('caps an absurd Retry-After', () => {
    expect(decideRetry({ code: 'RATE_LIMITED', retryAfterMs: 86_400_000 }, 1, policy)).toEqual({
      retry: true,
      delayMs: 120_000,
    });
  });

  it('has documented defaults', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({
      retries: 5,
      baseDelayMs: 1000,
      maxDelayMs: 60_000,
      maxRetryAfterMs: 300_000,
    });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP-date', () => {
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:00:05 GMT', now)).toBe(5000);
  });

  it('treats a date in the past as no wait', () => {
    expect(parseRetryAfter('Sun, 22 Nov 2026 09:00:00 GMT', now)).toBe(0);
  });

  it.each([undefined, '', 'soon', '-1', '1.5'])('ignores %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});
