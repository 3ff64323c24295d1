import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { staticTokenProvider } from '../../src/auth/token-cache.js';
import { run } from '../../src/index.js';
import type { RunProgress } from '../../src/output/summary.js';
import { fakeTimers, settle } from '../helpers/fake-time.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { FAST_RETRY, registryOf, startTestSimulator } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

describe('onProgress', () => {
  it('is told how far the run has come at most every progressIntervalMs, and once at the end', async () => {
    fakeTimers();
    const pairs = somePairs(30);
    const simulator = await startTestSimulator({ registry: registryOf(pairs) });
    const dir = tempDir();
    const seen: Array<{ at: number; progress: RunProgress }> = [];
    const summary = await settle(
      run({
        input: writeFile(dir, 'input.csv', pairsCsv([...pairs, { deviceSerialNumber: 'x', userId: '' }])),
        out: join(dir, 'results.csv'),
        baseUrl: simulator.baseUrl,
        tokenProvider: staticTokenProvider(simulator.token),
        rate: 10,
        retryPolicy: FAST_RETRY,
        progressIntervalMs: 1000,
        onProgress: (progress) => seen.push({ at: Date.now(), progress }),
      }),
    );
    expect(summary.byOutcome).toEqual({ enabled: 30, invalid: 1 });
    // 31 rows at 10 requests/s take about 3 s: a handful of calls, not one per row.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.length).toBeLessThan(10);
    const gaps = seen.slice(1, -1).map(({ at }, index) => at - seen[index]!.at);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1000);
    for (const { progress } of seen) {
      expect(progress.rowsTotal).toBe(31);
      const counted = Object.values(progress.byOutcome).reduce((sum, n) => sum + (n ?? 0), 0);
      expect(counted).toBe(progress.rowsDone);
    }
    const middle = seen[1]!.progress;
    expect(middle.rowsDone).toBeLessThan(31);
    expect(middle.rowsPerSecond).toBeGreaterThan(5);
    expect(middle.rowsPerSecond).toBeLessThan(20);
    expect(middle.etaSeconds).toBeGreaterThan(0);
    expect(seen.at(-1)!.progress).toMatchObject({
      rowsDone: 31,
      etaSeconds: 0,
      byOutcome: { enabled: 30, invalid: 1 },
    });
    // Progress keeps no timer of its own: nothing calls it once the run is over.
    const calls = seen.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(seen).toHaveLength(calls);
  });

  it('rejects an interval that is not a number of milliseconds', async () => {
    await expect(
      run({
        input: 'in.csv',
        out: 'out.csv',
        baseUrl: 'http://127.0.0.1:9/',
        tokenProvider: staticTokenProvider('t'),
        progressIntervalMs: -1,
      }),
    ).rejects.toThrow('Expected `progressIntervalMs` (--progress-interval, in seconds) to be a number from 0 to');
  });
});
