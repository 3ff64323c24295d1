import { describe, expect, it } from 'vitest';
import {
  ConcurrencyLimit,
  createLimiter,
  FixedWindow,
  limiterFromFlags,
  parseLimitSchedule,
  Random429,
  SlidingWindow,
  TokenBucket,
  type Limiter,
} from '../../src/simulator/limiters.js';
import { seededRandom } from '../../src/simulator/tenant.js';

// The clock is a number passed in: nothing here waits.

/** Whether each of `times` requests at `now` is admitted. */
const admitted = (limiter: Limiter, now: number, times: number): boolean[] =>
  Array.from({ length: times }, () => limiter.admit(now).ok);

/** How many requests at `now` are admitted before the first refusal (at most 1,000). */
const admittedAt = (limiter: Limiter, now: number): number => {
  let count = 0;
  while (count < 1000 && limiter.admit(now).ok) count++;
  return count;
};

const refused = (retryAfterSeconds: number | undefined) => ({ ok: false, retryAfterSeconds });

describe('TokenBucket', () => {
  it('admits a burst at once, then refuses with a Retry-After in whole seconds', () => {
    const bucket = new TokenBucket({ perSecond: 2, burst: 3 });
    expect(admitted(bucket, 1000, 3)).toEqual([true, true, true]);
    expect(bucket.admit(1000)).toEqual(refused(1));
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
    expect(bucket.admit(0)).toEqual(refused(4));
    expect(bucket.admit(3000)).toEqual(refused(1));
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

describe('a bucket limiter', () => {
  it('refills limit tokens per window and holds limit of them by default', () => {
    const bucket = createLimiter({ kind: 'bucket', limit: 250, windowSeconds: 10 });
    expect(admittedAt(bucket, 0)).toBe(250);
    expect(bucket.admit(0)).toEqual(refused(1));
    expect(admittedAt(bucket, 1000)).toBe(25);
    expect(admittedAt(bucket, 60_000)).toBe(250);
  });

  it('takes a burst of its own', () => {
    const bucket = createLimiter({ kind: 'bucket', limit: 50, burst: 5 });
    expect(admittedAt(bucket, 0)).toBe(5);
    expect(admittedAt(bucket, 100)).toBe(5);
  });
});

describe('SlidingWindow', () => {
  it('admits exactly limit requests in a window, and asks to wait until the oldest leaves it', () => {
    const window = new SlidingWindow(3, 10);
    expect([0, 2000, 4000].map((now) => window.admit(now).ok)).toEqual([true, true, true]);
    expect(window.admit(5000)).toEqual(refused(5));
    expect(window.admit(9999)).toEqual(refused(1));
    // The request at 0 has left the window (0, 10000]: room for one, then the one at 2000 is next.
    expect(admitted(window, 10_000, 2)).toEqual([true, false]);
    expect(window.admit(10_000)).toEqual(refused(2));
  });

  it('allows no burst at a boundary: any rolling window holds at most limit', () => {
    const window = new SlidingWindow(2, 1);
    expect(admitted(window, 900, 2)).toEqual([true, true]);
    expect(window.admit(1000)).toEqual(refused(1));
    expect(admitted(window, 1899, 1)).toEqual([false]);
    expect(admitted(window, 1900, 3)).toEqual([true, true, false]);
  });

  it('counts only what it admitted: refusals do not push the wait back', () => {
    const window = new SlidingWindow(1, 1);
    expect(window.admit(0).ok).toBe(true);
    for (let now = 1; now < 1000; now += 100) expect(window.admit(now).ok).toBe(false);
    expect(window.admit(1000).ok).toBe(true);
  });
});

describe('FixedWindow', () => {
  it('admits exactly limit per window from the first request, and asks to wait for the next window', () => {
    const window = new FixedWindow(3, 10);
    expect(admitted(window, 1000, 3)).toEqual([true, true, true]);
    expect(window.admit(5000)).toEqual(refused(6));
    expect(window.admit(10_999.5)).toEqual(refused(1));
    expect(admitted(window, 11_000, 4)).toEqual([true, true, true, false]);
    expect(window.admit(11_000)).toEqual(refused(10));
  });

  it('lets 2 x limit through within a moment across a boundary: that is its nature', () => {
    const window = new FixedWindow(3, 10);
    expect(window.admit(0).ok).toBe(true);
    expect(admitted(window, 19_999, 4)).toEqual([true, true, true, false]);
    expect(admitted(window, 20_000, 4)).toEqual([true, true, true, false]);
  });

  it('starts a fresh count after idle windows', () => {
    const window = new FixedWindow(1, 1);
    expect(admitted(window, 0, 2)).toEqual([true, false]);
    expect(admitted(window, 5_500, 2)).toEqual([true, false]);
    expect(window.admit(5_600)).toEqual(refused(1));
  });
});

describe('ConcurrencyLimit', () => {
  it('refuses a request over limit in flight, without a Retry-After, and admits again once one is released', () => {
    const limit = new ConcurrencyLimit(2);
    expect(admitted(limit, 0, 3)).toEqual([true, true, false]);
    expect(limit.admit()).toEqual(refused(undefined));
    limit.release();
    expect(limit.inFlight).toBe(1);
    expect(admitted(limit, 0, 2)).toEqual([true, false]);
  });

  it('never counts below zero in flight', () => {
    const limit = new ConcurrencyLimit(1);
    limit.release();
    expect(limit.inFlight).toBe(0);
    expect(admitted(limit, 0, 2)).toEqual([true, false]);
  });
});

describe('a limit schedule', () => {
  it('raises a bucket mid-run: its rate and its burst follow', () => {
    const bucket = createLimiter({
      kind: 'bucket',
      schedule: [
        { atMs: 0, limit: 10 },
        { atMs: 10_000, limit: 20 },
      ],
    });
    expect(admittedAt(bucket, 0)).toBe(10);
    expect(admittedAt(bucket, 1000)).toBe(10);
    // Full again at the old rate by 10 s; the bigger burst is not filled at once.
    expect(admittedAt(bucket, 10_000)).toBe(10);
    expect(admittedAt(bucket, 11_000)).toBe(20);
  });

  it('halves a bucket mid-run: what it held above the new burst is gone', () => {
    const bucket = createLimiter({ kind: 'bucket', limit: 4, schedule: [{ atMs: 1000, limit: 2 }] });
    expect(admittedAt(bucket, 0)).toBe(4);
    expect(admittedAt(bucket, 1000)).toBe(2);
    expect(bucket.admit(1000)).toEqual(refused(1));
    expect(admittedAt(bucket, 1500)).toBe(1);
  });

  it('counts its times from the first request', () => {
    const window = createLimiter({ kind: 'sliding', limit: 2, schedule: [{ atMs: 1000, limit: 4 }] });
    expect(admittedAt(window, 5000)).toBe(2);
    expect(admittedAt(window, 6000)).toBe(4);
    expect(admittedAt(window, 6999)).toBe(0);
  });

  it('lowers a sliding window below what it holds: the wait is until enough have left', () => {
    const window = createLimiter({
      kind: 'sliding',
      limit: 4,
      windowSeconds: 10,
      schedule: [{ atMs: 6500, limit: 2 }],
    });
    expect([0, 0, 3000, 6000].map((now) => window.admit(now).ok)).toEqual([true, true, true, true]);
    // Four in the window and room for two: the third oldest (at 3000) must leave, at 13000.
    expect(window.admit(7000)).toEqual(refused(6));
    expect(window.admit(13_000).ok).toBe(true);
  });

  it('changes a fixed window and a concurrency limit', () => {
    const fixed = createLimiter({ kind: 'fixed', limit: 1, schedule: [{ atMs: 2000, limit: 3 }] });
    expect(admittedAt(fixed, 0)).toBe(1);
    expect(admittedAt(fixed, 1000)).toBe(1);
    expect(admittedAt(fixed, 2000)).toBe(3);
    const inFlight = createLimiter({ kind: 'concurrency', limit: 1, schedule: [{ atMs: 500, limit: 2 }] });
    expect(admitted(inFlight, 0, 2)).toEqual([true, false]);
    expect(admitted(inFlight, 500, 2)).toEqual([true, false]);
    inFlight.release?.();
    inFlight.release?.();
    expect(admitted(inFlight, 600, 3)).toEqual([true, true, false]);
  });

  it('refuses a schedule without a start, with two starts, out of order, or with bad limits', () => {
    expect(() => createLimiter({ kind: 'fixed', schedule: [{ atMs: 10, limit: 5 }] })).toThrow(
      'Expected a fixed limiter to have a `limit`, or a `schedule` whose first step is at 0',
    );
    expect(() => createLimiter({ kind: 'fixed', limit: 3, schedule: [{ atMs: 0, limit: 5 }] })).toThrow(
      'Expected a fixed limiter to have a `limit` or a `schedule` step at 0, not both',
    );
    expect(() =>
      createLimiter({
        kind: 'sliding',
        limit: 3,
        schedule: [
          { atMs: 2000, limit: 5 },
          { atMs: 1000, limit: 6 },
        ],
      }),
    ).toThrow('Expected the `schedule` times to be from 0 and increasing, got 1000 after 2000');
    expect(() => createLimiter({ kind: 'sliding', limit: 3, schedule: [{ atMs: 1000, limit: 2.5 }] })).toThrow(
      'Expected `schedule limit` of a sliding limiter to be a whole number from 1, got 2.5',
    );
  });
});

describe('createLimiter', () => {
  it('makes the kind asked for', () => {
    expect(createLimiter({ kind: 'bucket', limit: 5 })).toBeInstanceOf(TokenBucket);
    expect(createLimiter({ kind: 'sliding', limit: 5 })).toBeInstanceOf(SlidingWindow);
    expect(createLimiter({ kind: 'fixed', limit: 5 })).toBeInstanceOf(FixedWindow);
    expect(createLimiter({ kind: 'concurrency', limit: 5 })).toBeInstanceOf(ConcurrencyLimit);
  });

  it('refuses an unknown kind, bad limits, windows and bursts, naming the option', () => {
    expect(() => createLimiter({ kind: 'leaky' as 'bucket', limit: 5 })).toThrow(
      'Expected `limiter.kind` to be one of bucket, sliding, fixed, concurrency, got "leaky"',
    );
    expect(() => createLimiter({ kind: 'bucket', limit: 0 })).toThrow(
      'Expected `limit` of a bucket limiter to be a number above 0, got 0',
    );
    expect(() => createLimiter({ kind: 'concurrency', limit: 1.5 })).toThrow('to be a whole number from 1, got 1.5');
    expect(() => createLimiter({ kind: 'sliding', limit: 5, windowSeconds: 0 })).toThrow(
      'Expected `windowSeconds` to be a number of seconds above 0, got 0',
    );
    expect(() => createLimiter({ kind: 'concurrency', limit: 5, windowSeconds: 1 })).toThrow(
      'Expected no `windowSeconds` for a concurrency limiter',
    );
    expect(() => createLimiter({ kind: 'fixed', limit: 5, burst: 5 })).toThrow(
      'Expected no `burst` for a fixed limiter: only a bucket has one',
    );
    expect(() => createLimiter({ kind: 'bucket', limit: 5, burst: 0.5 })).toThrow(
      'Expected `burst` to be a number from 1, got 0.5',
    );
  });
});

describe('Random429', () => {
  const sequence = (seed: number, share = 0.03): boolean[] => {
    const noise = new Random429(share, seededRandom(seed));
    return Array.from({ length: 2000 }, () => noise.admit().ok);
  };

  it('refuses about its share, with Retry-After 1, the same ones for the same seed', () => {
    const first = sequence(7);
    const refusals = first.filter((ok) => !ok).length;
    expect(refusals).toBeGreaterThan(30);
    expect(refusals).toBeLessThan(90);
    expect(sequence(7)).toEqual(first);
    expect(sequence(8)).not.toEqual(first);
    expect(new Random429(1, () => 0.5).admit()).toEqual(refused(1));
  });

  it('refuses nothing at 0, everything at 1, and no share outside 0 to 1', () => {
    expect(sequence(1, 0).every((ok) => ok)).toBe(true);
    expect(sequence(1, 1).some((ok) => ok)).toBe(false);
    expect(() => new Random429(1.5, Math.random)).toThrow('Expected `random429` to be a share from 0 to 1, got 1.5');
  });
});

describe('parseLimitSchedule', () => {
  it('reads SECONDS:LIMIT pairs, fractions of seconds included', () => {
    expect(parseLimitSchedule('0:50,10:100')).toEqual([
      { atMs: 0, limit: 50 },
      { atMs: 10_000, limit: 100 },
    ]);
    expect(parseLimitSchedule(' 2.5 : 7 ')).toEqual([{ atMs: 2500, limit: 7 }]);
  });

  it('refuses anything else, quoting it', () => {
    for (const text of ['', '0=50', '0:50;10:100', '-1:5', '0:50,', 'ten:5']) {
      expect(() => parseLimitSchedule(text)).toThrow(
        `Expected --limit-schedule to be SECONDS:LIMIT pairs separated by commas, such as 0:50,10:100, got "${text}"`,
      );
    }
  });
});

describe('limiterFromFlags', () => {
  it('reads --limiter with its flags, --rate-limit as a bucket per second, and nothing as no limit', () => {
    expect(limiterFromFlags({ limiter: 'sliding', limit: 250, window: 10, 'limit-schedule': '0:1,5:2' })).toEqual({
      kind: 'sliding',
      limit: 250,
      windowSeconds: 10,
      burst: undefined,
      schedule: [
        { atMs: 0, limit: 1 },
        { atMs: 5000, limit: 2 },
      ],
    });
    expect(limiterFromFlags({ 'rate-limit': 20, burst: 5 })).toEqual({ kind: 'bucket', limit: 20, burst: 5 });
    expect(limiterFromFlags({ limiter: 'bucket', limit: 20, burst: 5 })).toMatchObject({ burst: 5 });
    expect(limiterFromFlags({})).toBeUndefined();
  });

  it('refuses flags that conflict or make no sense alone, naming them', () => {
    expect(() => limiterFromFlags({ 'rate-limit': 20, limiter: 'fixed', window: 2 })).toThrow(
      '--rate-limit conflicts with --limiter and --window: --rate-limit N is short for --limiter bucket --limit N',
    );
    expect(() => limiterFromFlags({ 'rate-limit': 20, 'limit-schedule': '0:5' })).toThrow(
      '--rate-limit conflicts with --limit-schedule',
    );
    expect(() => limiterFromFlags({ limit: 5 })).toThrow(
      '--limit only makes sense with --limiter (bucket, sliding, fixed, concurrency) or, for --burst, --rate-limit',
    );
    expect(() => limiterFromFlags({ window: 5, burst: 3 })).toThrow('--window and --burst only make sense with');
    expect(() => limiterFromFlags({ limiter: 'concurrency', limit: 4, window: 1 })).toThrow(
      '--window does not apply to --limiter concurrency: it counts requests in flight',
    );
    expect(() => limiterFromFlags({ limiter: 'sliding', limit: 4, burst: 1 })).toThrow(
      '--burst applies to a bucket, not to --limiter sliding',
    );
  });
});
