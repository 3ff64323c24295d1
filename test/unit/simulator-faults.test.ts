import { describe, expect, it } from 'vitest';
import { Faults, TokenBucket, createLimiter, type FaultStep } from '../../src/simulator/faults.js';

// The clock is a number passed in: nothing here waits.

const admitted = (bucket: TokenBucket, now: number, times: number): boolean[] =>
  Array.from({ length: times }, () => bucket.admit(now).ok);

describe('TokenBucket', () => {
  it('admits a burst at once, then refuses with a Retry-After in whole seconds', () => {
    const bucket = new TokenBucket({ perSecond: 2, burst: 3 });
    expect(admitted(bucket, 1000, 3)).toEqual([true, true, true]);
    expect(bucket.admit(1000)).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('refills at its rate: one token every 1/perSecond seconds', () => {
    const bucket = new TokenBucket({ perSecond: 2, burst: 1 });
    expect(admitted(bucket, 0, 2)).toEqual([true, false]);
    expect(admitted(bucket, 500, 2)).toEqual([true, false]);
    const early = new TokenBucket({ perSecond: 2, burst: 1 });
    expect(admitted(early, 0, 1)).toEqual([true]);
    expect(admitted(early, 499, 1)).toEqual([false]);
  });

  it('asks for more than one second when a token takes that long to come', () => {
    const bucket = new TokenBucket({ perSecond: 0.25, burst: 1 });
    expect(bucket.admit(0).ok).toBe(true);
    expect(bucket.admit(0)).toEqual({ ok: false, retryAfterSeconds: 4 });
    expect(bucket.admit(3000)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(bucket.admit(4000).ok).toBe(true);
  });

  it('never holds more than its burst, however long it was idle', () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 2 });
    expect(admitted(bucket, 0, 2)).toEqual([true, true]);
    expect(admitted(bucket, 60_000, 3)).toEqual([true, true, false]);
  });

  it('starts full whenever its first request comes', () => {
    const bucket = new TokenBucket({ perSecond: 1, burst: 2 });
    expect(admitted(bucket, 5_000_000, 3)).toEqual([true, true, false]);
  });

  it('takes one second of requests as its burst by default, and at least one', () => {
    expect(new TokenBucket({ perSecond: 20 }).burst).toBe(20);
    expect(new TokenBucket({ perSecond: 0.5 }).burst).toBe(1);
  });
});

describe('createLimiter', () => {
  it('makes a token bucket for a rate limit, and nothing without one', () => {
    expect(createLimiter({ perSecond: 5 })).toBeInstanceOf(TokenBucket);
    expect(createLimiter(undefined)).toBeUndefined();
  });
});

describe('Faults', () => {
  const never = (): number => {
    throw new Error('random() should not be drawn');
  };

  it('uses up the scripted steps of each serial in order, then has none', () => {
    const script = new Map<string, readonly FaultStep[]>([
      ['140100001', [{ status: 429, retryAfter: '2' }, { delayMs: 10 }, { status: 500 }]],
      ['140100002', [{ status: 403 }]],
    ]);
    const faults = new Faults({ faults: script }, never);
    expect(faults.nextStep('140100001')).toEqual({ status: 429, retryAfter: '2' });
    expect(faults.nextStep('140100002')).toEqual({ status: 403 });
    expect(faults.nextStep('140100001')).toEqual({ delayMs: 10 });
    expect(faults.nextStep('140100001')).toEqual({ status: 500 });
    expect(faults.nextStep('140100001')).toBeUndefined();
    expect(faults.nextStep('140100002')).toBeUndefined();
    expect(faults.nextStep('140100003')).toBeUndefined();
    // The caller's script is left as it was, so it can start another simulator.
    expect(script.get('140100001')).toHaveLength(3);
  });

  it('fails the share of requests its random draws fall under, with a 500', () => {
    const draws = [0.05, 0.5, 0.09, 0.1];
    const faults = new Faults({ errorRate: 0.1 }, () => draws.shift()!);
    expect([1, 2, 3, 4].map(() => faults.randomFailure())).toEqual([
      { status: 500 },
      undefined,
      { status: 500 },
      undefined,
    ]);
  });

  it('draws nothing without an error rate', () => {
    const faults = new Faults({ errorRate: 0 }, never);
    expect(faults.randomFailure()).toBeUndefined();
    expect(new Faults({}, never).randomFailure()).toBeUndefined();
  });

  it('holds an answer for what is left of the latency after the time already spent', () => {
    const faults = new Faults({ latencyMs: 50 }, never);
    expect(faults.latencyLeft(0)).toBe(50);
    expect(faults.latencyLeft(20)).toBe(30);
    expect(faults.latencyLeft(80)).toBe(0);
    expect(new Faults({}, never).latencyLeft(0)).toBeUndefined();
  });

  it('has a limiter only with a rate limit', () => {
    expect(new Faults({ rateLimit: { perSecond: 1 } }, never).limiter).toBeInstanceOf(TokenBucket);
    expect(new Faults({}, never).limiter).toBeUndefined();
  });
});
