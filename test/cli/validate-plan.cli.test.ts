import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { fixture, USER_1 } from '../helpers/input.js';
import { readResults } from '../helpers/results.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

/** The built binary with a minimal environment: no token, no base URL. */
const cli = (...args: string[]) => runCli(args);

describe('ds100-bulk validate', () => {
  it('checks the messy sample offline: counts and examples by code, exit 1', async () => {
    const { code, stdout } = await cli('validate', 'samples/messy-shipment.csv');
    expect(code).toBe(1);
    expect(stdout).toContain('ds100-bulk validate: 14 rows in samples/messy-shipment.csv');
    expect(stdout).toMatch(/valid\s+8\n\s+invalid\s+6/);
    expect(stdout).toMatch(/CONFLICTING_ROW\s+2/);
    expect(stdout).toContain('samples/messy-shipment.csv: line 3: Serial Number 140100001 is also given');
    expect(stdout).toContain('samples/messy-shipment.csv: line 13: Serial Number 140100001 is also given');
    expect(stdout).toContain('report: not written');
  });

  it('writes a report in the results format with valid/invalid per row; exit 0 when all valid', async () => {
    const dir = tempDir();
    const out = join(dir, 'report.csv');
    const [messy, clean] = await Promise.all([
      cli('validate', 'samples/messy-shipment.csv', '--out', out),
      cli('validate', 'samples/shipment.csv'),
    ]);
    expect(messy.code).toBe(1);
    expect(clean.code).toBe(0);
    const rows = readResults(out);
    expect(rows).toHaveLength(14);
    expect(rows.find((row) => row['line'] === '10')).toMatchObject({
      outcome: 'invalid',
      errorCode: 'SERIAL_SCIENTIFIC_NOTATION',
      attempts: '0',
      note: 'spreadsheet mangled',
    });
    expect(rows.find((row) => row['line'] === '2')).toMatchObject({ outcome: 'valid', errorCode: '' });
  });

  it('enable --dry-run is validate: no token or base URL needed, nothing sent', async () => {
    const dir = tempDir();
    const out = join(dir, 'report.csv');
    const { code, stdout, stderr } = await cli('enable', fixture('conflicting-row.csv'), '--out', out, '--dry-run');
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(stdout).toMatch(/CONFLICTING_ROW\s+2/);
    expect(readFileSync(out, 'utf8').split('\n').filter(Boolean)).toHaveLength(4);
  });

  it('a warning alone keeps exit 0; --strict makes it exit 1', async () => {
    const [lenient, strict] = await Promise.all([
      cli('validate', fixture('serial-length.csv')),
      cli('validate', fixture('serial-length.csv'), '--strict'),
    ]);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toMatch(/valid\s+2 \(1 with a warning\)/);
    expect(lenient.stdout).toContain('line 3: warning: deviceSerialNumber 1401000011 has 10 digits');
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain(
      'line 3: deviceSerialNumber 1401000011 has 10 digits; DS100 serials have 9 (an error because of --strict)',
    );
  });

  it('exit 2 with a plain message when the file is unusable', async () => {
    const dir = tempDir();
    const xlsx = writeFile(dir, 'shipment.csv', Buffer.from('PK\x03\x04\x14\x00\x06\x00 rest of a workbook', 'latin1'));
    const latin1 = writeFile(
      dir,
      'latin1.csv',
      Buffer.concat([Buffer.from(`serial,userId,name\n140100000,${USER_1},Jos`), Buffer.from([0xe9, 0x0a])]),
    );
    // Three unrelated files: checked by three runs side by side.
    const [notCsv, notUtf8, headerOnly] = await Promise.all([
      cli('validate', xlsx),
      cli('validate', latin1),
      cli('validate', fixture('header-only.csv')),
    ]);
    expect(notCsv.code).toBe(2);
    expect(notCsv.stderr).toContain('not a CSV file but a ZIP archive, most likely an Excel workbook (.xlsx)');
    expect(notUtf8.code).toBe(2);
    expect(notUtf8.stderr).toMatch(/not UTF-8: byte offset 69 \(line 2\) is 0xE9/);
    expect([headerOnly.code, headerOnly.stdout]).toEqual([2, '']);
    expect(headerOnly.stderr).toContain('header-only.csv: the file has a header line but no rows of pairs');
  });
});

describe('ds100-bulk plan', () => {
  it('plans the messy sample against the simulated tenant: read-only outcomes, exit 1', async () => {
    const dir = tempDir();
    const out = join(dir, 'plan.csv');
    const { code, stdout } = await cli(
      'plan',
      'samples/messy-shipment.csv',
      '--simulate',
      '--simulate-tenant',
      'samples/messy-tenant.csv',
      '--out',
      out,
      '--rate',
      '1000',
      '--log-level',
      'silent',
    );
    expect(code).toBe(1);
    expect(stdout).toContain('SIMULATED TENANT');
    expect(stdout).toMatch(/would-enable\s+6/);
    expect(stdout).toMatch(/not-registered\s+2/);
    expect(stdout).toMatch(/invalid\s+6/);
    const rows = readResults(out);
    expect(rows.filter((row) => row['outcome'] === 'not-registered').map((row) => row['line'])).toEqual(['8', '9']);
  });

  it('with --simulate and no tenant file, every valid pair counts as registered, as for enable', async () => {
    const { code, stdout } = await cli(
      'plan',
      'samples/shipment.csv',
      '--simulate',
      '--rate',
      '1000',
      '--log-level',
      'silent',
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/would-enable\s+30/);
  });

  it('refuses to start without a tenant or token, like enable', async () => {
    const { code, stderr } = await cli('plan', 'samples/shipment.csv');
    expect(code).toBe(2);
    expect(stderr).toContain('No tenant given');
  });
});
