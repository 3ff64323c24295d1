import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { rename, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { validate } from '../../src/commands/validate.js';
import { openInput, type OpenedInput, type ReadItem } from '../../src/input/open-input.js';
import { tempDir } from '../helpers/temp-dir.js';

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';
const OTHER = 'bf42b589-d2dd-601d-7848-b1a07af6750b';

async function collect(input: OpenedInput): Promise<ReadItem[]> {
  const all: ReadItem[] = [];
  for await (const item of input.items) all.push(item);
  return all;
}

/** Writes `text` to a fresh file whose modification time is in the past, so any later write shows. */
async function writeInput(text: string): Promise<string> {
  const file = join(tempDir(), 'in.csv');
  await writeFile(file, text);
  await utimes(file, 1_700_000_000, 1_700_000_000);
  return file;
}

const readAll = async (text: string): Promise<ReadItem[]> => collect(await openInput(await writeInput(text)));

const summarise = (items: readonly ReadItem[]) =>
  items.map((item) => [item.row.line, item.kind === 'invalid' ? item.problem.code : 'row']);

const messageOf = (item: ReadItem | undefined): string | undefined =>
  item?.kind === 'invalid' ? item.problem.message : item?.warning?.message;

/** How many file descriptors this process has open on `file` (Linux). */
const openFdsOf = (file: string): number =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  }).length;

describe('openInput', () => {
  it('numbers lines as an editor does, across blank lines and quoted line breaks', async () => {
    const text = `serial,userId,note\n\n140100001,${USER},"two\nlines"\n\n\n140100002,${USER},x\n`;
    expect(summarise(await readAll(text))).toEqual([
      [3, 'row'],
      [7, 'row'],
    ]);
  });

  it('keeps a stray quote inside a field instead of losing the rest of the file', async () => {
    const items = await readAll(`serial,userId,note\n140100001,${USER},6" tall\n140100002,${USER},x\n`);
    expect(summarise(items)).toEqual([
      [2, 'row'],
      [3, 'row'],
    ]);
    expect(items[0]!.row.carried).toEqual(['6" tall']);
  });

  it('reports a quote that is never closed as MALFORMED_CSV on the line its row starts', async () => {
    const items = await readAll(`serial,userId\n140100001,${USER}\n140100002,"${USER}\n140100003,${USER}\n`);
    expect(summarise(items)).toEqual([
      [2, 'row'],
      [3, 'MALFORMED_CSV'],
    ]);
    expect(items[1]).toEqual({
      kind: 'invalid',
      row: { line: 3, deviceSerialNumber: '', userId: '', carried: [] },
      problem: {
        code: 'MALFORMED_CSV',
        message:
          'a quoted field in this row is never closed: everything from its opening quote to the end of the file ' +
          'was read as one field and could not be used; look for an unbalanced " in this row',
      },
    });
  });

  // Found by test/property: the malformed row had no carried cells, so its report line was shorter
  // than the header and a strict CSV reader refused the report.
  it('gives a malformed row an empty cell per carried column, so its report line is as wide as the header', async () => {
    const dir = tempDir();
    const input = join(dir, 'in.csv');
    await writeFile(input, `userId,deviceSerialNumber,note,site\n${USER},140100001,a,b\n"`);
    const items = await collect(await openInput(input));
    expect(items[1]?.row).toEqual({ line: 3, deviceSerialNumber: '', userId: '', carried: ['', ''] });
    const out = join(dir, 'report.csv');
    await validate({ input, out });
    const [header, ...lines] = parse(readFileSync(out), { bom: true }) as string[][];
    expect(lines.map((line) => [line[0], line[3], line[9], line.length])).toEqual([
      ['2', 'valid', '', header!.length],
      ['3', 'invalid', 'MALFORMED_CSV', header!.length],
    ]);
  });

  it('counts the rows that are not blank, malformed ones included', async () => {
    const input = await openInput(await writeInput(`serial,userId\n\n140100001,${USER}\n,\n140100002,"x\n`));
    expect(input.rows).toBe(2);
    expect(input.columns).toMatchObject({ serialIndex: 0, userIdIndex: 1, width: 2 });
    expect(await collect(input)).toHaveLength(2);
  });

  it('fails on an unreadable file with the file name', async () => {
    await expect(openInput('/nonexistent/in.csv')).rejects.toThrow(
      '/nonexistent/in.csv: cannot read the input file: no such file',
    );
    const dir = tempDir();
    await expect(openInput(dir)).rejects.toThrow(`${dir}: cannot read the input file: it is a directory`);
  });

  it('accepts a header without rows when asked to (the simulated tenant)', async () => {
    const file = await writeInput('serial,userId\n');
    await expect(openInput(file)).rejects.toThrow('has a header line but no rows');
    const input = await openInput(file, { requireRows: false });
    expect([input.rows, await collect(input)]).toEqual([0, []]);
  });
});

