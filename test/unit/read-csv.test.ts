import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CsvError } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { lineBreaksIn, readCsv, type CsvItem } from '../../src/input/read-csv.js';
import { tempDir } from '../helpers/temp-dir.js';

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';

/** Every item readCsv gives for `text`, as [line, record or error code]. */
async function readText(text: string | Buffer, checkUtf8 = false): Promise<Array<[number, string[] | string]>> {
  const file = join(tempDir(), 'in.csv');
  await writeFile(file, text);
  const handle = await open(file);
  try {
    const items: CsvItem[] = [];
    for await (const item of readCsv(handle, { file, checkUtf8 })) items.push(item);
    return items.map((item): [number, string[] | string] =>
      'error' in item ? [item.line, item.error.code] : [item.line, item.record],
    );
  } finally {
    await handle.close();
  }
}

describe('lineBreaksIn', () => {
  it.each([
    [['140100001', USER], 0],
    [['two\nlines'], 1],
    [['two\r\nlines'], 1],
    [['old\rmac'], 1],
    [['a\n', 'b\r\n\r\nc', '\r'], 4],
  ])('%j has %i line breaks', (record, breaks) => {
    expect(lineBreaksIn(record)).toBe(breaks);
  });
});

describe('readCsv', () => {
  it('gives each record the line it starts on, across blank lines and quoted line breaks', async () => {
    const text = `serial,userId,note\n\n140100001,${USER},"two\nlines"\n\n,,\n140100002,${USER},x\n`;
    expect(await readText(text)).toEqual([
      [1, ['serial', 'userId', 'note']],
      [3, ['140100001', USER, 'two\nlines']],
      [7, ['140100002', USER, 'x']],
    ]);
  });

  it('counts a CRLF file, and a CR LF inside a quoted value, as an editor does', async () => {
    const text = ['serial,userId,note', `140100001,${USER},"a\r\nb\r\nc"`, '', `140100002,${USER},x`].join('\r\n');
    expect((await readText(text)).map(([line]) => line)).toEqual([1, 2, 6]);
  });

  it('keeps a stray quote inside a field', async () => {
    expect(await readText(`serial,note\n140100001,6" tall\n`)).toEqual([
      [1, ['serial', 'note']],
      [2, ['140100001', '6" tall']],
    ]);
  });

  it('gives a quote that is never closed as a malformed item on the line its record starts, after the records before it', async () => {
    const text = `serial,userId\n140100001,${USER}\n140100002,"${USER}\n140100003,${USER}\n`;
    expect(await readText(text)).toEqual([
      [1, ['serial', 'userId']],
      [2, ['140100001', USER]],
      [3, 'CSV_QUOTE_NOT_CLOSED'],
    ]);
  });

  // Found by test/property: csv-parse counts each CR LF inside the never-closed quote as two lines,
  // so the line it gives grew past the end of the file (7 in this 4-line file).
  it('gives a quote that is never closed in a CR LF file the line its record starts, not one past the end', async () => {
    expect(await readText('serial,userId\r\n1,"x\r\n2,y\r\n3,z\r\n')).toEqual([
      [1, ['serial', 'userId']],
      [2, 'CSV_QUOTE_NOT_CLOSED'],
    ]);
  });

  // Found by test/property: csv-parse kept to the first line ending it met, so an LF row in a CR LF
  // file (or a CR LF row in an LF one) ran into the row after it, or kept a CR in its last value.
  it.each([
    ['LF rows in a CR LF file', `serial,userId\r\n140100001,${USER}\n140100002,${USER}\r\n140100003,${USER}\n`],
    ['a CR LF row in an LF file', `serial,userId\n140100001,${USER}\r\n140100002,${USER}\n140100003,${USER}`],
    ['a lone CR among LFs', `serial,userId\n140100001,${USER}\r140100002,${USER}\n140100003,${USER}\n`],
  ])('reads %s line by line', async (_, text) => {
    expect(await readText(text)).toEqual([
      [1, ['serial', 'userId']],
      [2, ['140100001', USER]],
      [3, ['140100002', USER]],
      [4, ['140100003', USER]],
    ]);
  });

  it('corrects the line csv-parse reports for a malformed record after a CR LF inside quotes', async () => {
    const text = `serial,note\r\n140100001,"a\r\nb"\r\n140100002,"never closed`;
    // csv-parse counts the quoted CR LF as two lines, so its error names line 5 for the 4th line.
    const error = (() => {
      try {
        parse(text, { relax_quotes: true });
      } catch (caught) {
        return caught as CsvError;
      }
    })();
    expect(error?.lines).toBe(5);
    expect(await readText(text)).toEqual([
      [1, ['serial', 'note']],
      [2, ['140100001', 'a\r\nb']],
      [4, 'CSV_QUOTE_NOT_CLOSED'],
    ]);
  });

  it('with checkUtf8, stops at the first byte that is not UTF-8, naming its offset and line', async () => {
    const head = Buffer.from(`serial,name\n140100001,Ren`);
    const text = Buffer.concat([head, Buffer.from([0xe9, 0x0a])]);
    await expect(readText(text, true)).rejects.toThrow(`byte offset ${head.length} (line 2) is 0xE9`);
    expect(await readText(text)).toHaveLength(2);
  });

  it('names a file that cannot be read', async () => {
    const dir = tempDir();
    const handle = await open(dir);
    try {
      const reading = async () => {
        for await (const item of readCsv(handle, { file: dir })) expect(item).toBeUndefined();
      };
      await expect(reading()).rejects.toThrow(`${dir}: cannot read the input file: it is a directory`);
    } finally {
      await handle.close();
    }
  });

  it('reads from the start each time, and leaves the file open', async () => {
    const file = join(tempDir(), 'in.csv');
    await writeFile(file, `serial\n1\n2\n3\n`);
    const handle = await open(file);
    try {
      for await (const item of readCsv(handle, { file })) if (item.line === 2) break;
      const lines: number[] = [];
      for await (const item of readCsv(handle, { file })) lines.push(item.line);
      expect(lines).toEqual([1, 2, 3, 4]);
    } finally {
      await handle.close();
    }
  });
});
