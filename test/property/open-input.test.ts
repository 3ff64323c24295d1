import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ds100Error } from '../../src/errors.js';
import { openInput, type ReadItem } from '../../src/input/open-input.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';
import { anyFile, csvCase, type CsvCase } from './csv-model.js';
import { RUNS } from './runs.js';

/** Reads a file through openInput: its row count and items, or what it threw. */
async function readInput(file: string): Promise<{ rows: number; items: ReadItem[] } | { error: unknown }> {
  try {
    const input = await openInput(file);
    const items: ReadItem[] = [];
    for await (const item of input.items) items.push(item);
    return { rows: input.rows, items };
  } catch (error) {
    return { error };
  }
}

const isInputFileError = (error: unknown): boolean => error instanceof Ds100Error && error.code === 'INPUT_FILE';

/** Writes each case to its own file in one folder for the test. */
function files(): (contents: string | Buffer) => string {
  const dir = tempDir();
  let count = 0;
  return (contents) => writeFile(dir, `${++count}.csv`, contents);
}

describe('openInput on generated files', () => {
  it('either reads every row or throws a Ds100Error INPUT_FILE, whatever the bytes', async () => {
    const write = files();
    await fc.assert(
      fc.asyncProperty(anyFile, async (bytes) => {
        const read = await readInput(write(bytes));
        if ('error' in read) {
          expect(isInputFileError(read.error), String(read.error)).toBe(true);
        } else {
          expect(read.items).toHaveLength(read.rows);
        }
      }),
      RUNS.anyFile,
    );
  });

  it('gives one item per data record, in file order, with the line where the record starts', async () => {
    const write = files();
    await fc.assert(
      fc.asyncProperty(csvCase, async ({ text, rows }: CsvCase) => {
        const read = await readInput(write(text));
        if (rows.length === 0) {
          // A header and no rows is a file-level problem (README "Input file").
          expect('error' in read && isInputFileError(read.error)).toBe(true);
          return;
        }
        if ('error' in read) throw read.error;
        expect(read.rows).toBe(rows.length);
        expect(
          read.items.map(({ row }) => ({
            line: row.line,
            serial: row.deviceSerialNumber,
            userId: row.userId,
            carried: row.carried,
          })),
        ).toEqual(rows.map(({ line, serial, userId, carried }) => ({ line, serial, userId, carried })));
      }),
      RUNS.csvCase,
    );
  });

  it('finds rows valid by construction valid, and a broken serial or user ID invalid with its code', async () => {
    const write = files();
    await fc.assert(
      fc.asyncProperty(csvCase, async ({ text, rows }: CsvCase) => {
        fc.pre(rows.length > 0);
        const read = await readInput(write(text));
        if ('error' in read) throw read.error;
        expect(
          read.items.map((item) =>
            item.kind === 'invalid'
              ? { line: item.row.line, code: item.problem.code, warning: undefined }
              : { line: item.row.line, code: undefined, warning: item.warning?.code },
          ),
        ).toEqual(rows.map(({ line, code, warning }) => ({ line, code, warning })));
      }),
      RUNS.csvCase,
    );
  });
});
