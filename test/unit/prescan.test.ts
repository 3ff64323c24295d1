import { CsvError } from 'csv-parse';
import { describe, expect, it } from 'vitest';
import { prescan } from '../../src/input/prescan.js';
import type { CsvItem } from '../../src/input/read-csv.js';

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';
const OTHER = 'bf42b589-d2dd-601d-7848-b1a07af6750b';

/** Records as readCsv gives them, line by line from line 1. */
async function* csv(...records: Array<string[] | CsvError>): AsyncGenerator<CsvItem> {
  let line = 1;
  for (const record of records)
    yield record instanceof CsvError ? { error: record, line: line++ } : { record, line: line++ };
}

const malformed = new CsvError('CSV_QUOTE_NOT_CLOSED', 'Quote Not Closed');

describe('prescan', () => {
  it('counts data rows, malformed ones too, and keeps only the exceptions across rows', async () => {
    const scan = await prescan(
      csv(
        ['serial', 'userId'],
        ['140100001', USER], // line 2
        ['140100002', USER],
        ['140100001', USER.toUpperCase()], // line 4: the same user, repeated
        ['140100003', OTHER], // line 5
        ['140100003', USER], // line 6: a second user for line 5's serial
        ['140100004', 'nobody'], // not well-formed: not counted across rows
        malformed,
      ),
      { file: 'in.csv' },
    );
    expect(scan.rows).toBe(7);
    expect(scan.names).toEqual({ serial: 'serial', userId: 'userId' });
    expect(scan.facts).toEqual({
      hasLeadingZeros: false,
      repeatedSerials: new Set(['140100001', '140100003']),
      conflicts: new Map([['140100003', { userId: USER, line: 6 }]]),
      usersOverLimit: new Map(),
    });
  });

  it('counts devices per user, in any spelling, and keeps the users over the limit', async () => {
    const rows = Array.from({ length: 6 }, (_, index) => [`14010000${index}`, index % 2 ? USER : USER.toUpperCase()]);
    const scan = await prescan(csv(['serial', 'userId'], ...rows, ['040100000', OTHER]), { file: 'in.csv' });
    expect(scan.facts.usersOverLimit).toEqual(new Map([[USER, 6]]));
    expect(scan.facts.hasLeadingZeros).toBe(true);
  });

  it('refuses a file with no header, a malformed header or (unless allowed) no rows', async () => {
    await expect(prescan(csv(), { file: 'in.csv' })).rejects.toThrow(
      'in.csv: the file is empty; expected a header line and rows of pairs',
    );
    await expect(prescan(csv(malformed), { file: 'in.csv' })).rejects.toThrow(
      'in.csv: line 1: the header line is not valid CSV: Quote Not Closed',
    );
    await expect(prescan(csv(['serial', 'userId']), { file: 'in.csv' })).rejects.toThrow(
      'in.csv: the file has a header line but no rows of pairs; nothing to do',
    );
    const empty = await prescan(csv(['serial', 'userId']), { file: 'in.csv', requireRows: false });
    expect(empty.rows).toBe(0);
  });
});