describe('openInput across rows', () => {
  it('words duplicates, conflicts and too many devices as the summary does', async () => {
    const rows = [
      `140100001,${USER}`, // line 2: too many devices for USER (6 distinct serials)
      `140100002,${USER}`,
      `140100003,${USER}`,
      `140100004,${USER}`,
      `140100005,${USER}`,
      `140100006,${USER.toUpperCase()}`,
      `140100001,${USER}`, // line 8: a repeat of line 2
      `140100009,${OTHER}`, // line 9: conflict with line 10
      `140100009,${USER}`,
    ];
    const file = await writeInput(`serial,userId\n${rows.join('\n')}\n`);
    const items = await collect(await openInput(file));
    expect(summarise(items)).toEqual([
      ...[2, 3, 4, 5, 6, 7].map((line) => [line, 'TOO_MANY_DEVICES']),
      [8, 'DUPLICATE_ROW'],
      [9, 'CONFLICTING_ROW'],
      [10, 'CONFLICTING_ROW'],
    ]);
    // USER's 7 distinct serials: 6 of its own and the one it shares with OTHER; the upper-case
    // spelling is the same user, named in the canonical form.
    const tooMany =
      `userId ${USER} is given 7 DS100s in this file; a user can have at most 5, ` +
      "so none of this user's rows is sent: keep at most 5";
    expect(messageOf(items[0])).toBe(tooMany);
    expect(messageOf(items[5])).toBe(tooMany);
    expect(messageOf(items[6])).toBe('the same device and user are already on line 2; only that line is used');
    expect(messageOf(items[7])).toBe(
      `serial 140100009 is also given to another user, ${USER}, on line 10; a DS100 belongs to one user, ` +
        'so neither row is sent: keep the right one',
    );
    expect(messageOf(items[8])).toBe(
      `serial 140100009 is also given to another user, ${OTHER}, on line 9; a DS100 belongs to one user, ` +
        'so neither row is sent: keep the right one',
    );
    // The summary's examples are the first rows of each code, with the same words.
    const summary = await validate({ input: file });
    for (const [code, examples] of summary.examples) {
      for (const { line, message } of examples) {
        const item = items.find((candidate) => candidate.row.line === line);
        expect([item?.kind === 'invalid' && item.problem.code, messageOf(item)]).toEqual([code, message]);
      }
    }
    expect(summary).toMatchObject({ rows: 9, valid: 0, byErrorCode: { TOO_MANY_DEVICES: 6 } });
  });

  it('keeps serials apart and finds repeats when serials are longer than 16 digits', async () => {
    const long = '1234567890123456789';
    const rows = [
      `140100001,${USER}`, // line 2
      `1234567890123456,${USER}`, // line 3: 16 digits, the tail of a longer serial
      `${long},${OTHER}`, // line 4
      `140100001,${USER}`, // line 5: a repeat
      `1234567890123456,${OTHER}`, // line 6: another user for line 3's serial
      `${long},${OTHER}`, // line 7: a repeat of a long serial
      `0${long.slice(1)},${OTHER}`, // line 8: another long serial
    ];
    const items = await readAll(`serial,userId\n${rows.join('\n')}\n`);
    expect(summarise(items)).toEqual([
      [2, 'row'],
      [3, 'CONFLICTING_ROW'],
      [4, 'row'],
      [5, 'DUPLICATE_ROW'],
      [6, 'CONFLICTING_ROW'],
      [7, 'DUPLICATE_ROW'],
      [8, 'row'],
    ]);
    expect(items.map(messageOf)).toEqual([
      undefined,
      expect.stringContaining(`serial 1234567890123456 is also given to another user, ${OTHER}, on line 6`),
      `warning: serial ${long} has 19 digits; DS100 serials have 9`,
      'the same device and user are already on line 2; only that line is used',
      expect.stringContaining(`serial 1234567890123456 is also given to another user, ${USER}, on line 3`),
      'the same device and user are already on line 4; only that line is used',
      `warning: serial 0${long.slice(1)} has 19 digits; DS100 serials have 9`,
    ]);
  });

  it('states the exact count of a user given more than 255 devices', async () => {
    const rows = Array.from({ length: 300 }, (_, index) => `${140100000 + index},${USER}`);
    const items = await readAll(`serial,userId\n${rows.join('\n')}\n`);
    expect(new Set(items.map(messageOf))).toEqual(
      new Set([
        `userId ${USER} is given 300 DS100s in this file; a user can have at most 5, ` +
          "so none of this user's rows is sent: keep at most 5",
      ]),
    );
  });
});

