import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/index.js';
import { fakeTimers, settle } from '../helpers/fake-time.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { memoryLog, type MemoryLog } from '../helpers/log-sink.js';
import { readResults } from '../helpers/results.js';
import { startTestSimulator, tenantOf, PREFLIGHT_REQUESTS } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

// On fake time: the tenant's token bucket, the run's pace, the adaptive gate and every Retry-After
// read the same fake clock, so seconds of storm pass in a moment.
const ROWS = 80;

let dir: string;
beforeEach(() => {
  fakeTimers();
  dir = tempDir();
});

/** Log lines where the pace layer says, in words, what it concluded about the tenant's limit. */
const paceLowered = (log: MemoryLog): number =>
  log.records.filter((record) => /^the tenant (allows about|refuses every request)/.test(String(record.msg))).length;

describe('a 429 storm', () => {
  it('is absorbed by the shared adaptive limiter: every row enabled, 429s kept few', async () => {
    // The tenant takes 20 requests/s after a burst of 5; the run is told 100/s, five times too many.
    const simulator = await startTestSimulator({ autoRegister: true, rateLimit: { perSecond: 20, burst: 5 } });
    const input = writeFile(dir, 'shipment.csv', pairsCsv(somePairs(ROWS, 6)));
    const out = join(dir, 'results.csv');
    const log = memoryLog('debug');
    const summary = await settle(
      run({ input, out, ...tenantOf(simulator), rate: 100, concurrency: 4, logger: log.logger }),
    );

    expect(summary.byOutcome).toEqual({ enabled: ROWS });
    const results = readResults(out);
    expect(results).toHaveLength(ROWS);
    expect(results.every((row) => row['outcome'] === 'enabled' && row['errorCode'] === '')).toBe(true);

    const tooMany = simulator.countsByStatus.get(429) ?? 0;
    expect(tooMany).toBeGreaterThan(0); // there was a storm to absorb
    expect(results.some((row) => Number(row['attempts']) > 1)).toBe(true); // and rows were retried
    expect(summary.requests).toBe(ROWS + PREFLIGHT_REQUESTS + tooMany);
    // A fixed pace five times over the limit draws a 429 for most requests; the shared limiter slows
    // everyone after the first ones, so the 429s stay a small share.
    expect(tooMany).toBeLessThan(ROWS / 2);
    expect(simulator.stats().requests).toBe(summary.requests);
    // The administrator is told that the pace went down, and by how much; no row is logged at info.
    expect(paceLowered(log)).toBeGreaterThan(0);
    const [finished] = log.withMessage('run finished');
    expect(finished).toMatchObject({ rateLimitedAnswers: tooMany });
    expect(finished?.['finalRate']).toBeLessThan(100);
    // Info lines: the start, the estimate, the end, and what the pace layer concluded about the tenant; no row.
    const infoLines = log.records.filter((record) => record.level === 30).map((record) => String(record.msg));
    expect(infoLines.slice(0, 3)).toEqual([
      'checking the tenant with one read-only lookup before the run',
      'run started',
      '80 rows at 100/s: about 1 s; raise --rate if your tenant allows',
    ]);
    expect(infoLines.slice(3, -1).filter((msg) => !/^the tenant /.test(msg))).toEqual([]);
    expect(infoLines.at(-1)).toBe('run finished');
  });

  it('with --no-adaptive-rate keeps the fixed pace and leaves 429s to the per-row retries', async () => {
    // 2 requests/s after a burst of 5: at a fixed 100/s nearly every request after the burst is refused.
    const simulator = await startTestSimulator({ autoRegister: true, rateLimit: { perSecond: 2, burst: 5 } });
    const input = writeFile(dir, 'shipment.csv', pairsCsv(somePairs(30, 6)));
    const log = memoryLog('debug');
    const summary = await settle(
      run({
        logger: log.logger,
        input,
        out: join(dir, 'results.csv'),
        ...tenantOf(simulator),
        rate: 100,
        concurrency: 4,
        adaptiveRate: false,
        retryPolicy: { retries: 0 },
      }),
    );
    expect(summary.byErrorCode.RATE_LIMITED ?? 0).toBeGreaterThan(15);
    expect(paceLowered(log)).toBe(0);
    expect(log.withMessage('run finished')[0]).toMatchObject({ finalRate: 100 });
  });
});
