import fc from 'fast-check';
import { SERIAL_ALIASES, USER_ID_ALIASES } from '../../src/input/columns.js';

/**
 * Generated input files for the property tests, each with what reading it must give, worked out from
 * the README's promises rather than from the code under test: one item per record whose fields are
 * not all empty, on the line an editor shows the record starting on (CR LF, LF and a lone CR are one
 * line break each, also inside quoted values), the header found by its aliases in any column.
 */

/** What one data record of a generated file must give. */
export interface ExpectedRow {
  /** 1-based line where the record starts. */
  readonly line: number;
  /** The error code of an invalid row; undefined for a valid one. */
  readonly code: string | undefined;
  /** The warning code of a valid row, if any. */
  readonly warning: string | undefined;
  readonly serial: string;
  readonly userId: string;
  readonly carried: readonly string[];
}

export interface CsvCase {
  /** The file's text, BOM included when there is one. */
  readonly text: string;
  /** The header's cells, in file order. */
  readonly header: readonly string[];
  /** Positions of the carried columns in the header. */
  readonly carriedIndexes: readonly number[];
  /** One per data record, in file order. */
  readonly rows: readonly ExpectedRow[];
}

/** Header names are compared lower-cased, without anything but letters and digits (README "Input file"). */
const normalise = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');
const aliasKeys = new Set([...SERIAL_ALIASES, ...USER_ID_ALIASES].map(normalise));

const MAX_ROWS = 12;
const MAX_CARRIED = 3;
/** Fields a row can have: both checked columns, every carried one, and one too many. */
const MAX_FIELDS = 2 + MAX_CARRIED + 1;

/** An alias as a person or a spreadsheet spells it: "Serial Number", "USER_ID", "ds100-serial" … */
const spelled = (aliases: readonly string[]): fc.Arbitrary<string> =>
  fc
    .record({
      alias: fc.constantFrom(...aliases),
      separator: fc.constantFrom('', ' ', '_', '-', '.'),
      casing: fc.constantFrom('as is', 'lower', 'upper', 'title'),
    })
    .map(({ alias, separator, casing }) => {
      const words = alias.split(/_|(?<=[a-z0-9])(?=[A-Z])/);
      const cased = words.map((word) =>
        casing === 'lower'
          ? word.toLowerCase()
          : casing === 'upper'
            ? word.toUpperCase()
            : casing === 'title'
              ? word.charAt(0).toUpperCase() + word.slice(1)
              : word,
      );
      return cased.join(separator);
    });

/** A header cell that makes the reader take the line for data: many digits, or a user ID's start. */
const looksLikeData = (name: string): boolean =>
  /^\d{6,}$/.test(name.trim()) || /^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(name.trim());

/** Spreadsheets run cells starting with these as formulas; the results writer must neutralise them. */
const FORMULA_STARTS = ['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20'] as const;

const cellPieces = fc.constantFrom(
  ',',
  '"',
  '""',
  '\n',
  '\r\n',
  '\r',
  ' ',
  'é',
  'Zoë Ångström',
  'ß',
  '日本',
  '🙂',
  '0',
  '00123',
  '=1+1',
  '+49 30 1234',
  '-5',
  '@SUM(A1)',
  '\t',
  '\uFF1D',
  "'",
  ';',
  'a',
  'Z',
  '\u00a0',
);

/** Any value a carried column may hold; never NUL, which makes a file binary (README "Input file"). */
export const cellValue: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: 'grapheme', maxLength: 6 }),
    fc.array(cellPieces, { maxLength: 5 }).map((pieces) => pieces.join('')),
    fc.stringMatching(/^0\d{0,8}$/),
    fc.tuple(fc.constantFrom(...FORMULA_STARTS), fc.string({ maxLength: 4 })).map(([start, rest]) => start + rest),
  )
  .filter((value) => !value.includes('\0'));

const carriedName: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(
      'note',
      'Name',
      'Département',
      'outcome',
      'Line',
      'ERRORCODE',
      'attempts',
      '',
      '=cmd',
      '-x',
      '@home',
      'e-mail, work',
      'two\nlines',
      'say "hi"',
    ),
    fc.string({ unit: 'grapheme', maxLength: 8 }),
  )
  // A name the reader would take for a checked column, for data, or for a BOM is a different file.
  .filter(
    (name) =>
      !name.includes('\0') && !name.includes('\uFEFF') && !aliasKeys.has(normalise(name)) && !looksLikeData(name),
  );

const serial9 = fc.stringMatching(/^\d{9}$/);
const userIdLower = fc.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

type Template = readonly [code: string, make: (good: string) => string];

