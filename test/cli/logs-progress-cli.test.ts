import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

/** An enable run of 5 rows on the simulator, stderr being a pipe (no terminal), with `extra` flags. */
async function enableRun(dir: string, name: string, extra: string[]) {
  const input = writeFile(dir, `${name}.csv`, pairsCsv(somePairs(5)));
  const args = ['enable', input, '--out', join(dir, `${name}.results.csv`), '--simulate', '--rate', '1000'];
  const result = await runCli([...args, ...extra]);
  expect(result.code).toBe(0);
  return result;
}

const records = (stderr: string): Array<Record<string, unknown>> =>
  stderr
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('logs and progress on the command line, stderr being no terminal', () => {
  it('logs JSON with the estimate and a progress record, and pretty lines with --log-format pretty', async () => {
    const dir = tempDir();
    const [json, pretty] = await Promise.all([
      enableRun(dir, 'json', ['--log-format', 'json']),
      enableRun(dir, 'pretty', ['--log-format', 'pretty']),
    ]);
    const lines = records(json.stderr);
    expect(lines.find((line) => line['msg'] === 'run started')).toBeDefined();
    expect(lines.map((line) => line['msg'])).toContain(
      '5 rows at 1,000/s: about 1 s; raise --rate if your tenant allows',
    );
    // The last row is always reported; 30 s apart before that, which this short run never reaches.
    expect(lines.filter((line) => line['msg'] === 'progress')).toEqual([
      expect.objectContaining({ level: 30, rowsDone: 5, rowsTotal: 5, etaSeconds: 0, enabled: 5, failed: 0, other: 0 }),
    ]);
    expect(pretty.stderr).not.toContain('{"level":');
    expect(pretty.stderr).toMatch(/INFO.*: run started/);
    expect(pretty.stderr).toMatch(/INFO.*: progress/);
    expect(pretty.stdout).toContain('ds100-bulk enable: 5 rows from');
  });

  it('leaves progress out with --no-progress or --progress-interval 0, and all but warnings out with --quiet', async () => {
    const dir = tempDir();
    const [noProgress, never, quiet] = await Promise.all([
      enableRun(dir, 'none', ['--no-progress']),
      enableRun(dir, 'never', ['--progress-interval', '0']),
      enableRun(dir, 'quiet', ['--quiet']),
    ]);
    for (const { stderr } of [noProgress, never]) {
      const messages = records(stderr).map((line) => line['msg']);
      expect(messages).toContain('run finished');
      expect(messages).not.toContain('progress');
    }
    expect(records(quiet.stderr).filter((line) => (line['level'] as number) < 40)).toEqual([]);
    expect(quiet.stdout).toMatch(/^ {2}enabled +5$/m);
  });

  it('refuses a negative --progress-interval', async () => {
    const result = await runCli(['enable', 'in.csv', '--out', 'o.csv', '--simulate', '--progress-interval', '-1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--progress-interval, in seconds');
  });
});
