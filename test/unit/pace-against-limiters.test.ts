import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AttemptOutcome } from '../../src/client/response.js';
import { RequestQueue } from '../../src/queue/request-queue.js';
import { createLimiter, Random429, type Limiter, type LimitStep } from '../../src/simulator/limiters.js';
import { seededRandom } from '../../src/simulator/tenant.js';

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

// The simulator's own limiters (the benchmark's too), on the fake clock.
const bucket = (schedule: LimitStep[]): Limiter => createLimiter({ kind: 'bucket', schedule });
const sliding = (limit: number, windowSeconds: number): Limiter =>
  createLimiter({ kind: 'sliding', limit, windowSeconds });
const fixed = (limit: number, windowSeconds: number): Limiter => createLimiter({ kind: 'fixed', limit, windowSeconds });
const concurrency = (limit: number): Limiter => createLimiter({ kind: 'concurrency', limit });
const noise = (share: number): Limiter => new Random429(share, seededRandom(7));

const enabled: AttemptOutcome = {
  ok: true,
  httpStatus: 200,
  token: { tokenSerialNumber: '1', tokenStatus: 'Enabled', tokenStatusChangedAt: '', tokenStatusChangedBy: '' },
};

/** Sends `rows` rows through one queue against `limiter`; returns the fake time it took and the 429 share. */
async function drive(
  limiter: Limiter,
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
    random: seededRandom(3),
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
          retryAfterMs: verdict.retryAfterSeconds === undefined ? undefined : verdict.retryAfterSeconds * 1000,
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
    ['a token bucket of 50/s', () => bucket([{ atMs: 0, limit: 50 }]), 750, 500, 15, 1.15],
    ['a sliding window of 50 per 1 s', () => sliding(50, 1), 750, 500, 15, 1.15],
    ['a sliding window of 250 per 10 s', () => sliding(250, 10), 750, 250, 30, 1.15],
    ['a fixed window of 250 per 10 s', () => fixed(250, 10), 750, 250, 30, 1.15],
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
    [
      'doubles',
      [
        { atMs: 0, limit: 50 },
        { atMs: 10_000, limit: 100 },
      ],
    ],
    [
      'halves',
      [
        { atMs: 0, limit: 100 },
        { atMs: 10_000, limit: 50 },
      ],
    ],
  ] as const)('a bucket whose limit %s after 10 s', async (_, schedule) => {
    const run = await drive(bucket([...schedule]), { rows: 1500, rate: 1000 });
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
