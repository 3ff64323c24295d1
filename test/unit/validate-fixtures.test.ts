import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validate } from '../../src/commands/validate.js';
import { Ds100Error } from '../../src/errors.js';
import { openInput, type ReadItem } from '../../src/input/open-input.js';
import { fixture, USER_1 } from '../helpers/input.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Every row of a file as [line, outcome, code], and validate's summary of it. */
async function verdicts(file: string, rules?: { serialLength?: number; strict?: boolean }) {
  const input = await openInput(file, { rules: { serialLength: 9, strict: false, ...rules } });
  const rows: Array<[number, 'valid' | 'invalid', string]> = [];
  for await (const item of input.items) {
    rows.push(
      item.kind === 'invalid'
        ? [item.row.line, 'invalid', item.problem.code]
        : [item.row.line, 'valid', item.warning?.code ?? ''],
    );
  }
  return { rows, scan: await validate({ input: file, rules }) };
}

const fileError = async (file: string): Promise<Ds100Error> => {
  const error = await openInput(file).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Ds100Error);
  expect((error as Ds100Error).code).toBe('INPUT_FILE');
  return error as Ds100Error;
};

describe('row checks, one fixture per kind of bad input', () => {
  it.each([
    ['serial-not-digits.csv', 3, 'INVALID_SERIAL'],
    ['serial-scientific-notation.csv', 3, 'SERIAL_SCIENTIFIC_NOTATION'],
    ['serial-stray-characters.csv', 3, 'SERIAL_STRAY_CHARACTERS'],
    ['serial-leading-zeros-lost.csv', 3, 'SERIAL_LEADING_ZEROS_LOST'],
    ['missing-serial.csv', 3, 'MISSING_SERIAL'],
    ['missing-user-id.csv', 3, 'MISSING_USER_ID'],
    ['user-id-invalid.csv', 3, 'INVALID_USER_ID'],
    ['user-id-spaces.csv', 3, 'USER_ID_STRAY_CHARACTERS'],
    ['user-id-quotes.csv', 3, 'USER_ID_STRAY_CHARACTERS'],
    ['wrong-field-count.csv', 3, 'WRONG_FIELD_COUNT'],
    ['duplicate-row.csv', 4, 'DUPLICATE_ROW'],
    ['malformed-csv.csv', 3, 'MALFORMED_CSV'],
  ])('%s: line %i is invalid with %s, line 2 stays valid', async (name, line, code) => {
    const { rows, scan } = await verdicts(fixture(name));
    expect(rows).toContainEqual([line, 'invalid', code]);
    expect(rows).toContainEqual([2, 'valid', '']);
    expect(rows.filter(([, outcome]) => outcome === 'invalid')).toHaveLength(1);
    expect(scan.byErrorCode).toEqual({ [code]: 1 });
    expect(scan.examples.get(code as never)?.[0]?.line).toBe(line);
  });

  it('a serial of another length than 9 digits is a warning: the row stays valid', async () => {
    const { rows, scan } = await verdicts(fixture('serial-length.csv'));
    expect(rows).toEqual([
      [2, 'valid', ''],
      [3, 'valid', 'SERIAL_LENGTH'],
    ]);
    expect(scan).toMatchObject({ valid: 2, invalid: 0, byWarningCode: { SERIAL_LENGTH: 1 } });
  });

  it('--strict turns the warning into an invalid row; --serial-length 10 expects the long serial', async () => {
    // With 10 expected, the 9-digit serial is short, and no serial keeps a leading zero: lost zeros.
    expect((await verdicts(fixture('serial-length.csv'), { strict: true })).rows[1]).toEqual([
      3,
      'invalid',
      'SERIAL_LENGTH',
    ]);
    expect((await verdicts(fixture('serial-length.csv'), { serialLength: 10 })).rows).toEqual([
      [2, 'invalid', 'SERIAL_LEADING_ZEROS_LOST'],
      [3, 'valid', ''],
    ]);
  });

  it('a short serial is only a length warning when the file keeps leading zeros elsewhere', async () => {
    const dir = tempDir();
    const file = join(dir, 'zeros.csv');
    await writeFile(file, `serial,userId\n012345678,${USER_1}\n40100001,bf42b589-d2dd-601d-7848-b1a07af6750b\n`);
    expect((await verdicts(file)).rows).toEqual([
      [2, 'valid', ''],
      [3, 'valid', 'SERIAL_LENGTH'],
    ]);
  });

  it('CONFLICTING_ROW marks both rows of a serial given to two users, each naming the other', async () => {
    const input = await openInput(fixture('conflicting-row.csv'));
    const items: ReadItem[] = [];
    for await (const item of input.items) items.push(item);
    const problems = items.flatMap((item) => (item.kind === 'invalid' ? [[item.row.line, item.problem] as const] : []));
    expect(problems.map(([line, problem]) => [line, problem.code])).toEqual([
      [2, 'CONFLICTING_ROW'],
      [4, 'CONFLICTING_ROW'],
    ]);
    expect(problems[0]![1].message).toContain('line 4');
    expect(problems[1]![1].message).toContain('line 2');
    expect(input.rows).toBe(3);
    expect(await validate({ input: fixture('conflicting-row.csv') })).toMatchObject({ rows: 3, valid: 1, invalid: 2 });
  });

  it('TOO_MANY_DEVICES marks every row of a user given six DS100s; five are fine', async () => {
    const { rows } = await verdicts(fixture('too-many-devices.csv'));
    expect(rows.slice(0, 6).map((row) => row.slice(1))).toEqual(
      Array.from({ length: 6 }, () => ['invalid', 'TOO_MANY_DEVICES']),
    );
    expect(rows.slice(6).every(([, outcome, code]) => outcome === 'valid' && code === '')).toBe(true);
    expect(rows[0]![0]).toBe(2);
  });

  it('counts lines right after a quoted value spanning lines, CRLF endings and blank lines', async () => {
    const dir = tempDir();
    const file = join(dir, 'multiline.csv');
    const rows = [
      'serial,userId,note',
      `140100000,${USER_1},"two`,
      'lines"',
      '',
      `140100001,nobody,x`,
      ',,',
      `140100002,${USER_1},"a, b"`,
    ];
    await writeFile(file, rows.join('\r\n') + '\r\n');
    expect((await verdicts(file)).rows).toEqual([
      [2, 'valid', ''],
      [5, 'invalid', 'INVALID_USER_ID'],
      [7, 'valid', ''],
    ]);
  });

  it('messages name the field as the file names it', async () => {
    const summary = await validate({ input: fixture('../../../samples/messy-shipment.csv') });
    expect(summary.examples.get('SERIAL_SCIENTIFIC_NOTATION')?.[0]).toEqual({
      line: 10,
      message: expect.stringMatching(/^Serial Number "1\.40100E\+08" was turned into scientific notation/),
    });
  });
});