/** Broken serials, each with the code README "Error codes" gives it; `good` is a well-formed serial. */
const BROKEN_SERIALS: readonly Template[] = [
  ['MISSING_SERIAL', () => ''],
  ['MISSING_SERIAL', () => '   '],
  ['SERIAL_STRAY_CHARACTERS', (good) => ` ${good}`],
  ['SERIAL_STRAY_CHARACTERS', (good) => `${good} `],
  ['SERIAL_STRAY_CHARACTERS', (good) => `"${good}"`],
  ['SERIAL_STRAY_CHARACTERS', (good) => `{${good}}`],
  ['SERIAL_STRAY_CHARACTERS', (good) => `'${good}`],
  ['SERIAL_STRAY_CHARACTERS', (good) => `\t${good}`],
  ['SERIAL_STRAY_CHARACTERS', (good) => `${good}\u200b`],
  ['SERIAL_SCIENTIFIC_NOTATION', () => '1.40100E+08'],
  ['SERIAL_SCIENTIFIC_NOTATION', (good) => `${good[0]}.${good.slice(1, 5)}e+08`],
  ['INVALID_SERIAL', (good) => `ABC${good}`],
  ['INVALID_SERIAL', (good) => `-${good}`],
  ['INVALID_SERIAL', (good) => `=${good}`],
  ['INVALID_SERIAL', (good) => good.padEnd(37, '7')],
];

/** Broken user IDs, each with its code; `good` is a well-formed user ID. */
const BROKEN_USER_IDS: readonly Template[] = [
  ['MISSING_USER_ID', () => ''],
  ['MISSING_USER_ID', () => ' '],
  ['USER_ID_STRAY_CHARACTERS', (good) => ` ${good}`],
  ['USER_ID_STRAY_CHARACTERS', (good) => `${good} `],
  ['USER_ID_STRAY_CHARACTERS', (good) => `{${good}}`],
  ['USER_ID_STRAY_CHARACTERS', (good) => `"${good}"`],
  ['USER_ID_STRAY_CHARACTERS', (good) => `\u00a0${good}`],
  ['INVALID_USER_ID', () => 'jane.doe@example.com'],
  ['INVALID_USER_ID', (good) => good.slice(1)],
  ['INVALID_USER_ID', (good) => `g${good.slice(1)}`],
  ['INVALID_USER_ID', (good) => good.replaceAll('-', '')],
  ['INVALID_USER_ID', (good) => `@${good}`],
];

/** Records whose fields are all empty: blank lines, also `,,` and `"",""` (README "Validating a file"). */
const blankRecord = fc.oneof(
  fc.constant(''),
  fc.integer({ min: 1, max: 5 }).map((commas) => ','.repeat(commas)),
  fc.array(fc.constantFrom('', '""'), { minLength: 1, maxLength: 4 }).map((fields) => fields.join(',') || '""'),
);

type Shape =
  | { readonly kind: 'valid' }
  /** 10 digits: valid, with the SERIAL_LENGTH warning. */
  | { readonly kind: 'long serial' }
  | { readonly kind: 'broken serial'; readonly template: Template }
  | { readonly kind: 'broken user ID'; readonly template: Template }
  | { readonly kind: 'extra field'; readonly extra: string }
  | { readonly kind: 'missing field' }
  /** A line of blanks: one field, not empty, so not a blank line. */
  | { readonly kind: 'spaces'; readonly spaces: string }
  | { readonly kind: 'blank'; readonly text: string };

const shape: fc.Arbitrary<Shape> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'valid' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'long serial' } as const) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(...BROKEN_SERIALS).map((template) => ({ kind: 'broken serial', template }) as const),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(...BROKEN_USER_IDS).map((template) => ({ kind: 'broken user ID', template }) as const),
  },
  { weight: 1, arbitrary: cellValue.map((extra) => ({ kind: 'extra field', extra }) as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'missing field' } as const) },
  { weight: 1, arbitrary: fc.stringMatching(/^[ \t]{1,3}$/).map((spaces) => ({ kind: 'spaces', spaces }) as const) },
  { weight: 2, arbitrary: blankRecord.map((text) => ({ kind: 'blank', text }) as const) },
);

const row = fc.record({
  shape,
  carried: fc.array(cellValue, { minLength: MAX_CARRIED, maxLength: MAX_CARRIED }),
  /** Per field: quote it even when it need not be. */
  quoted: fc.array(fc.boolean(), { minLength: MAX_FIELDS, maxLength: MAX_FIELDS }),
  upperCaseUserId: fc.boolean(),
});

