import { describe, expect, it } from 'vitest';
import { openInput, type ReadItem } from '../../src/input/read-rows.js';
import { tempDir, writeFile } from '../helpers.js';

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';

async function readAll(text: string): Promise<ReadItem[]> {
  const { items } = await openInput(writeFile(tempDir(), 'in.csv', text));
  const all: ReadItem[] = [];
  for await (const item of items) all.push(item);
  return all;
}

const summarise = (items: readonly ReadItem[]) =>
  items.map((item) => [item.row.line, item.kind === 'invalid' ? item.problem.code : 'row']);

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
