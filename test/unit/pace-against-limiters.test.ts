import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AttemptOutcome } from '../../src/client/response.js';
import { RequestQueue } from '../../src/queue/request-queue.js';

/**
 * The request queue with its adaptive pace, against small models of the limiters a tenant's gateway
 * may run, on fake time: thousands of requests in milliseconds, with the targets (run time
 * against the ideal, the share of 429s, no failed row). The benchmark (bench/limiters.bench.js) holds
 * the real client to the real simulator; this holds the policy to the same cases, fast.
 * `PACE_REPORT=1` prints each case's figures, `PACE_TRACE=1` every pace change.
 */

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

type Verdict = { readonly ok: true } | { readonly ok: false; readonly retryAfterS?: number | undefined };

interface LimiterModel {
  admit(now: number): Verdict;
  release?(): void;
}

const bucket = (perSecond: (now: number) => number): LimiterModel => {
  let tokens = perSecond(0);
  let last = 0;
  return {
    admit(now) {
      const rate = perSecond(now);
      tokens = Math.min(rate, tokens + ((now - last) / 1000) * rate);
      last = now;
      if (tokens >= 1) {
        tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - tokens) / rate)) };
    },
  };
};

const sliding = (limit: number, windowMs: number): LimiterModel => {
  const admitted: number[] = [];
  return {
    admit(now) {
      while (admitted.length > 0 && admitted[0]! <= now - windowMs) admitted.shift();
      if (admitted.length < limit) {
        admitted.push(now);
        return { ok: true };
      }
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((admitted[0]! + windowMs - now) / 1000)) };
    },
  };
};

const fixed = (limit: number, windowMs: number): LimiterModel => {
  let windowIndex = 0;
  let used = 0;
  return {
    admit(now) {
      const index = Math.floor(now / windowMs);
      if (index !== windowIndex) [windowIndex, used] = [index, 0];
      if (used < limit) {
        used++;
        return { ok: true };
      }
      return { ok: false, retryAfterS: Math.max(1, Math.ceil(((index + 1) * windowMs - now) / 1000)) };
    },
  };
};

const concurrency = (limit: number): LimiterModel => {
  let inFlight = 0;
  return {
    admit() {
      if (inFlight >= limit) return { ok: false };
      inFlight++;
      return { ok: true };
    },
    release() {
      inFlight--;
    },
  };
};

/** A deterministic stand-in for Math.random, so that a failure can be replayed. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const noise = (share: number, random = seeded(7)): LimiterModel => ({
  admit: () => (random() < share ? { ok: false, retryAfterS: 1 } : { ok: true }),
});

const enabled: AttemptOutcome = {
  ok: true,
  httpStatus: 200,
  token: { tokenSerialNumber: '1', tokenStatus: 'Enabled', tokenStatusChangedAt: '', tokenStatusChangedBy: '' },
};

/** Sends `rows` rows through one queue against `limiter`; returns the fake time it took and the 429 share. */
async function drive(
  limiter: LimiterModel,
  {
    rows,
    rate,
    concurrency: slots = 16,
    latencyMs = 5,
  }: { rows: number; rate: number; concurrency?: number; latencyMs?: number },
) {
  const start = performance.now();
  const requests = new RequestQueue({
    concurrency: slots,
    rate,
    retryPolicy: { retries: 10, baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryAfterMs: 300_000 },
    random: seeded(3),
    adaptive: {
      onPaceChange: (change) => {
        if (process.env['PACE_TRACE'])
          console.log(`TRACE ${((performance.now() - start) / 1000).toFixed(2)} ${JSON.stringify(change)}`);
      },
    },
  });
  let sent = 0;
  let refused = 0;
  const request = (): Promise<AttemptOutcome> =>
    new Promise((resolve) => {
      sent++;
      const verdict = limiter.admit(performance.now() - start);
      if (process.env['PACE_TRACE'] === 'all')
        console.log(`REQ ${((performance.now() - start) / 1000).toFixed(3)} ${verdict.ok}`);
      if (!verdict.ok) {
        refused++;
        // A gateway refuses at once; the tenant takes its time to answer.
        resolve({
          ok: false,
          code: 'RATE_LIMITED',
          httpStatus: 429,
          message: '429',
          retryAfterMs: verdict.retryAfterS === undefined ? undefined : verdict.retryAfterS * 1000,
        });
        return;
      }
      setTimeout(() => {
        limiter.release?.();
        resolve(enabled);
      }, latencyMs);
    });
  // As the pipeline does: a bounded number of rows in progress, the next one read when there is room.
  let failed = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rows) {
      next++;
      const { outcome } = await requests.send(request);
      if (!outcome?.ok) failed++;
    }
  };
  const done = Promise.all(Array.from({ length: Math.max(16, slots * 4) }, worker));
  await vi.runAllTimersAsync();
  await done;
  requests.close();
  return { seconds: (performance.now() - start) / 1000, share429: refused / sent, failed, sent };
}

const report = (name: string, run: { seconds: number; share429: number; sent: number }) =>
  process.env['PACE_REPORT'] &&
  console.log(`PACE ${name}: ${run.seconds.toFixed(1)} s, ${(run.share429 * 100).toFixed(1)}% 429, ${run.sent} sent`);

describe('the adaptive pace against each kind of limiter, --rate 10x the limit (fake time)', () => {
  it.each([
    ['a token bucket of 50/s', () => bucket(() => 50), 750, 500, 15, 1.15],
    ['a sliding window of 50 per 1 s', () => sliding(50, 1000), 750, 500, 15, 1.15],
    ['a sliding window of 250 per 10 s', () => sliding(250, 10_000), 750, 250, 30, 1.15],
    ['a fixed window of 250 per 10 s', () => fixed(250, 10_000), 750, 250, 30, 1.15],
  ] as const)('%s', async (_, make, rows, rate, idealSeconds, atMost) => {
    const run = await drive(make(), { rows, rate });
    report(_, run);
    expect(run.failed).toBe(0);
    expect(run.seconds / idealSeconds).toBeLessThanOrEqual(atMost);
    expect(run.share429).toBeLessThan(0.03);
  });

  it('a concurrency limit of 4 with 100 ms answers: lowers the concurrency, not the rate', async () => {
    const run = await drive(concurrency(4), { rows: 600, rate: 400, latencyMs: 100 });
    report('concurrency', run);
    expect(run.failed).toBe(0);
    expect(run.seconds / 15).toBeLessThanOrEqual(1.2);
    expect(run.share429).toBeLessThan(0.03);
  });

  it.each([
    ['doubles', (now: number) => (now < 10_000 ? 50 : 100)],
    ['halves', (now: number) => (now < 10_000 ? 100 : 50)],
  ] as const)('a bucket whose limit %s after 10 s', async (_, limit) => {
    const run = await drive(bucket(limit), { rows: 1500, rate: 1000 });
    report(_, run);
    expect(run.failed).toBe(0);
    expect(run.seconds / 20).toBeLessThanOrEqual(1.15);
    expect(run.share429).toBeLessThan(0.03);
  });

  it('3% random 429s and no limit: at least 80% of --rate', async () => {
    const run = await drive(noise(0.03), { rows: 1000, rate: 50 });
    report('noise', run);
    expect(run.failed).toBe(0);
    expect(1000 / run.seconds).toBeGreaterThanOrEqual(0.8 * 50);
  });
});