/** A quote that is never closed: everything to the end of the file is one field (README "Error codes"). */
const unclosedQuote = fc
  .record({
    before: fc.array(fc.stringMatching(/^[a-z0-9 é]{0,4}$/), { maxLength: 2 }),
    rest: fc.array(fc.constantFrom('x', ',', '\n', '\r\n', '140100001', ' ', 'é'), { maxLength: 6 }),
  })
  .map(({ before, rest }) => [...before, `"${rest.join('')}`].join(','));

const lineEndings = fc.constantFrom('LF', 'CRLF', 'CR', 'mixed');

/** A value as a CSV field: quoted when it must be, or when `quoted`, with its quotes doubled. */
export function field(value: string, quoted: boolean): string {
  // Unquoted, a stray quote inside a value is kept (csv-parse's relax_quotes), but not one in front.
  const mustQuote = /[,\r\n]/.test(value) || value.startsWith('"');
  return mustQuote || quoted ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Line breaks as an editor counts them: CR LF, LF and a lone CR one each. */
const lineBreaks = (text: string): number => text.match(/\r\n|\r|\n/g)?.length ?? 0;

/**
 * CSV files with the two checked columns anywhere among 0-3 carried ones (random names, the checked
 * ones under any alias spelling), 0-12 records (valid, broken, of the wrong width, blank), maybe a
 * quote never closed at the end, LF, CR LF, CR or mixed line endings, with or without a BOM, blank
 * lines before the header and a line break at the end, sometimes longer than one read of the file.
 * Valid rows are unique by construction (no serial or user twice), so no rule across rows applies.
 */
export const csvCase: fc.Arbitrary<CsvCase> = fc
  .record({
    carriedNames: fc.array(carriedName, { maxLength: MAX_CARRIED }),
    serialName: spelled(SERIAL_ALIASES),
    userIdName: spelled(USER_ID_ALIASES),
    serialAt: fc.nat(),
    userIdAt: fc.nat(),
    headerQuoted: fc.array(fc.boolean(), { minLength: MAX_FIELDS, maxLength: MAX_FIELDS }),
    blanksBefore: fc.array(blankRecord, { maxLength: 2 }),
    rows: fc.array(row, { maxLength: MAX_ROWS }),
    serials: fc.uniqueArray(serial9, { minLength: MAX_ROWS, maxLength: MAX_ROWS }),
    userIds: fc.uniqueArray(userIdLower, { minLength: MAX_ROWS, maxLength: MAX_ROWS }),
    unclosed: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: unclosedQuote }),
    lineEndings,
    mixed: fc.array(fc.constantFrom('\n', '\r\n'), { minLength: 4 + MAX_ROWS, maxLength: 4 + MAX_ROWS }),
    endsWithLineBreak: fc.boolean(),
    bom: fc.boolean(),
    // A long blank line somewhere, so that the file is read in two chunks and the break between them
    // falls at a random place in a later record (a CR LF or a character's bytes cut in two).
    padding: fc.oneof(
      { weight: 12, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 65_300, max: 65_536 }) },
    ),
    paddingAt: fc.nat(),
  })
  .map((spec) => {
    const header = [...spec.carriedNames];
    header.splice(spec.serialAt % (header.length + 1), 0, spec.serialName);
    header.splice(spec.userIdAt % (header.length + 1), 0, spec.userIdName);
    const serialIndex = header.indexOf(spec.serialName);
    const userIdIndex = header.indexOf(spec.userIdName);
    const carriedIndexes = header.flatMap((_, index) =>
      index === serialIndex || index === userIdIndex ? [] : [index],
    );

    // Records as text, each with the row it must give (none for a blank one and the header).
    const records: Array<{ readonly text: string; readonly row?: Omit<ExpectedRow, 'line'> }> = [];
    for (const text of spec.blanksBefore) records.push({ text });
    records.push({ text: header.map((name, index) => field(name, spec.headerQuoted[index]!)).join(',') });
    spec.rows.forEach(({ shape, carried, quoted, upperCaseUserId }, index) => {
      if (shape.kind === 'blank') {
        records.push({ text: shape.text });
        return;
      }
      const goodSerial = spec.serials[index]!;
      const goodUserId = upperCaseUserId ? spec.userIds[index]!.toUpperCase() : spec.userIds[index]!;
      let code: string | undefined;
      let warning: string | undefined;
      let serial = goodSerial;
      let userId = goodUserId;
      if (shape.kind === 'long serial') {
        serial = `${goodSerial}7`;
        warning = 'SERIAL_LENGTH';
      } else if (shape.kind === 'broken serial') {
        [code] = shape.template;
        serial = shape.template[1](goodSerial);
      } else if (shape.kind === 'broken user ID') {
        [code] = shape.template;
        userId = shape.template[1](goodUserId);
      }
      let fields = header.map((_, column) =>
        column === serialIndex ? serial : column === userIdIndex ? userId : carried[carriedIndexes.indexOf(column)]!,
      );
      if (shape.kind === 'extra field') fields = [...fields, shape.extra];
      if (shape.kind === 'missing field') fields = fields.slice(0, -1);
      if (shape.kind === 'spaces') fields = [shape.spaces];
      if (fields.length !== header.length) {
        code = 'WRONG_FIELD_COUNT';
        warning = undefined;
      }
      records.push({
        text: fields.map((value, column) => field(value, quoted[column]!)).join(','),
        row: {
          code,
          warning,
          serial: fields[serialIndex] ?? '',
          userId: fields[userIdIndex] ?? '',
          carried: carriedIndexes.map((column) => fields[column] ?? ''),
        },
      });
    });
    if (spec.unclosed !== null) {
      records.push({
        text: spec.unclosed,
        row: {
          code: 'MALFORMED_CSV',
          warning: undefined,
          serial: '',
          userId: '',
          carried: carriedIndexes.map(() => ''),
        },
      });
    }

    if (spec.padding > 0) records.splice(spec.paddingAt % records.length, 0, { text: ','.repeat(spec.padding) });

    const ending = (index: number): string =>
      spec.lineEndings === 'LF'
        ? '\n'
        : spec.lineEndings === 'CRLF'
          ? '\r\n'
          : spec.lineEndings === 'CR'
            ? '\r'
            : spec.mixed[index % spec.mixed.length]!;
    let text = '';
    const rows: ExpectedRow[] = [];
    records.forEach((record, index) => {
      if (record.row) rows.push({ line: 1 + lineBreaks(text), ...record.row });
      text += record.text;
      if (index < records.length - 1 || spec.endsWithLineBreak) text += ending(index);
    });
    return { text: spec.bom ? `\uFEFF${text}` : text, header, carriedIndexes, rows };
  });

