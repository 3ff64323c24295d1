import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

/** The `run started` log line of an enable run on the simulator with `extra` flags. */
async function runStartedLine(dir: string, name: string, extra: string[]): Promise<Record<string, unknown>> {
  const input = writeFile(dir, `${name}.csv`, pairsCsv(somePairs(1)));
  const log = join(dir, `${name}.log`);
  const args = ['enable', input, '--out', join(dir, `${name}.results.csv`), '--simulate', '--rate', '1000'];
  const result = await runCli([...args, '--log-file', log, ...extra]);
  expect(result.code).toBe(0);
  const lines = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const started = lines.find((line) => line['msg'] === 'run started');
  expect(started).toBeDefined();
  return started!;
}

describe('ds100-bulk enable --adaptive-rate', () => {
  it('adapts by default and --no-adaptive-rate turns it off', async () => {
    const dir = tempDir();
    const [adaptive, fixed] = await Promise.all([
      runStartedLine(dir, 'default', []),
      runStartedLine(dir, 'fixed', ['--no-adaptive-rate']),
    ]);
    expect(adaptive).toMatchObject({ rate: 1000, adaptiveRate: true });
    expect(fixed).toMatchObject({ rate: 1000, adaptiveRate: false });
  });
});