describe('file checks: the file itself is unusable (exit 2)', () => {
  it('missing header: the first line is data', async () => {
    expect((await fileError(fixture('missing-header.csv'))).message).toMatch(/line 1 looks like data, not a header/);
  });

  it('missing required column: says which aliases were looked for', async () => {
    const { message } = await fileError(fixture('missing-column.csv'));
    expect(message).toMatch(
      /no user ID or email column \(looked for userId, user_id, userid, userUuid, or email, e-mail, mail, emailAddress, userEmail, userPrincipalName, upn, in any case\)/,
    );
    expect(message).toContain('"name"');
  });

  it('a semicolon-separated export without a serial column: says so', async () => {
    const dir = tempDir();
    const file = join(dir, 'semicolons.csv');
    await writeFile(file, `device;userId\n140100000;${USER_1}\n`);
    expect((await fileError(file)).message).toMatch(
      /seems to separate values with ";", not commas, but no column is a device serial column either way/,
    );
  });

  it.each([
    ['empty.csv', /the file is empty \(0 bytes\)/],
    ['blank.csv', /the file is empty/],
    ['header-only.csv', /has a header line but no rows/],
  ])('%s', async (name, pattern) => {
    const { message } = await fileError(fixture(name));
    expect(message).toMatch(pattern);
    expect(message).toContain(name);
  });

  it('not UTF-8: names the byte offset, the line and the byte', async () => {
    const dir = tempDir();
    const file = join(dir, 'latin1.csv');
    const head = Buffer.from(`deviceSerialNumber,userId,name\n140100000,${USER_1},Ren`);
    await writeFile(file, Buffer.concat([head, Buffer.from([0xe9]), Buffer.from('\n')]));
    const { message } = await fileError(file);
    expect(message).toContain(`byte offset ${head.length} (line 2) is 0xE9`);
    expect(message).toMatch(/not UTF-8/);
  });

  it('not UTF-8 far into the file, across read chunks', async () => {
    const dir = tempDir();
    const file = join(dir, 'late.csv');
    const rows = Array.from({ length: 20_000 }, (_, index) => `${140_100_000 + index},${USER_1}\n`).join('');
    const head = Buffer.from(`serial,userId\n${rows}`);
    await writeFile(file, Buffer.concat([head, Buffer.from([0xc3, 0x28]), Buffer.from('\n')]));
    expect((await fileError(file)).message).toContain(`byte offset ${head.length} (line 20002) is 0xC3`);
  });

  it.each([
    [
      'book.xlsx.csv',
      [0x50, 0x4b, 0x03, 0x04, 0x14, 0x00],
      /not a CSV file but a ZIP archive, most likely an Excel workbook \(\.xlsx\)/,
    ],
    ['book.xls.csv', [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0], /old-style Excel workbook \(\.xls\)/],
    ['utf16.csv', [0xff, 0xfe, 0x73, 0x00], /saved as UTF-16/],
    ['binary.csv', [0x73, 0x65, 0x00, 0x01], /not a text file/],
  ])('not CSV: %s', async (name, bytes, pattern) => {
    const dir = tempDir();
    const file = join(dir, name);
    await writeFile(file, Buffer.concat([Buffer.from(bytes), Buffer.alloc(64, 0x41)]));
    expect((await fileError(file)).message).toMatch(pattern);
  });
});