const tokens = fc.constantFrom(
  ',',
  '"',
  '""',
  '\n',
  '\r',
  '\r\n',
  ';',
  '\t',
  '|',
  ' ',
  '\uFEFF',
  'deviceSerialNumber',
  'userId',
  'Serial Number',
  'User ID',
  '140100001',
  '014010000',
  '1.40100E+08',
  'ece30fe9-414c-7536-5403-0656220b3046',
  'é',
  '=1+1',
);

const rawBytes = fc.constantFrom(
  [0x00],
  [0xff, 0xfe],
  [0xef, 0xbb, 0xbf],
  [0xe9],
  [0xc3],
  [0xf0, 0x9f, 0x99],
  [0x80],
  [0x50, 0x4b, 0x03, 0x04],
  [0x25, 0x50, 0x44, 0x46, 0x2d],
  [0x1f, 0x8b],
);

/** Changes to a file's bytes: insert bytes, delete a stretch, or repeat a stretch. */
interface Mutation {
  readonly at: number;
  readonly length: number;
  readonly op: 'insert' | 'delete' | 'repeat';
  readonly bytes: readonly number[];
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  length: fc.integer({ min: 0, max: 8 }),
  op: fc.constantFrom('insert', 'delete', 'repeat'),
  bytes: fc.oneof(
    rawBytes,
    tokens.map((token) => [...Buffer.from(token)]),
  ),
});

function mutate(bytes: Buffer, mutations: readonly Mutation[]): Buffer {
  let result = bytes;
  for (const { at, length, op, bytes: inserted } of mutations) {
    const start = result.length === 0 ? 0 : at % (result.length + 1);
    const end = Math.min(result.length, start + length);
    const middle =
      op === 'insert'
        ? Buffer.concat([Buffer.from(inserted), result.subarray(start, end)])
        : op === 'delete'
          ? Buffer.alloc(0)
          : Buffer.concat([result.subarray(start, end), result.subarray(start, end)]);
    result = Buffer.concat([result.subarray(0, start), middle, result.subarray(end)]);
  }
  return result;
}

/**
 * Any bytes a user might hand over as a CSV: random bytes, CSV-ish tokens and stray bytes in any
 * order, and generated CSV files with a few bytes inserted, deleted or repeated.
 */
export const anyFile: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc
    .array(
      fc.oneof(
        tokens.map((token) => Buffer.from(token)),
        rawBytes.map((bytes) => Buffer.from(bytes)),
      ),
      {
        maxLength: 40,
      },
    )
    .map((parts) => Buffer.concat(parts)),
  fc
    .tuple(csvCase, fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([{ text }, mutations]) => mutate(Buffer.from(text), mutations)),
);

/** The first character of a value that the results writer prefixes with `'` (README "Results file"). */
export const startsLikeFormula = (value: string): boolean => FORMULA_STARTS.some((start) => value.startsWith(start));
