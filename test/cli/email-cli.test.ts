import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startSimulateCli } from '../helpers/cli.js';
import { readResults } from '../helpers/results.js';
import { tempDir } from '../helpers/temp-dir.js';

const ANNA = '00fb8673-8b42-c835-484f-3e32248c1e89';

describe('ds100-bulk with a file of email addresses', () => {
  it('enable samples/emails.csv --simulate --simulate-users samples/users.csv --out r.csv (the README example)', async () => {
    const out = join(tempDir(), 'r.csv');
    const { code, stdout } = await runCli([
      'enable',
      'samples/emails.csv',
      '--simulate',
      '--simulate-users',
      'samples/users.csv',
      '--out',
      out,
      '--rate',
      '1000',
      '--quiet',
    ]);
    expect(code).toBe(1); // rows need attention: an unknown address and a malformed one
    expect(stdout).toMatch(/enabled\s+4\n\s+failed\s+0\n\s+invalid\s+2/);
    expect(stdout).toMatch(/INVALID_EMAIL\s+1/);
    expect(stdout).toMatch(/UNKNOWN_EMAIL\s+1/);
    // Preflight, three addresses resolved, one unknown, four enables.
    expect(stdout).toContain('requests: 9 ');
    const rows = readResults(out);
    expect(rows.map((row) => [row['line'], row['userId'], row['email'], row['outcome'], row['errorCode']])).toEqual([
      ['2', ANNA, 'anna.berg@example.com', 'enabled', ''],
      ['3', ANNA, 'Anna.Berg@Example.com', 'enabled', ''],
      ['4', 'af9ed025-601c-567f-bb55-22e53a50ae8d', 'joao.silva@example.com', 'enabled', ''],
      ['5', 'ae18aefd-9ff8-d085-b8cf-8d6ab84300fd', 'kari.nordmann@example.com', 'enabled', ''],
      ['6', '', 'left.the.company@example.com', 'invalid', 'UNKNOWN_EMAIL'],
      ['7', '', 'kari.nordmann(at)example.com', 'invalid', 'INVALID_EMAIL'],
    ]);
  });

  it('simulate --users answers POST v1/users/lookup from the directory, 404 for anyone else', async () => {
    const { simulate, url, token } = await startSimulateCli(['--port', '0', '--users', 'samples/users.csv']);
    try {
      const lookUp = (email: string) =>
        fetch(new URL('v1/users/lookup', url), {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ email, searchUnsynched: false }),
        });
      const found = await lookUp('Anna.Berg@example.com');
      expect(found.status).toBe(200);
      expect(await found.json()).toMatchObject({ id: ANNA });
      const unknown = await lookUp('someone@example.com');
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({
        code: '404 NOT_FOUND',
        description: 'User someone@example.com not found',
      });
    } finally {
      simulate.child.kill('SIGTERM');
    }
    expect((await simulate.done).code).toBe(0);
  });
});
