import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

// Input `-` is stdin, `--out -` is stdout, on every command. Each run gets a TMPDIR of its own, so
// that the copy of stdin can be seen to be gone afterwards.

const SHIPMENT = readFileSync('samples/shipment.csv', 'utf8');
const MESSY = readFileSync('samples/messy-shipment.csv', 'utf8');
const FAST = ['--rate', '1000', '--log-level', 'silent'];

/** Runs the built CLI with `stdin` piped in and its own empty temporary folder; returns both. */
async function piped(args: readonly string[], stdin: string | undefined) {
  const tmp = tempDir();
  const result = await runCli(args, { TMPDIR: tmp }, undefined, { stdin });
  return { ...result, tmpLeft: readdirSync(tmp) };
}

const csvRows = (text: string) => parse(text, { columns: true }) as Array<Record<string, string>>;

describe('input - reads stdin (built CLI)', () => {
  it('validate - --out -: the report on stdout, the summary on stderr naming stdin, no copy left', async () => {
    const [clean, messy] = await Promise.all([
      piped(['validate', '-', '--out', '-'], SHIPMENT),
      piped(['validate', '-'], MESSY),
    ]);
    expect(clean.code).toBe(0);
    expect(csvRows(clean.stdout)).toHaveLength(30);
    expect(clean.stderr).toContain('ds100-bulk validate: 30 rows in stdin (checked offline: nothing was sent)');
    expect(clean.tmpLeft).toEqual([]);
    expect(messy.code).toBe(1);
    expect(messy.stdout).toContain('ds100-bulk validate: 14 rows in stdin');
    expect(messy.stdout).toContain('stdin: line 3: Serial Number 140100001 is also given');
    expect(messy.tmpLeft).toEqual([]);
  });

  it('enable - --out - --simulate, and plan - --simulate --out -: the tenant and the rows from one copy', async () => {
    const [enabled, planned] = await Promise.all([
      piped(['enable', '-', '--out', '-', '--simulate', ...FAST], SHIPMENT),
      piped(['plan', '-', '--simulate', '--out', '-', ...FAST], SHIPMENT),
    ]);
    expect(enabled.code).toBe(0);
    expect(csvRows(enabled.stdout).map((row) => row['outcome'])).toEqual(Array(30).fill('enabled'));
    expect(enabled.stderr).toContain('ds100-bulk enable: 30 rows from stdin');
    expect(enabled.tmpLeft).toEqual([]);
    // plan registers the input's pairs on the simulated tenant first: read from the same copy, all 30.
    expect(planned.code).toBe(0);
    expect(csvRows(planned.stdout).map((row) => row['outcome'])).toEqual(Array(30).fill('would-enable'));
    expect(planned.stderr).toContain('ds100-bulk plan: 30 rows from stdin');
    expect(planned.tmpLeft).toEqual([]);
  });

  it('an empty stdin is an empty file named stdin: exit 2, nothing written, no copy left', async () => {
    const out = join(tempDir(), 'results.csv');
    const [validated, enabled] = await Promise.all([
      piped(['validate', '-'], ''),
      piped(['enable', '-', '--out', out, '--simulate', ...FAST], ''),
    ]);
    for (const run of [validated, enabled]) {
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(
        'ds100-bulk: stdin: the file is empty (0 bytes); expected a header line and rows of pairs',
      );
      expect(run.tmpLeft).toEqual([]);
    }
    expect(readdirSync(join(out, '..'))).toEqual([]);
  });
});

describe('--out - writes to stdout (built CLI)', () => {
  it('reconcile --out -: the results on stdout, the summary on stderr', async () => {
    const state = join(tempDir(), 'demo.state');
    const { code, stdout, stderr } = await runCli([
      'reconcile',
      'samples/shipment.csv',
      '--state',
      state,
      '--simulate',
      '--out',
      '-',
      ...FAST,
    ]);
    expect(code).toBe(0);
    expect(csvRows(stdout)).toHaveLength(30);
    expect(stderr).toContain('ds100-bulk reconcile: 30 rows from samples/shipment.csv');
  });
});
