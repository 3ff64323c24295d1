import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validate } from '../../src/commands/validate.js';
import { Ds100Error } from '../../src/errors.js';
import { chooseDelimiter, detectDelimiter } from '../../src/input/delimiter.js';
import { describeInputFormat, resolveInputFormat, type InputFormat } from '../../src/input/input-format.js';
import { openInput, type OpenedInput, type ReadItem } from '../../src/input/open-input.js';
import { formatValidationSummary } from '../../src/output/summary.js';
import { USER_1, USER_2, USER_3 } from '../helpers/input.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

async function collect(input: OpenedInput): Promise<ReadItem[]> {
  const all: ReadItem[] = [];
  for await (const item of input.items) all.push(item);
  return all;
}

/** Writes `contents` to a fresh file and opens it with `format`. */
async function open(contents: string | Buffer, format?: InputFormat): Promise<{ file: string; input: OpenedInput }> {
  const file = writeFile(tempDir(), 'in.csv', contents);
  return { file, input: await openInput(file, { format }) };
}

const rowsOf = (items: readonly ReadItem[]) =>
  items.map(({ kind, row }) => ({
    kind,
    line: row.line,
    serial: row.deviceSerialNumber,
    userId: row.userId,
    carried: row.carried,
  }));

async function inputError(contents: string | Buffer, format?: InputFormat): Promise<Ds100Error> {
  const error = await open(contents, format).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Ds100Error);
  return error as Ds100Error;
}

/** `text` in Windows-1252: every character here is one byte of it. */
const cp1252 = (text: string): Buffer =>
  Buffer.from(
    [...text].map((char) => {
      const code = char === '€' ? 0x80 : char.charCodeAt(0);
      if (code > 0xff) throw new Error(`not in the test's Windows-1252 subset: ${char}`);
      return code;
    }),
  );

const utf16le = (text: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);

