import { describe, expect, it } from 'vitest';
import { Pacer, type Clock, type RateChange } from '../../src/queue/pacer.js';

/** A clock that only moves when the test says so; sleepers wake in time order. */
class FakeClock implements Clock {
  time = 0;
  readonly #sleepers: Array<{ until: number; wake: () => void }> = [];
  now(): number {
    return this.time;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((wake) => this.#sleepers.push({ until: this.time + ms, wake }));
  }
  /** Moves to `time`, waking each sleeper due by then (and letting it run) in order. */
  async advanceTo(time: number): Promise<void> {
    for (;;) {
      this.#sleepers.sort((a, b) => a.until - b.until);
      const next = this.#sleepers[0];
      if (!next || next.until > time) break;
      this.#sleepers.shift();
      this.time = next.until;
      next.wake();
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.time = time;
  }
}

describe('Pacer', () => {
  it('spaces starts evenly and does not bank idle time', () => {
    const clock = new FakeClock();
    const pacer = new Pacer(10, { clock });
    expect([pacer.reserve(), pacer.reserve(), pacer.reserve()]).toEqual([0, 100, 200]);
    clock.time = 5000; // idle for a long time: still one slot at a time, no burst
    expect([pacer.reserve(), pacer.reserve()]).toEqual([0, 100]);
  });

  it('hands out a free slot at once, without a promise, and a later one as a promise', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(10, { clock });
    expect(pacer.acquire()).toBe(0); // a number: the caller need not await
    const second = pacer.acquire();
    expect(second).toBeInstanceOf(Promise);
    await clock.advanceTo(100);
    expect(await second).toBe(100);
  });

  it('slows every later start on a 429, and takes back slots handed out at the old pace', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(10, { clock });
    const first = await pacer.acquire(); // starts at 0
    expect(first).toBe(0);
    let secondStart: number | undefined;
    void Promise.resolve(pacer.acquire()).then((at) => (secondStart = at)); // reserved for 100 at 10/s
    await clock.advanceTo(10);
    pacer.rateLimited(first); // 10/s -> 7/s: the next start is one new interval (142.9 ms) from now
    await clock.advanceTo(100);
    expect(secondStart).toBeUndefined(); // woke at its old slot, reserved again
    await clock.advanceTo(200);
    expect(secondStart).toBeCloseTo(10 + 1000 / 7);
    expect(pacer.rate).toBeCloseTo(7);
  });

  it('holds back starts during a Retry-After pause', async () => {
    const clock = new FakeClock();
    const changes: RateChange[] = [];
    const pacer = new Pacer(10, { clock, adaptive: { briefPauseMs: 400 }, onRateChange: (c) => changes.push(c) });
    const first = await pacer.acquire();
    clock.time = 20;
    pacer.rateLimited(first, 1000);
    expect(changes).toEqual([{ direction: 'down', rate: 7, pausedForMs: 400 }]);
    expect(pacer.reserve()).toBe(400); // not before the pause ends at 420
  });

  it('speeds up again after answers without a 429', async () => {
    const clock = new FakeClock();
    const changes: RateChange[] = [];
    const pacer = new Pacer(10, { clock, onRateChange: (c) => changes.push(c) });
    pacer.rateLimited(await pacer.acquire());
    clock.time = 1500;
    pacer.answered(1400);
    expect(changes.map((c) => c.direction)).toEqual(['down', 'up']);
    expect(pacer.rate).toBeGreaterThan(7);
    expect(pacer.rate).toBeLessThanOrEqual(10);
  });

  it('keeps a fixed pace when adaptation is off', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(10, { clock, adaptive: false });
    pacer.rateLimited(await pacer.acquire(), 5000);
    expect(pacer.rate).toBe(10);
    expect(pacer.reserve()).toBe(100);
  });

  it('takes a bare Clock as its second argument too', () => {
    const clock = new FakeClock();
    const pacer = new Pacer(4, clock);
    expect([pacer.reserve(), pacer.reserve()]).toEqual([0, 250]);
    clock.time = 100;
    expect(pacer.reserve()).toBe(400); // the fake clock is the one in use
  });

  it('does not pace at all at a rate of Infinity', () => {
    const pacer = new Pacer(Number.POSITIVE_INFINITY, { clock: new FakeClock() });
    expect([pacer.reserve(), pacer.reserve()]).toEqual([0, 0]);
    pacer.rateLimited(0, 1000);
    expect(pacer.rate).toBe(Number.POSITIVE_INFINITY);
  });
});