describe('openInput when the file changes between the passes', () => {
  const text = `serial,userId\n140100001,${USER}\n140100002,${USER}\n140100003,${OTHER}\n`;

  it.each([
    ['another serial', (before: string) => before.replace('140100002', '140100007')],
    ['another user', (before: string) => before.replace(`140100002,${USER}`, `140100002,${OTHER}`)],
    ['two rows swapped', (before: string) => before.replace(/^(140100002.*)\n(140100003.*)$/m, '$2\n$1')],
    ['a row more', (before: string) => `${before}140100004,${OTHER}\n`],
  ])('throws before the first row when it was changed in place (%s)', async (_, change) => {
    const file = await writeInput(text);
    const input = await openInput(file);
    await writeFile(file, change(text));
    const seen: ReadItem[] = [];
    const reading = async () => {
      for await (const item of input.items) seen.push(item);
    };
    await expect(reading()).rejects.toThrow(
      `${file}: the file changed while it was being read (its size or modification time differs from the first ` +
        'read); run again on a file that is not being edited',
    );
    expect(seen).toEqual([]);
  });

  it.each([
    ['fewer', (before: string) => before.replace(`140100003,${OTHER}`, ','.repeat(46)), '2 rows, the first 3'],
    [
      'more',
      (before: string) => before.replace(`140100003,${OTHER}`, `${'1'.repeat(22)}\n${'2'.repeat(23)}`),
      'more than 3 rows, the first 3',
    ],
  ])('throws when the second read finds %s rows, even if size and time were kept', async (_, change, found) => {
    const file = await writeInput(text);
    const input = await openInput(file);
    expect(change(text)).toHaveLength(text.length);
    await writeFile(file, change(text));
    await utimes(file, 1_700_000_000, 1_700_000_000);
    await expect(collect(input)).rejects.toThrow(`(the second read found ${found})`);
  });

  it('reads the same file again when an editor replaced it by a rename', async () => {
    const file = await writeInput(text);
    const input = await openInput(file);
    const replacement = join(tempDir(), 'new.csv');
    await writeFile(replacement, 'serial,userId\n1,nobody\n');
    await rename(replacement, file);
    expect(summarise(await collect(input))).toEqual([
      [2, 'row'],
      [3, 'row'],
      [4, 'row'],
    ]);
  });
});

describe.runIf(existsSync('/proc/self/fd'))('openInput and its open file', () => {
  const text = `serial,userId\n140100001,${USER}\n140100002,${USER}\n`;

  it('keeps the file open between the passes and closes it after the last row', async () => {
    const file = await writeInput(text);
    const input = await openInput(file);
    expect(openFdsOf(file)).toBe(1);
    await collect(input);
    expect(openFdsOf(file)).toBe(0);
  });

  it('closes it when the loop is left early, or when nothing is read', async () => {
    const file = await writeInput(text);
    const input = await openInput(file);
    for await (const item of input.items) if (item.row.line === 2) break;
    expect(openFdsOf(file)).toBe(0);
    const unread = await openInput(file);
    await unread.close();
    expect(openFdsOf(file)).toBe(0);
  });

  it('closes it when the file is refused', async () => {
    const file = await writeInput('serial,userId\n');
    await expect(openInput(file)).rejects.toThrow('has a header line but no rows');
    expect(openFdsOf(file)).toBe(0);
  });
});
