import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import type { Ds100Error } from '../../src/errors.js';
import { isXlsxPath, RESULT_COLUMNS, ResultsWriter } from '../../src/output/results-writer.js';
import type { RowResult } from '../../src/types.js';
import { readWorkbook } from '../helpers/results.js';
import { tempDir } from '../helpers/temp-dir.js';

const row = (line: number, deviceSerialNumber: string, carried: string[]): RowResult => ({
  line,
  deviceSerialNumber,
  userId: 'jürgen.müller',
  outcome: 'enabled',
  token: {
    tokenSerialNumber: '000123456789',
    tokenStatus: 'Enabled',
    tokenStatusChangedAt: '2026-01-01T00:00:00Z',
    tokenStatusChangedBy: 'admin',
  },
  httpStatus: 200,
  attempts: 1,
  carried,
});

describe('isXlsxPath', () => {
  it('goes by the extension, in any case', () => {
    expect(['r.xlsx', 'R.XLSX', 'dir/r.Xlsx'].map(isXlsxPath)).toEqual([true, true, true]);
    expect(['r.csv', '-', 'r.xlsx.csv', 'xlsx'].map(isXlsxPath)).toEqual([false, false, false, false]);
  });
});

describe('ResultsWriter to .xlsx', () => {
  it('writes the CSV columns and rows as text cells, header frozen and filtered', async () => {
    const path = join(tempDir(), 'Results.XLSX');
    const writer = await ResultsWriter.open(path, ['site', 'outcome']);
    await writer.write(row(2, '012345678', ['=1+1', 'Zürich']));
    await writer.write(row(3, '140100000', ['@SUM(A1)', '-5']));
    await writer.close();
    expect(writer.rowsWritten).toBe(2);

    const { sheet, rows } = await readWorkbook(path);
    expect(rows[0]).toEqual([...RESULT_COLUMNS, 'site', 'input.outcome']);
    expect(rows.slice(1)).toEqual(
      [
        [
          '2',
          '012345678',
          'jürgen.müller',
          'enabled',
          '000123456789',
          'Enabled',
          '2026-01-01T00:00:00Z',
          'admin',
          '200',
          '',
          '',
          '1',
          '=1+1',
          'Zürich',
        ],
        [
          '3',
          '140100000',
          'jürgen.müller',
          'enabled',
          '000123456789',
          'Enabled',
          '2026-01-01T00:00:00Z',
          'admin',
          '200',
          '',
          '',
          '1',
          '@SUM(A1)',
          '-5',
        ],
      ].map((cells) => cells.map((cell) => (cell === '' ? null : cell))),
    );
    // Text, not a number or a formula: the leading zero is kept, and =1+1 is never evaluated.
    expect(sheet.getCell('B2').type).toBe(ExcelJS.ValueType.String);
    expect(sheet.getCell('M2').type).toBe(ExcelJS.ValueType.String);
    expect(sheet.getCell('M2').formula).toBeUndefined();
    expect(sheet.getCell('A2').type).toBe(ExcelJS.ValueType.String);
    expect(sheet.views).toEqual([expect.objectContaining({ state: 'frozen', ySplit: 1 })]);
    expect(sheet.autoFilter).toBe('A1:N3');
  });

  it('with no rows: the header alone, filtered', async () => {
    const path = join(tempDir(), 'empty.xlsx');
    const writer = await ResultsWriter.open(path, []);
    await writer.close();
    const { sheet, rows } = await readWorkbook(path);
    expect(rows).toEqual([[...RESULT_COLUMNS]]);
    expect(sheet.autoFilter).toBe('A1:L1');
  });

  it('fails with an OUTPUT_FILE error naming the path when it cannot create the file', async () => {
    const path = join(tempDir(), 'missing-dir', 'out.xlsx');
    await expect(ResultsWriter.open(path, [])).rejects.toMatchObject({
      code: 'OUTPUT_FILE',
      message: `cannot write the results file ${path}: the directory does not exist`,
    });
  });

  it.skipIf(!existsSync('/dev/full'))(
    'a file that refuses writes (a link to /dev/full): tells onError once; write and close throw it',
    async () => {
      const path = join(tempDir(), 'full.xlsx');
      symlinkSync('/dev/full', path);
      const failures: Ds100Error[] = [];
      const writer = await ResultsWriter.open(path, ['note'], { onError: (error) => failures.push(error) });
      // Enough rows for the archiver to push a chunk to the file before close; close pushes the rest.
      for (let line = 2; line < 50 && !writer.failure; line++) {
        await Promise.resolve(writer.write(row(line, '140100000', ['x']))).catch(() => {});
      }
      await expect(writer.close()).rejects.toMatchObject({
        code: 'OUTPUT_FILE',
        message: `cannot write the results file ${path}: the disk is full`,
      });
      expect(failures).toHaveLength(1);
      expect(writer.failure).toBe(failures[0]);
      expect(writer.rowsWritten).toBe(0);
      expect(() => writer.write(row(99, '140100000', ['x']))).toThrow(failures[0]);
    },
  );
});
