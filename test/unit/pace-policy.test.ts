import { describe, expect, it } from 'vitest';
import { describePaceChange, PacePolicy, type PaceChange } from '../../src/queue/pace-policy.js';

/** A policy at `rate`/s with `concurrency` slots, and a clock the test moves. */
function policyAt(rate = 100, concurrency = 16) {
  const policy = new PacePolicy({ maxRate: rate, maxConcurrency: concurrency }, 0);
  let now = 0;
  const step = 1000 / rate;
  return {
    policy,
    get now() {
      return now;
    },
    /** One request started now (after one pace step), with `inFlight` others, answered at once. */
    answer(inFlight = 0): PaceChange | undefined {
      now += step;
      return policy.onAnswered({ at: now, inFlight }, now);
    },
    refuse(inFlight = 0, retryAfterMs?: number): PaceChange | undefined {
      now += step;
      return policy.onRateLimited({ at: now, inFlight }, now, retryAfterMs);
    },
    wait(ms: number): void {
      now += ms;
    },
  };
}

describe('PacePolicy', () => {
  it('starts at the ceilings, with no wait', () => {
    const { policy } = policyAt(100, 8);
    expect([policy.rate, policy.concurrency, policy.pausedUntil]).toEqual([100, 8, Number.NEGATIVE_INFINITY]);
  });

  it('takes a few 429s among many answers for noise: the pace stays, the rows just retry', () => {
    const run = policyAt();
    const changes = [];
    for (let index = 0; index < 200; index++) changes.push(index % 40 === 39 ? run.refuse() : run.answer());
    expect(changes.filter((change) => change?.kind === 'rate' && change.direction === 'down')).toEqual([]);
    expect(run.policy.rate).toBe(100);
  });

  it('reads a share of 429s among answers as a rate limit: the pace goes just below the share let through', () => {
    const run = policyAt();
    const changes: Array<PaceChange | undefined> = [];
    // Half the requests answered, half refused, interleaved: the tenant allows about 50/s.
    for (let index = 0; index < 8; index++) changes.push(index % 2 ? run.refuse() : run.answer());
    // The first 429 of a run holds every start a moment; the share then tells the rate.
    expect(changes.filter(Boolean)).toEqual([
      { kind: 'hold', until: 120 },
      { kind: 'rate', direction: 'down', rate: 47.5, allowed: 50 },
    ]);
    expect(run.policy.rate).toBe(47.5);
  });

  it('waits for a spent window instead of slowing down, and paces itself at what one window let through', () => {
    const run = policyAt(100);
    for (let index = 0; index < 30; index++) run.answer();
    run.wait(50); // nothing answered for a while
    expect(run.refuse(0, 1000)).toEqual({ kind: 'hold', until: run.now + 100 });
    const first = run.refuse(0, 1000);
    // 30 got through from the start until the window reopens: 0.37 s of requests, then the 1 s wait.
    expect(first).toMatchObject({ kind: 'wait', waitMs: 1000, window: { requests: 30, seconds: 1.37 } });
    expect(run.policy.pausedUntil).toBe(run.now + 1000);
    expect(run.policy.rate).toBeCloseTo(30 / 1.37, 5);
    expect(describePaceChange(first!, false).message).toBe(
      'the tenant allows about 30 requests per 1.4 s window; pace lowered to 21.9/s, waiting 1 s for the next window',
    );
    // Spent again after it reopened: the next window is measured from the first wait.
    run.wait(1000);
    for (let index = 0; index < 25; index++) run.answer();
    run.wait(200);
    run.refuse(0, 1000);
    const second = run.refuse(0, 1000);
    expect(second).toMatchObject({ kind: 'wait', window: { requests: 25 } });
  });

  it('without a Retry-After, waits 250 ms, then twice as long each time nothing gets through', () => {
    const run = policyAt(100);
    run.answer();
    run.wait(100);
    run.refuse();
    const waits = [];
    for (let index = 0; index < 3; index++) {
      const change = run.refuse();
      waits.push(change?.kind === 'wait' ? change.waitMs : undefined);
      run.wait(2000);
      run.refuse();
    }
    expect(waits).toEqual([250, 500, 1000]);
  });

  it('caps an absurd Retry-After at maxPauseMs', () => {
    const policy = new PacePolicy({ maxRate: 10, maxConcurrency: 4, maxPauseMs: 60_000 }, 0);
    policy.onRateLimited({ at: 0, inFlight: 0 }, 1000, 86_400_000);
    expect(policy.onRateLimited({ at: 1000, inFlight: 0 }, 2000, 86_400_000)).toMatchObject({ waitMs: 60_000 });
  });

  it('reads 429s only above N requests in flight as a concurrency limit: fewer in flight, the same pace', () => {
    const run = policyAt(400, 16);
    const changes = [];
    for (let inFlight = 0; inFlight < 4; inFlight++) changes.push(run.answer(inFlight));
    for (let inFlight = 4; inFlight < 8; inFlight++) changes.push(run.refuse(inFlight));
    const change = changes.find((candidate) => candidate?.kind === 'concurrency');
    expect(change).toEqual({ kind: 'concurrency', direction: 'down', concurrency: 4 });
    expect(run.policy.concurrency).toBe(4);
    expect(run.policy.rate).toBe(400);
    expect(describePaceChange(change!, false)).toMatchObject({
      level: 'info',
      message: 'the tenant allows about 4 requests in flight; concurrency lowered to 4',
    });
    // After a long quiet stretch it tries one more in flight; refused there, it goes back at once.
    let tried: PaceChange | undefined;
    for (let index = 0; index < 400 && tried?.kind !== 'concurrency'; index++) tried = run.answer(3);
    expect(tried).toEqual({ kind: 'concurrency', direction: 'up', concurrency: 5 });
    expect(run.refuse(4)).toEqual({ kind: 'concurrency', direction: 'down', concurrency: 4 });
  });

  it('does not read a rate limit as a concurrency limit: 429s and answers at the same numbers in flight', () => {
    const run = policyAt(400, 16);
    for (let index = 0; index < 40; index++) {
      const change = index % 2 ? run.refuse(index % 8) : run.answer(index % 8);
      expect(change?.kind).not.toBe('concurrency');
    }
  });

  it('ignores 429s to requests sent at an earlier pace', () => {
    const run = policyAt();
    for (let index = 0; index < 8; index++) (index % 2 ? run.refuse : run.answer)();
    expect(run.policy.rate).toBe(47.5);
    // Sent before the cut: already paid for.
    expect(run.policy.onRateLimited({ at: 1, inFlight: 0 }, run.now + 1)).toBeUndefined();
    expect(run.policy.rate).toBe(47.5);
  });

  it('climbs back after quiet answers: to just under what was allowed, in small steps near it, growing beyond', () => {
    const run = policyAt();
    for (let index = 0; index < 8; index++) (index % 2 ? run.refuse : run.answer)();
    expect(run.policy.rate).toBe(47.5);
    const rates: number[] = [];
    for (let index = 0; index < 400; index++) {
      const change = run.answer();
      if (change?.kind === 'rate') rates.push(Math.round(change.rate * 10) / 10);
    }
    // +2%, +4%, then at most +5% while near the 50/s it allowed; beyond 60/s the steps grow again.
    expect(rates.slice(0, 5)).toEqual([48.5, 50.4, 52.9, 55.6, 58.3]);
    const steps = rates.slice(1).map((rate, index) => rate / rates[index]!);
    expect(Math.max(...steps.slice(0, 4))).toBeLessThan(1.052); // the rates are rounded
    expect(Math.max(...steps)).toBeGreaterThan(1.1);
    expect(rates.at(-1)).toBe(100);
  });

  it('words every conclusion, at info; a routine rise at debug; the floor at warn', () => {
    expect(describePaceChange({ kind: 'rate', direction: 'down', rate: 47.5, allowed: 50 }, false)).toEqual({
      level: 'info',
      message: 'the tenant allows about 50/s; pace lowered to 47.5/s',
      fields: { rate: 47.5 },
    });
    expect(describePaceChange({ kind: 'rate', direction: 'down', rate: 0.1, allowed: 0.05 }, true).level).toBe('warn');
    expect(describePaceChange({ kind: 'rate', direction: 'up', rate: 60 }, false).level).toBe('debug');
    expect(describePaceChange({ kind: 'wait', until: 1, waitMs: 9000 }, false).message).toBe(
      'the tenant refuses every request for now (a spent window, most likely); waiting 9 s for it to reopen',
    );
  });

  it('rejects a rate that is not positive', () => {
    expect(() => new PacePolicy({ maxRate: 0, maxConcurrency: 1 }, 0)).toThrow(RangeError);
  });
});
