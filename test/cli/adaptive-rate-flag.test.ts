import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/ds100-bulk.js');
const SAMPLE = join(ROOT, 'samples/shipment.csv');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds100-adaptive-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function runStartedLine(extra: string[]): Promise<Record<string, unknown>> {
  // A log file per run: pino appends to an existing file.
  const log = join(dir, `run-${extra.length}.log`);
  const result = spawnSync(
    process.execPath,
    [BIN, 'enable', SAMPLE, '--out', join(dir, 'r.csv'), '--simulate', '--rate', '1000', '--log-file', log, ...extra],
    { env: { PATH: process.env['PATH'] ?? '' }, encoding: 'utf8' },
  );
  expect(result.status).toBe(0);
  const lines = (await readFile(log, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const started = lines.find((line) => line['msg'] === 'run started');
  expect(started).toBeDefined();
  return started!;
}

describe('ds100-bulk enable --adaptive-rate', () => {
  it('adapts by default and --no-adaptive-rate turns it off', async () => {
    expect(await runStartedLine([])).toMatchObject({ rate: 1000, adaptiveRate: true });
    expect(await runStartedLine(['--no-adaptive-rate'])).toMatchObject({ rate: 1000, adaptiveRate: false });
  });
});