describe('resolveInputFormat', () => {
  it('takes the separators by character or name and the encodings with their aliases', () => {
    expect(resolveInputFormat(undefined)).toEqual({ delimiter: undefined, encoding: 'utf-8' });
    expect(resolveInputFormat({ delimiter: 'tab' }).delimiter).toBe('\t');
    expect(resolveInputFormat({ delimiter: 'TAB' }).delimiter).toBe('\t');
    expect(resolveInputFormat({ delimiter: '\\t' }).delimiter).toBe('\t');
    expect(resolveInputFormat({ delimiter: '\t' }).delimiter).toBe('\t');
    expect(resolveInputFormat({ delimiter: ';' }).delimiter).toBe(';');
    expect(resolveInputFormat({ delimiter: '|' }).delimiter).toBe('|');
    expect(resolveInputFormat({ encoding: 'CP1252' }).encoding).toBe('windows-1252');
    expect(resolveInputFormat({ encoding: 'utf16le' }).encoding).toBe('utf-16le');
    expect(resolveInputFormat({ encoding: 'utf8' }).encoding).toBe('utf-8');
    expect(resolveInputFormat({ encoding: 'latin1' }).encoding).toBe('latin1');
  });

  it.each([
    [{ delimiter: ':' }, /^Expected `inputFormat.delimiter` \(--delimiter\) to be one of , ; tab \|, got ":"$/],
    [{ delimiter: ',;' }, /got ",;"$/],
    [
      { encoding: 'ebcdic' },
      /^Expected `inputFormat.encoding` \(--encoding\) to be one of utf-8, windows-1252, latin1, utf-16le, got "ebcdic"$/,
    ],
  ])('refuses %j as a usage error', (format, message) => {
    expect(() => resolveInputFormat(format)).toThrow(message);
    expect(() => resolveInputFormat(format)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('a bad format is refused before the file is even looked at', async () => {
    await expect(openInput('/nonexistent/in.csv', { format: { delimiter: 'x' } })).rejects.toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    );
  });
});

describe('the separator, from the header', () => {
  it('chooses the one that finds a serial column in the most fields; a comma on a tie', () => {
    expect(detectDelimiter('deviceSerialNumber;userId;note\n1;2;3\n')).toBe(';');
    expect(detectDelimiter('deviceSerialNumber\tuserId\n')).toBe('\t');
    expect(detectDelimiter('serial|userId|a,b\n')).toBe('|');
    expect(detectDelimiter('serial,userId\n')).toBe(',');
    // One column: every separator finds the serial in one field, and the comma wins.
    expect(detectDelimiter('serial\n')).toBe(',');
    expect(detectDelimiter('name;user\n')).toBeUndefined();
    expect(detectDelimiter('')).toBeUndefined();
  });

  it('reads the first record that is not blank, as the reader does', () => {
    expect(detectDelimiter(';;;\n\n;\nserial;userId\n')).toBe(';');
    // A line break inside a quoted header name is part of the name.
    expect(detectDelimiter('"serial\nnumber";userId\n')).toBe(';');
    expect(detectDelimiter('"serie\nnumber";userId\n')).toBeUndefined();
  });

  it('a --delimiter that misses the serial column where another finds it is refused, naming the other', () => {
    expect(() => chooseDelimiter('serial;userId\n', 'in.csv', ',')).toThrow(
      'in.csv: line 1: with --delimiter "," the header has no device serial column, but with ";" it has; ' +
        'leave out --delimiter, or pass --delimiter ";"',
    );
    expect(() => chooseDelimiter('serial\tuserId\n', 'in.csv', '|')).toThrow(/with tab it has; .* --delimiter tab$/);
    expect(chooseDelimiter('serial;userId\n', 'in.csv', ';')).toEqual({ delimiter: ';', isDetected: false });
    expect(chooseDelimiter('serial;userId\n', 'in.csv', undefined)).toEqual({ delimiter: ';', isDetected: true });
    expect(chooseDelimiter('name;user\n', 'in.csv', undefined)).toEqual({ delimiter: ',', isDetected: false });
  });
});

describe('openInput with other separators', () => {
  it('reads a ";" file (an Excel export where the comma is the decimal mark) and says so', async () => {
    const text = `deviceSerialNumber;userId;price\r\n140100001;${USER_1};"1,50"\r\n\r\n140100002;${USER_2};"a;\r\nb"\r\n140100003;${USER_3};2,75\r\n`;
    const { file, input } = await open(text);
    expect(input.delimiter).toBe(';');
    expect(input.encoding).toBe('utf-8');
    expect(input.formatNote).toBe(`${file}: values separated by ";" (detected from the header; --delimiter overrides)`);
    expect(input.columns.carriedNames).toEqual(['price']);
    expect(rowsOf(await collect(input))).toEqual([
      { kind: 'row', line: 2, serial: '140100001', userId: USER_1, carried: ['1,50'] },
      { kind: 'row', line: 4, serial: '140100002', userId: USER_2, carried: ['a;\r\nb'] },
      { kind: 'row', line: 6, serial: '140100003', userId: USER_3, carried: ['2,75'] },
    ]);
  });

  it('reads a tab-separated file', async () => {
    const { input } = await open(`Serial Number\tnote\tuser_id\n140100001\thello, world\t${USER_1}\n`);
    expect(input.delimiter).toBe('\t');
    expect(input.formatNote).toMatch(/values separated by tabs \(detected/);
    expect(rowsOf(await collect(input))).toEqual([
      { kind: 'row', line: 2, serial: '140100001', userId: USER_1, carried: ['hello, world'] },
    ]);
  });

  it('a comma file with ";" inside quoted values stays a comma file, and says nothing', async () => {
    const { input } = await open(`"note;a;b;c",deviceSerialNumber,userId\n"x;y;z",140100001,${USER_1}\n`);
    expect(input.delimiter).toBe(',');
    expect(input.formatNote).toBeUndefined();
    expect(rowsOf(await collect(input))).toEqual([
      { kind: 'row', line: 2, serial: '140100001', userId: USER_1, carried: ['x;y;z'] },
    ]);
  });

  it('--delimiter skips the detection, and the note says it was given', async () => {
    const { file, input } = await open(`serial|userId|note\n140100001|${USER_1}|a,b;c\n`, { delimiter: '|' });
    expect(input.delimiter).toBe('|');
    expect(input.formatNote).toBe(`${file}: values separated by "|" (as --delimiter says)`);
    expect(rowsOf(await collect(input))).toEqual([
      { kind: 'row', line: 2, serial: '140100001', userId: USER_1, carried: ['a,b;c'] },
    ]);
    const comma = await open(`serial,userId\n140100001,${USER_1}\n`, { delimiter: ',' });
    expect(comma.input.formatNote).toBeUndefined();
    await comma.input.close();
  });

  it('a --delimiter that cannot be right is refused before any row is read', async () => {
    const error = await inputError(`serial;userId\n140100001;${USER_1}\n`, { delimiter: ',' });
    expect(error.code).toBe('INPUT_FILE');
    expect(error.message).toMatch(
      /: line 1: with --delimiter "," the header has no device serial column, but with ";" it has/,
    );
  });

  it('a header that no separator makes work fails as a comma file: no serial column', async () => {
    const error = await inputError(`device,user\n140100001,${USER_1}\n`);
    expect(error.message).toMatch(/: line 1: the header has no device serial column \(looked for deviceSerialNumber/);
    expect((await inputError(`device;user\n140100001;${USER_1}\n`)).message).toMatch(
      /the header is a single column "device;user": the file seems to separate values with ";", not commas, but no column is a device serial column either way/,
    );
  });
});

describe('openInput with other encodings', () => {
  const HEADER = 'deviceSerialNumber;userId;name;city\r\n';
  const ROWS = [
    `140100001;${USER_1};Renée Müller;Zürich\r\n`,
    `140100002;${USER_2};"Zoë\r\nÅngström";Köln\r\n`,
    `140100003;${USER_3};Price: 5 €;Besançon\r\n`,
  ];
  const EXPECTED = [
    { kind: 'row', line: 2, serial: '140100001', userId: USER_1, carried: ['Renée Müller', 'Zürich'] },
    { kind: 'row', line: 3, serial: '140100002', userId: USER_2, carried: ['Zoë\r\nÅngström', 'Köln'] },
    { kind: 'row', line: 5, serial: '140100003', userId: USER_3, carried: ['Price: 5 €', 'Besançon'] },
  ];

  it('reads a Windows-1252 file with é, ü and € right, with the lines as an editor shows them', async () => {
    const { file, input } = await open(cp1252(HEADER + ROWS.join('')), { encoding: 'windows-1252' });
    expect(input.encoding).toBe('windows-1252');
    expect(input.formatNote).toBe(
      `${file}: values separated by ";" (detected from the header; --delimiter overrides); read as windows-1252 as --encoding says`,
    );
    expect(rowsOf(await collect(input))).toEqual(EXPECTED);
  });

  it('reads latin1 as Windows-1252 (0x80 is €), as browsers do', async () => {
    const { input } = await open(cp1252(HEADER + ROWS.join('')), { encoding: 'latin1' });
    expect(input.formatNote).toMatch(/read as latin1 \(windows-1252\)/);
    expect(rowsOf(await collect(input))).toEqual(EXPECTED);
  });

  it('reads UTF-16LE with its BOM (Excel\'s "Unicode text", tab-separated)', async () => {
    const text = `deviceSerialNumber\tuserId\tname\r\n140100001\t${USER_1}\tRenée 🙂\r\n140100002\t${USER_2}\t€\r\n`;
    const { input } = await open(utf16le(text), { encoding: 'utf-16le' });
    expect(input.delimiter).toBe('\t');
    expect(input.columns.carriedNames).toEqual(['name']);
    expect(rowsOf(await collect(input))).toEqual([
      { kind: 'row', line: 2, serial: '140100001', userId: USER_1, carried: ['Renée 🙂'] },
      { kind: 'row', line: 3, serial: '140100002', userId: USER_2, carried: ['€'] },
    ]);
  });

  it('UTF-16LE: a character cut in two by a read of the file is read whole', async () => {
    const head = `deviceSerialNumber,userId,note\n140100001,${USER_1},`;
    // Bytes: a BOM, then two per code unit; the emoji's four bytes start two before 64 KiB.
    const padding = 'x'.repeat((65_536 - 2 - 2) / 2 - head.length);
    const text = `${head}${padding}🙂\n140100002,${USER_2},é\n`;
    const bytes = utf16le(text);
    expect(bytes.subarray(65_534, 65_538)).toEqual(Buffer.from('🙂', 'utf16le'));
    const { input } = await open(bytes, { encoding: 'utf-16le' });
    expect(rowsOf(await collect(input))).toEqual([
      { kind: 'row', line: 2, serial: '140100001', userId: USER_1, carried: [`${padding}🙂`] },
      { kind: 'row', line: 3, serial: '140100002', userId: USER_2, carried: ['é'] },
    ]);
  });

  it('without --encoding a Windows-1252 file is still refused, and the message names --encoding', async () => {
    const error = await inputError(cp1252(HEADER + ROWS.join('')));
    expect(error.code).toBe('INPUT_FILE');
    expect(error.message).toMatch(
      /: the file is not UTF-8: byte offset 87 \(line 2\) is 0xE9, which is not valid UTF-8\. It was probably saved as Latin-1 \/ Windows-1252 \("ANSI"\): pass --encoding windows-1252 to read it as it is/,
    );
  });

  it('without --encoding a UTF-16LE file is refused, and the message names --encoding utf-16le', async () => {
    const error = await inputError(utf16le(`serial,userId\n140100001,${USER_1}\n`));
    expect(error.message).toMatch(/saved as UTF-16 \("Unicode text"\), not UTF-8; pass --encoding utf-16le to read it/);
    const bigEndian = await inputError(Buffer.from([0xfe, 0xff, 0x00, 0x73]));
    expect(bigEndian.message).not.toContain('--encoding');
  });

  it('refuses an encoding the bytes plainly contradict', async () => {
    const utf8Bom = Buffer.from(`\uFEFFserial,userId\n140100001,${USER_1}\n`);
    expect((await inputError(utf8Bom, { encoding: 'windows-1252' })).message).toMatch(
      /starts with a UTF-8 byte order mark, so it is UTF-8, not windows-1252; leave out --encoding$/,
    );
    expect((await inputError(utf8Bom, { encoding: 'utf-16le' })).message).toMatch(/so it is UTF-8, not utf-16le/);
    const bigEndian = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('serial', 'utf16le').swap16()]);
    expect((await inputError(bigEndian, { encoding: 'utf-16le' })).message).toMatch(/UTF-16 big-endian, not UTF-16LE/);
  });
});

describe('the input fingerprint', () => {
  it("is the SHA-256 of the file's bytes, whatever the encoding", async () => {
    const files: Array<[string | Buffer, InputFormat | undefined]> = [
      [`deviceSerialNumber,userId\n140100001,${USER_1}\n`, undefined],
      [cp1252(`serial;userId;name\n140100001;${USER_1};Müller €\n`), { encoding: 'windows-1252' }],
      [utf16le(`serial\tuserId\n140100001\t${USER_1}\n`), { encoding: 'utf-16le' }],
      // Longer than one read of the file.
      [`serial,userId,note\n140100001,${USER_1},${'x'.repeat(200_000)}\n`, undefined],
    ];
    for (const [contents, format] of files) {
      const { file, input } = await open(contents, format);
      expect(input.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
      await input.close();
    }
  });
});

describe('validate and the input format', () => {
  it('says in its summary how the file was read, and only when it was not comma-separated UTF-8', async () => {
    const dir = tempDir();
    const semicolons = writeFile(dir, 'semi.csv', cp1252(`serial;userId;name\n140100001;${USER_1};Müller\n`));
    const summary = await validate({ input: semicolons, inputFormat: { encoding: 'cp1252' } });
    expect(summary.exitCode).toBe(0);
    expect(summary.readAs).toBe(
      describeInputFormat(semicolons, { delimiter: ';', encoding: 'windows-1252', isDelimiterDetected: true }),
    );
    expect(formatValidationSummary(summary).split('\n')[1]).toBe(
      `  ${semicolons}: values separated by ";" (detected from the header; --delimiter overrides); read as windows-1252 as --encoding says`,
    );
    const commas = writeFile(dir, 'comma.csv', `serial,userId\n140100001,${USER_1}\n`);
    const plain = await validate({ input: commas });
    expect(plain.readAs).toBeUndefined();
    expect(formatValidationSummary(plain)).not.toContain('separated');
  });
});
