import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { countBy, readResults } from '../helpers/results.js';
import { runCli, startSimulateCli } from '../helpers/cli.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

describe('ds100-bulk enable against a tenant that misbehaves (built CLI, simulator in its own process)', () => {
  it('a wrong base URL: exit 2 with a sentence, before the results file exists', async () => {
    const { simulate: running, url, token } = await startSimulateCli();
    try {
      const dir = tempDir();
      const out = join(dir, 'r.csv');
      const input = writeFile(dir, 'in.csv', pairsCsv(somePairs(3)));
      const wrong = new URL('/AdminInterface/', url).href;
      const { code, stdout, stderr } = await runCli(['enable', input, '--out', out, '--base-url', wrong], {
        DS100_TOKEN: token,
      });
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain(
        `ds100-bulk: the tenant at ${wrong} has no DS100 API: POST v1/ds100/lookup was answered 404`,
      );
      expect(stderr).toContain('it usually ends in "/AdminInterface/restapi/"');
      expect(existsSync(out)).toBe(false);
    } finally {
      running.child.kill('SIGTERM');
    }
  });

  it('resets after the change on a third of the enables: every row enabled, the lost ones confirmed by lookup', async () => {
    const {
      simulate: running,
      url,
      token,
    } = await startSimulateCli(['--fault', 'reset-after-change=0.3', '--seed', '11']);
    try {
      const dir = tempDir();
      const out = join(dir, 'r.csv');
      const input = writeFile(dir, 'in.csv', pairsCsv(somePairs(30)));
      const { code, stdout } = await runCli(
        ['enable', input, '--out', out, '--base-url', url, '--rate', '1000', '--log-level', 'silent'],
        { DS100_TOKEN: token },
      );
      expect(code).toBe(0);
      expect(stdout).toMatch(/^ {2}enabled +30$/m);
      const results = readResults(out);
      expect(countBy(results, 'outcome')).toEqual({ enabled: 30 });
      const confirmed = results.filter((row) =>
        /a lookup confirmed the credential is enabled/.test(row['errorMessage']!),
      );
      expect(confirmed.length).toBeGreaterThan(0);
      // Confirmed rows were not sent again: the enable and its lookup (which a reset may have hit too).
      for (const row of confirmed) expect(Number(row['attempts'])).toBeGreaterThanOrEqual(2);
    } finally {
      running.child.kill('SIGTERM');
    }
  });
});
