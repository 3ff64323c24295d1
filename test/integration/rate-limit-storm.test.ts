import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/index.js';
import { staticTokenProvider } from '../../src/auth/token-cache.js';
import { generatePairs, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';

const ROWS = 80;

let dir: string;
let simulator: RunningSimulator | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds100-storm-'));
});

afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** A debug-level logger whose JSON lines are kept in memory. */
function memoryLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

const paceLowered = (lines: Array<Record<string, unknown>>): number =>
  lines.filter((line) => line['msg'] === 'the tenant answered 429: pace lowered').length;

async function writeShipment(rows: number): Promise<string> {
  const lines = ['deviceSerialNumber,userId'];
  for (const pair of generatePairs(rows, 6)) lines.push(`${pair.deviceSerialNumber},${pair.userId}`);
  const file = join(dir, 'shipment.csv');
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

describe('a 429 storm', () => {
  it('is absorbed by the shared adaptive limiter: every row enabled, 429s kept few', async () => {
    // The tenant takes 20 requests/s after a burst of 5; the run is told 100/s, five times too many.
    simulator = await startSimulator({ autoRegister: true, rateLimit: { perSecond: 20, burst: 5 } });
    const input = await writeShipment(ROWS);
    const out = join(dir, 'results.csv');
    const { logger, lines } = memoryLogger();
    const summary = await run({
      input,
      out,
      baseUrl: simulator.baseUrl,
      tokenProvider: staticTokenProvider(simulator.token),
      rate: 100,
      concurrency: 4,
      logger,
    });

    expect(summary.byOutcome).toEqual({ enabled: ROWS });
    const results = parse(await readFile(out), { columns: true }) as Array<Record<string, string>>;
    expect(results).toHaveLength(ROWS);
    expect(results.every((row) => row['outcome'] === 'enabled' && row['errorCode'] === '')).toBe(true);

    const tooMany = simulator.countsByStatus.get(429) ?? 0;
    expect(tooMany).toBeGreaterThan(0); // there was a storm to absorb
    expect(results.some((row) => Number(row['attempts']) > 1)).toBe(true); // and rows were retried
    expect(summary.requests).toBe(ROWS + tooMany);
    // A fixed pace five times over the limit draws a 429 for most requests; the shared limiter slows
    // everyone after the first ones, so the 429s stay a small share.
    expect(tooMany).toBeLessThan(ROWS / 2);
    expect(simulator.stats().requests).toBe(summary.requests);
    // The administrator is told that the pace went down, and by how much; no row is logged at info.
    expect(paceLowered(lines)).toBeGreaterThan(0);
    const finished = lines.find((line) => line['msg'] === 'run finished');
    expect(finished).toMatchObject({ rateLimitedAnswers: tooMany });
    expect(finished?.['finalRate']).toBeLessThan(100);
  });

  it('with --no-adaptive-rate keeps the fixed pace and leaves 429s to the per-row retries', async () => {
    // 2 requests/s after a burst of 5: at a fixed 100/s nearly every request after the burst is refused.
    simulator = await startSimulator({ autoRegister: true, rateLimit: { perSecond: 2, burst: 5 } });
    const input = await writeShipment(30);
    const out = join(dir, 'results.csv');
    const { logger, lines } = memoryLogger();
    const summary = await run({
      logger,
      input,
      out,
      baseUrl: simulator.baseUrl,
      tokenProvider: staticTokenProvider(simulator.token),
      rate: 100,
      concurrency: 4,
      adaptiveRate: false,
      retryPolicy: { retries: 0 },
    });
    expect(summary.byErrorCode.RATE_LIMITED ?? 0).toBeGreaterThan(15);
    expect(paceLowered(lines)).toBe(0);
    expect(lines.find((line) => line['msg'] === 'run finished')).toMatchObject({ finalRate: 100 });
  });
});
