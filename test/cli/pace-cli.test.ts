import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, waitFor } from '../helpers/cli.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { countBy, readResults } from '../helpers/results.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

describe('ds100-bulk enable against a window limiter (built CLI, simulator in its own process)', () => {
  it('waits for the window, paces itself to it, says so in words, and enables every row', async () => {
    const simulate = startCli(['simulate', '--limiter', 'sliding', '--limit', '5', '--window', '1']);
    try {
      await waitFor(() => simulate.output().stdout.includes('answers so far: GET '), 'the simulator to listen');
      const { stdout } = simulate.output();
      const url = /listening at (\S+)/.exec(stdout)![1]!;
      const token = /token it accepts: (\S+)/.exec(stdout)![1]!;
      const dir = tempDir();
      const out = join(dir, 'r.csv');
      const input = writeFile(dir, 'in.csv', pairsCsv(somePairs(15)));
      const run = await runCli(['enable', input, '--out', out, '--base-url', url, '--rate', '100'], {
        DS100_TOKEN: token,
      });
      expect(run.code).toBe(0);
      expect(countBy(readResults(out), 'outcome')).toEqual({ enabled: 15 });
      const logs = run.stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string; rateLimitedAnswers?: number });
      const conclusion = logs.find((line) =>
        /^the tenant allows about \d+ requests per [\d.]+ s window/.test(line.msg),
      );
      expect(conclusion?.level).toBe(30);
      expect(conclusion?.msg).toMatch(/pace lowered to [\d.]+\/s, waiting 1 s for the next window$/);
      // A few 429s to learn the window; not one per row.
      const finished = logs.find((line) => line.msg === 'run finished');
      expect(finished?.rateLimitedAnswers).toBeLessThan(5);
    } finally {
      simulate.child.kill('SIGTERM');
    }
  });
});
