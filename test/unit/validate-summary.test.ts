import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { validate } from '../../src/commands/validate.js';
import { tempDir } from '../helpers/temp-dir.js';

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';
const OTHER = 'bf42b589-d2dd-601d-7848-b1a07af6750b';

// Line 2 onwards: a repeat first (a code across rows), then codes of rows on their own.
const ROWS = [
  `140100001,${USER}`, // 2
  `140100001,${USER}`, // 3: DUPLICATE_ROW
  `140100002,nobody`, // 4: INVALID_USER_ID
  `1401000021,${OTHER}`, // 5: SERIAL_LENGTH warning
  `140100003,nobody`, // 6
  `140100004,nobody`, // 7
  `140100005,nobody`, // 8: a fourth INVALID_USER_ID, not an example
  `1401000061,${OTHER}`, // 9
  `140100007,${OTHER}`, // 10
];

async function input(): Promise<string> {
  const file = join(tempDir(), 'in.csv');
  await writeFile(file, `serial,userId\n${ROWS.join('\n')}\n`);
  return file;
}

describe('validate', () => {
  it('tallies the verdicts: counts by code, the first examples in file order, warnings apart', async () => {
    const summary = await validate({ input: await input() });
    expect(summary).toMatchObject({
      out: '',
      rows: 9,
      valid: 4,
      invalid: 5,
      byErrorCode: { INVALID_USER_ID: 4, DUPLICATE_ROW: 1 },
      byWarningCode: { SERIAL_LENGTH: 2 },
    });
    // Codes of a row on its own come first, as the summary has always listed ties.
    expect(Object.keys(summary.byErrorCode)).toEqual(['INVALID_USER_ID', 'DUPLICATE_ROW']);
    expect(summary.examples.get('INVALID_USER_ID')?.map(({ line }) => line)).toEqual([4, 6, 7]);
    expect(summary.examples.get('DUPLICATE_ROW')).toEqual([
      { line: 3, message: 'the same device and user are already on line 2; only that line is used' },
    ]);
    expect(summary.examples.get('SERIAL_LENGTH')?.map(({ line }) => line)).toEqual([5, 9]);
  });

  it('keeps as many examples as asked, and turns warnings into errors with strict', async () => {
    const summary = await validate({ input: await input(), examplesPerCode: 1, rules: { strict: true } });
    expect(summary).toMatchObject({ valid: 2, invalid: 7, byWarningCode: {} });
    expect(summary.byErrorCode).toEqual({ INVALID_USER_ID: 4, DUPLICATE_ROW: 1, SERIAL_LENGTH: 2 });
    expect(summary.examples.get('INVALID_USER_ID')?.map(({ line }) => line)).toEqual([4]);
  });

  it('writes one report line per row with the same verdicts', async () => {
    const file = await input();
    const out = join(tempDir(), 'report.csv');
    const summary = await validate({ input: file, out });
    const report = parse(await readFile(out, 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
    expect(report.map((row) => [row['line'], row['outcome'], row['errorCode']])).toEqual([
      ['2', 'valid', ''],
      ['3', 'invalid', 'DUPLICATE_ROW'],
      ['4', 'invalid', 'INVALID_USER_ID'],
      ['5', 'valid', 'SERIAL_LENGTH'],
      ['6', 'invalid', 'INVALID_USER_ID'],
      ['7', 'invalid', 'INVALID_USER_ID'],
      ['8', 'invalid', 'INVALID_USER_ID'],
      ['9', 'valid', 'SERIAL_LENGTH'],
      ['10', 'valid', ''],
    ]);
    expect(summary.out).toBe(out);
  });
});
