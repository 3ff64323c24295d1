import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startSimulateCli } from '../helpers/cli.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { countBy, readResults } from '../helpers/results.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

describe('ds100-bulk enable against a window limiter (built CLI, simulator in its own process)', () => {
  it('waits for the window, paces itself to it, says so in words, and enables every row', async () => {
    const { simulate, url, token } = await startSimulateCli(['--limiter', 'sliding', '--limit', '5', '--window', '1']);
    try {
      const dir = tempDir();
      const out = join(dir, 'r.csv');
      const input = writeFile(dir, 'in.csv', pairsCsv(somePairs(12)));
      const run = await runCli(['enable', input, '--out', out, '--base-url', url, '--rate', '100'], {
        DS100_TOKEN: token,
      });
      expect(run.code).toBe(0);
      expect(countBy(readResults(out), 'outcome')).toEqual({ enabled: 12 });
      const logs = run.stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string; rateLimitedAnswers?: number });
      const conclusion = logs.find((line) =>
        /^the tenant allows about \d+ requests per [\d.]+ s window/.test(line.msg),
      );
      expect(conclusion?.level).toBe(30);
      expect(conclusion?.msg).toMatch(/pace lowered to [\d.]+\/s, waiting 1 s for the next window$/);
      // The 429s of learning the window (what one 50 ms start window sent too many, about 5); then none.
      const finished = logs.find((line) => line.msg === 'run finished');
      expect(finished?.rateLimitedAnswers).toBeLessThanOrEqual(10);
      expect(finished?.rateLimitedAnswers).toBeGreaterThan(0);
    } finally {
      simulate.child.kill('SIGTERM');
    }
  }, 20_000); // two seconds of windows, in real time, plus two process starts on a busy machine
});
