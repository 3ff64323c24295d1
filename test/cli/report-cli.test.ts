import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('--report on the command line', () => {
  it('validate writes it; one that cannot be written is named on stderr, exit 7 where it would be 0', async () => {
    const dir = tempDir();
    const report = join(dir, 'invalid-rows.html');
    const written = await runCli(['validate', 'samples/messy-shipment.csv', '--report', report]);
    expect(written.code).toBe(1);
    expect(readFileSync(report, 'utf8')).toContain('<dt>exit code</dt><dd>1</dd>');

    const folder = join(dir, 'folder.html');
    mkdirSync(folder);
    const failed = await runCli(['validate', 'samples/messy-tenant.csv', '--report', folder]);
    expect(failed.code).toBe(7);
    expect(failed.stderr).toContain(`ds100-bulk: cannot write the report ${folder}: it is a directory`);
  });

  it('refuses a report that is also --out, before anything is written', async () => {
    const dir = tempDir();
    const out = join(dir, 'r.csv');
    const clash = await runCli(['enable', 'samples/messy-shipment.csv', '--simulate', '--out', out, '--report', out]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/--report/);
    expect(existsSync(out)).toBe(false);
  });
});
