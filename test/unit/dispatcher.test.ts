import { describe, expect, it } from 'vitest';
import type { AttemptOutcome } from '../../src/client/response.js';
import { Dispatcher, type Dispatched } from '../../src/queue/dispatcher.js';
import { Pacer, type Clock } from '../../src/queue/pacer.js';

const enabled: AttemptOutcome = {
  ok: true,
  httpStatus: 200,
  token: { tokenSerialNumber: '1', tokenStatus: 'Enabled', tokenStatusChangedAt: '', tokenStatusChangedBy: '' },
};
const rateLimited: AttemptOutcome = { ok: false, code: 'RATE_LIMITED', httpStatus: 429, message: 'slow down' };

/** A clock whose sleeps return at once, so pacing costs no real time. */
function instantClock(): Clock {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
}

/** The real pacer, counting the slots it hands out. */
class CountingPacer extends Pacer {
  acquisitions = 0;
  override async acquire(): Promise<number> {
    this.acquisitions++;
    return super.acquire();
  }
}

describe('Dispatcher', () => {
  it('sends every retry through the same pacer as first attempts', async () => {
    const pacer = new CountingPacer(5, instantClock());
    const dispatcher = new Dispatcher({
      concurrency: 2,
      pacer,
      retryPolicy: { retries: 3, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
    });
    const finished: Dispatched[] = [];
    for (let row = 0; row < 4; row++) {
      let calls = 0;
      // Row r is rate limited r times before it goes through.
      await dispatcher.submit(
        async () => (calls++ < row ? rateLimited : enabled),
        async (result) => {
          finished.push(result);
        },
      );
    }
    await dispatcher.drain();
    expect(finished.map((result) => result.attempts).toSorted()).toEqual([1, 2, 3, 4]);
    expect(dispatcher.requestsSent).toBe(10);
    expect(pacer.acquisitions).toBe(10);
    expect(dispatcher.rateLimitedAnswers).toBe(6);
  });

  it('keeps at most `concurrency` requests in flight and bounds admitted rows', async () => {
    const dispatcher = new Dispatcher({
      concurrency: 3,
      pacer: new Pacer(Number.POSITIVE_INFINITY),
      retryPolicy: { retries: 0, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
      maxOpenRows: 5,
    });
    let inFlight = 0;
    let maxInFlight = 0;
    let open = 0;
    let maxOpen = 0;
    for (let row = 0; row < 40; row++) {
      await dispatcher.submit(
        async () => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((resolve) => setImmediate(resolve));
          inFlight--;
          return enabled;
        },
        async () => {
          open--;
        },
      );
      open++;
      maxOpen = Math.max(maxOpen, open);
    }
    await dispatcher.drain();
    expect(maxInFlight).toBe(3);
    expect(maxOpen).toBeLessThanOrEqual(5);
    expect(open).toBe(0);
  });

  it('surfaces an error from the results side instead of losing it', async () => {
    const dispatcher = new Dispatcher({
      concurrency: 1,
      pacer: new Pacer(Number.POSITIVE_INFINITY),
      retryPolicy: { retries: 0, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
    });
    await dispatcher.submit(
      async () => enabled,
      async () => {
        throw new Error('disk full');
      },
    );
    await expect(dispatcher.drain()).rejects.toThrow('disk full');
  });
});
