import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openInput, type OpenedInput, type ReadItem } from '../../src/input/read-rows.js';
import { tempDir, writeFile } from '../helpers.js';

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';
const OTHER = 'bf42b589-d2dd-601d-7848-b1a07af6750b';

async function collect(input: OpenedInput): Promise<ReadItem[]> {
  const all: ReadItem[] = [];
  for await (const item of input.items) all.push(item);
  return all;
}

async function readAll(text: string): Promise<ReadItem[]> {
  return collect(await openInput(writeFile(tempDir(), 'in.csv', text)));
}

const summarise = (items: readonly ReadItem[]) =>
  items.map((item) => [item.row.line, item.kind === 'invalid' ? item.problem.code : 'row']);

const messageOf = (item: ReadItem | undefined): string | undefined =>
  item?.kind === 'invalid' ? item.problem.message : item?.warning?.message;

describe('openInput', () => {
  it('numbers lines as an editor does, across blank lines and quoted line breaks', async () => {
    const text = `serial,userId,note\n\n140100001,${USER},"two\nlines"\n\n\n140100002,${USER},x\n`;
    expect(summarise(await readAll(text))).toEqual([
      [3, 'row'],
      [7, 'row'],
    ]);
  });

  it('keeps a stray quote inside a field instead of losing the rest of the file', async () => {
    const text = `serial,userId,note\n140100001,${USER},6" tall\n140100002,${USER},x\n`;
    const items = await readAll(text);
    expect(summarise(items)).toEqual([
      [2, 'row'],
      [3, 'row'],
    ]);
    expect(items[0]!.row.carried).toEqual(['6" tall']);
  });

  it('reports a quote that is never closed as MALFORMED_CSV where reading stopped', async () => {
    const text = `serial,userId\n140100001,${USER}\n140100002,"${USER}\n140100003,${USER}\n`;
    const items = await readAll(text);
    expect(summarise(items)).toEqual([
      [2, 'row'],
      [4, 'MALFORMED_CSV'],
    ]);
    expect(items[1]!.kind === 'invalid' && items[1]!.problem.message).toBe(
      'a quoted field is never closed: everything from its opening quote to the end of the file was read as ' +
        'one field and could not be used; look for an unbalanced " in the rows before this line',
    );
  });

  it('fails on an unreadable file with the file name', async () => {
    await expect(openInput('/nonexistent/in.csv')).rejects.toThrow(
      '/nonexistent/in.csv: cannot read the input file: no such file',
    );
  });
});

describe('openInput across rows, after the pre-scan dropped its tables', () => {
  it('words duplicates, conflicts and too many devices in pass 2 as the summary does', async () => {
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
    const input = await openInput(writeFile(tempDir(), 'in.csv', `serial,userId\n${rows.join('\n')}\n`));
    const items = await collect(input);
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
    for (const [code, examples] of input.scan.examples) {
      for (const { line, message } of examples) {
        const item = items.find((candidate) => candidate.row.line === line);
        expect([item?.kind === 'invalid' && item.problem.code, messageOf(item)]).toEqual([code, message]);
      }
    }
    expect(input.scan).toMatchObject({ rows: 9, valid: 0, byErrorCode: { TOO_MANY_DEVICES: 6 } });
  });

  it('keeps serials apart and finds repeats when a serial longer than 16 digits comes after short ones', async () => {
    const long = '1234567890123456789';
    const rows = [
      `140100001,${USER}`, // line 2
      `1234567890123456,${USER}`, // line 3: 16 digits, the tail of a longer serial
      `${long},${OTHER}`, // line 4: widens the table
      `140100001,${USER}`, // line 5: a repeat across the widening
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

  it.each([
    ['another serial', (text: string) => text.replace('140100002', '140100007')],
    ['another user', (text: string) => text.replace(`140100002,${USER}`, `140100002,${OTHER}`)],
    [
      'the same user ID in capitals',
      (text: string) => text.replace(`140100002,${USER}`, `140100002,${USER.toUpperCase()}`),
    ],
    ['two rows swapped', (text: string) => text.replace(/^(140100002.*)\n(140100003.*)$/m, '$2\n$1')],
  ])('throws when a row changed between the passes (%s), though its verdict did not', async (_, change) => {
    const text = `serial,userId\n140100001,${USER}\n140100002,${USER}\n140100003,${OTHER}\n`;
    const file = writeFile(tempDir(), 'in.csv', text);
    const input = await openInput(file);
    expect(change(text)).not.toBe(text);
    writeFileSync(file, change(text));
    await expect(collect(input)).rejects.toThrow(
      `${file}: the file changed while it was being read (line 3 differs from the first read); ` +
        'run again on a file that is not being edited',
    );
  });

  it('throws when a row became well-formed between the passes', async () => {
    const text = `serial,userId\n140100001,${USER}\n140100002,nobody\n`;
    const file = writeFile(tempDir(), 'in.csv', text);
    const input = await openInput(file);
    writeFileSync(file, text.replace('nobody', OTHER));
    await expect(collect(input)).rejects.toThrow('(line 3 differs from the first read)');
  });
});
