import { describe, expect, it } from 'vitest';
import { AdaptiveRate } from '../../src/queue/adaptive-rate.js';

// Times are plain milliseconds on a fake clock: every call is given `now`, nothing sleeps.
const settings = { maxRate: 100, increaseAfterMs: 1000, briefPauseMs: 100, maxPauseMs: 300_000 };

describe('AdaptiveRate', () => {
  it('starts at the configured rate, with no pause', () => {
    const limiter = new AdaptiveRate(settings, 0);
    expect(limiter.rate).toBe(100);
    expect(limiter.pausedUntil).toBe(Number.NEGATIVE_INFINITY);
  });

  it('drops the rate multiplicatively on a 429', () => {
    const limiter = new AdaptiveRate(settings, 0);
    expect(limiter.onRateLimited(10, 12)).toBe(true);
    expect(limiter.rate).toBeCloseTo(70);
    expect(limiter.onRateLimited(20, 22)).toBe(true);
    expect(limiter.rate).toBeCloseTo(49);
  });

  it('does not count again the 429s of requests sent before the last decrease', () => {
    const limiter = new AdaptiveRate(settings, 0);
    limiter.onRateLimited(10, 12);
    // Sent at 11, before the decrease at 12: it went out at the old rate, already paid for.
    expect(limiter.onRateLimited(11, 13)).toBe(false);
    expect(limiter.rate).toBeCloseTo(70);
    // Sent after the decrease: the new rate is still too high.
    expect(limiter.onRateLimited(12, 14)).toBe(true);
    expect(limiter.rate).toBeCloseTo(49);
  });

  it('never goes below the floor', () => {
    const limiter = new AdaptiveRate({ ...settings, minRate: 20 }, 0);
    for (let t = 0; t < 100; t += 2) limiter.onRateLimited(t, t + 1);
    expect(limiter.rate).toBe(20);
  });

  it('has a floor of 0.1/s by default, or the configured rate when lower', () => {
    const limiter = new AdaptiveRate(settings, 0);
    for (let t = 0; t < 1000; t += 2) limiter.onRateLimited(t, t + 1);
    expect(limiter.rate).toBeCloseTo(0.1);
    const slow = new AdaptiveRate({ maxRate: 0.05 }, 0);
    slow.onRateLimited(0, 1);
    expect(slow.rate).toBeCloseTo(0.05);
  });

  it('holds everyone back only briefly for a Retry-After while slowing down can still help', () => {
    const limiter = new AdaptiveRate(settings, 0);
    limiter.onRateLimited(0, 50, 1000);
    expect(limiter.pausedUntil).toBe(150);
    // A 429 without Retry-After lowers the rate but adds no pause.
    const other = new AdaptiveRate(settings, 0);
    other.onRateLimited(0, 50);
    expect(other.pausedUntil).toBe(Number.NEGATIVE_INFINITY);
    // A Retry-After shorter than the brief pause is taken as is.
    const short = new AdaptiveRate(settings, 0);
    short.onRateLimited(0, 50, 30);
    expect(short.pausedUntil).toBe(80);
  });

  it('holds everyone back for the whole Retry-After once at the floor, up to the cap', () => {
    const limiter = new AdaptiveRate({ ...settings, minRate: 50, maxPauseMs: 60_000 }, 0);
    limiter.onRateLimited(0, 10, 5000); // 100 -> 70, brief pause
    expect(limiter.pausedUntil).toBe(110);
    limiter.onRateLimited(200, 210, 5000); // 70 -> 50 (the floor), still brief: it was above the floor
    expect(limiter.rate).toBe(50);
    expect(limiter.pausedUntil).toBe(310);
    limiter.onRateLimited(400, 410, 5000); // already at the floor: the whole Retry-After
    expect(limiter.pausedUntil).toBe(5410);
    limiter.onRateLimited(6000, 6010, 3_600_000); // capped
    expect(limiter.pausedUntil).toBe(66_010);
  });

  it('does not raise the rate before a quiet period, nor on answers sent before the last change', () => {
    const limiter = new AdaptiveRate(settings, 0);
    limiter.onRateLimited(0, 100); // 70/s from t=100
    expect(limiter.onAnswered(150, 900)).toBe(false); // quiet for 800 ms only
    expect(limiter.onAnswered(50, 1200)).toBe(false); // sent before the decrease
    expect(limiter.rate).toBeCloseTo(70);
    expect(limiter.onAnswered(150, 1100)).toBe(true);
  });

  it('climbs back quickly to just under the rate that drew the 429, then probes in growing steps', () => {
    const limiter = new AdaptiveRate(settings, 0);
    limiter.onRateLimited(0, 0); // drew a 429 at 100/s -> 70/s; recovery heads for 95/s
    const rates: number[] = [];
    for (let t = 1000; t <= 7000; t += 1000) {
      expect(limiter.onAnswered(t - 1, t)).toBe(true);
      rates.push(limiter.rate);
    }
    // Half the gap to 95 at each step: 82.5, 88.75, 91.875, 93.4375 (gap 1.56 < 2% of 95: probing)
    expect(rates.slice(0, 4)).toEqual([82.5, 88.75, 91.875, 93.4375]);
    // Probes add 2%, 4%, 6% … of the rate, never past the ceiling.
    expect(rates[4]).toBeCloseTo(93.4375 * 1.02);
    expect(rates[5]).toBeCloseTo(93.4375 * 1.02 * 1.04);
    expect(rates[6]).toBe(100);
    expect(limiter.onAnswered(8999, 9000)).toBe(false); // at the ceiling: nothing to raise
  });

  it('starts the quiet period when a pause ends', () => {
    const limiter = new AdaptiveRate({ ...settings, minRate: 70 }, 0);
    limiter.onRateLimited(0, 0); // 70: the floor
    limiter.onRateLimited(10, 10, 5000); // at the floor: paused until 5010
    expect(limiter.pausedUntil).toBe(5010);
    expect(limiter.onAnswered(5010, 5500)).toBe(false);
    expect(limiter.onAnswered(5020, 6010)).toBe(true);
  });

  it('restarts the probing steps after a 429', () => {
    const limiter = new AdaptiveRate({ ...settings, maxRate: 1000 }, 0);
    limiter.onRateLimited(0, 0); // tripped at 1000 -> 700
    let t = 0;
    const raise = (): number => {
      t += 1000;
      limiter.onAnswered(t - 1, t);
      return limiter.rate;
    };
    while (limiter.rate < 931) raise(); // recover to ~950 * 0.98
    const beforeProbe = raise();
    const afterFirstProbe = raise();
    expect(afterFirstProbe / beforeProbe).toBeCloseTo(1.04); // second probe in a row
    limiter.onRateLimited(t, t + 1); // tripped again at this rate
    const tripped = afterFirstProbe;
    expect(limiter.rate).toBeCloseTo(tripped * 0.7);
    t += 1;
    while (limiter.rate < tripped * 0.95 * 0.98) raise();
    const start = limiter.rate;
    expect(raise() / start).toBeCloseTo(1.02); // the steps start small again
  });

  it('rejects a rate that is not positive', () => {
    expect(() => new AdaptiveRate({ maxRate: 0 }, 0)).toThrow(RangeError);
  });
});
