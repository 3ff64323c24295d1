import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { USER_1 } from '../helpers/input.js';
import { readResults } from '../helpers/results.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

describe('--delimiter and --encoding on the command line', () => {
  it('validate reads the README\'s samples: ";" in Windows-1252, and tab-separated UTF-16LE', async () => {
    const [ansi, unicode, refused] = await Promise.all([
      runCli(['validate', 'samples/shipment-excel-ansi.csv', '--encoding', 'windows-1252']),
      runCli(['validate', 'samples/shipment-unicode-text.txt', '--encoding', 'utf-16le']),
      runCli(['validate', 'samples/shipment-excel-ansi.csv']),
    ]);
    expect(ansi.code).toBe(0);
    expect(ansi.stdout).toContain(
      'samples/shipment-excel-ansi.csv: values separated by ";" (detected from the header; --delimiter overrides); ' +
        'read as windows-1252 as --encoding says',
    );
    expect(ansi.stdout).toMatch(/valid\s+6\n\s+invalid\s+0/);
    expect(unicode.code).toBe(0);
    expect(unicode.stdout).toContain('values separated by tabs');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pass --encoding windows-1252 to read it as it is');
  });

  it('enable --simulate on a ";" file: the results are comma-separated UTF-8; a bad --delimiter is a usage error', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', `deviceSerialNumber;userId;note\n140100001;${USER_1};"a, b"\n`);
    const out = join(dir, 'results.csv');
    const [enabled, usage] = await Promise.all([
      runCli(['enable', input, '--out', out, '--simulate', '--delimiter', ';', '--log-format', 'json']),
      runCli(['validate', input, '--delimiter', 'space']),
    ]);
    expect(enabled.code).toBe(0);
    expect(enabled.stderr).toContain(`"msg":"${input}: values separated by \\";\\" (as --delimiter says)"`);
    expect(readResults(out)).toEqual([expect.objectContaining({ line: '2', outcome: 'enabled', note: 'a, b' })]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain(
      'Expected `inputFormat.delimiter` (--delimiter) to be one of , ; tab |, got "space"',
    );
  });
});
