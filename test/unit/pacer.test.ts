import { describe, expect, it } from 'vitest';
import { Pacer, type Clock } from '../../src/queue/pacer.js';

/** A clock that only moves when told to; sleeping advances it. */
function fakeClock(start = 1000): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

describe('Pacer', () => {
  it('spaces starts evenly instead of bursting', () => {
    const clock = fakeClock();
    const pacer = new Pacer(10, clock);
    expect([pacer.reserve(), pacer.reserve(), pacer.reserve(), pacer.reserve()]).toEqual([0, 100, 200, 300]);
  });

  it('starts at once after idle time, without banking the idle time for a burst', async () => {
    const clock = fakeClock();
    const pacer = new Pacer(4, clock);
    await pacer.acquire();
    await clock.sleep(10_000);
    expect(pacer.reserve()).toBe(0);
    expect(pacer.reserve()).toBe(250);
  });

  it('makes each caller wait for its own slot', async () => {
    const clock = fakeClock();
    const pacer = new Pacer(2, clock);
    for (let index = 0; index < 4; index++) await pacer.acquire();
    expect(clock.sleeps).toEqual([500, 500, 500]);
  });

  it('does not pace at an infinite rate', () => {
    const pacer = new Pacer(Number.POSITIVE_INFINITY, fakeClock());
    expect([pacer.reserve(), pacer.reserve()]).toEqual([0, 0]);
  });
});
