import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { TransformCallback } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Parser, type CsvError, type Options as ParseOptions } from 'csv-parse';
import { describeFsError, Ds100Error } from '../errors.js';
import type { InputRow, InvalidRowCode, WarningCode } from '../types.js';
import { mapColumns, type ColumnMap } from './columns.js';
import { CrossRowFacts, type RowKeys } from './cross-row.js';
import { checkFileKind, describeUtf8Error, Utf8Checker } from './file-checks.js';
import { grow } from './key-table.js';
import {
  DEFAULT_RULES,
  serialLengthOf,
  validateRow,
  type FieldNames,
  type RowProblem,
  type SerialLength,
  type ValidationRules,
} from './validate-row.js';

/** A row ready to send (perhaps with a warning), or one that must not be sent and why. */
export type ReadItem =
  | { readonly kind: 'row'; readonly row: InputRow; readonly warning?: RowProblem | undefined }
  | { readonly kind: 'invalid'; readonly row: InputRow; readonly problem: RowProblem };

export type CheckCode = InvalidRowCode | WarningCode;

/** One example of a code, for the summary. */
export interface CheckExample {
  readonly line: number;
  readonly message: string;
}

/** What the pre-scan found in the whole file, before any row is reported or sent. */
export interface InputScan {
  /** Data rows, blank lines not counted. */
  readonly rows: number;
  /** Rows that may be sent (warnings included). */
  readonly valid: number;
  readonly invalid: number;
  /** Invalid rows by error code. */
  readonly byErrorCode: Readonly<Partial<Record<CheckCode, number>>>;
  /** Valid rows with a warning, by code. */
  readonly byWarningCode: Readonly<Partial<Record<CheckCode, number>>>;
  /** The first few rows of each code, in file order. */
  readonly examples: ReadonlyMap<CheckCode, readonly CheckExample[]>;
}

export interface OpenedInput {
  readonly columns: ColumnMap;
  readonly scan: InputScan;
  /** Data rows in file order, read again from the file; iterate once. Nothing is read until then. */
  readonly items: AsyncIterable<ReadItem>;
  /** The same rows in batches (one per chunk read), for consumers that want fewer awaits; use either this or `items`. */
  readonly batches: AsyncIterable<readonly ReadItem[]>;
}

export interface OpenInputOptions {
  readonly rules?: ValidationRules | undefined;
  /** A file with a header and no rows is an error (default); the simulator's tenant file may be empty. */
  readonly requireRows?: boolean | undefined;
  /** Examples kept per code for the summary. Default 3. */
  readonly examplesPerCode?: number | undefined;
}

type Parsed = { readonly record: string[]; readonly endLine: number } | { readonly error: CsvError };

const PARSE_OPTIONS: ParseOptions = {
  bom: true,
  relax_column_count: true,
  relax_quotes: true,
  skip_empty_lines: true,
  skip_records_with_error: true,
};

/**
 * csv-parse with the line number of each record. Its `info` option reports it too, but builds an
 * object per record that halves the parsing speed; the parser's live counter, read at the moment a
 * record is pushed, is the same number at no cost. Skipped malformed records come in order too.
 * With a `sink`, records are handed over synchronously instead of being pushed into the stream:
 * the pre-scan then avoids a promise per record.
 */
class LineNumberingParser extends Parser {
  /** Pass 1: each record goes here, synchronously; nothing enters the stream. */
  sink: ((parsed: Parsed) => void) | undefined;
  /** Pass 2: the records of one input chunk, pushed into the stream as one array. */
  #batch: Parsed[] = [];

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) {
      this.#pushBatch();
      return super.push(null, encoding);
    }
    const parsed: Parsed = Array.isArray(chunk)
      ? { record: chunk as string[], endLine: this.info.lines }
      : (chunk as Parsed);
    if (!this.sink) {
      this.#batch.push(parsed);
      return true;
    }
    try {
      this.sink(parsed);
    } catch (error) {
      this.destroy(error as Error);
    }
    return true;
  }

  // One stream object per chunk instead of per record: object-mode streams cost about a
  // microsecond per object, which is as much as parsing the record.
  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback): void {
    // _transform: the Transform hook, named by Node
    super._transform(chunk, encoding, (error?: Error | null) => {
      this.#pushBatch();
      callback(error);
    });
  }

  #pushBatch(): void {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    super.push(batch);
  }
}

const inputError = (file: string, error: unknown): Ds100Error =>
  error instanceof Ds100Error
    ? error
    : new Ds100Error(
        'INPUT_FILE',
        `${file}: cannot read the input file: ${describeFsError(error as NodeJS.ErrnoException)}`,
        { cause: error },
      );

class Utf8Failure extends Error {
  constructor(readonly offset: number) {
    super(`not UTF-8 at byte offset ${offset}`);
  }
}

/** The file piped into a LineNumberingParser, optionally checked for UTF-8 on the way. */
function openParser(file: string, checkUtf8: boolean): { parser: LineNumberingParser; source: ReadStream } {
  const options: ParseOptions & { readableHighWaterMark: number } = {
    ...PARSE_OPTIONS,
    // Each object in the stream is a whole chunk's batch of records: buffer only a couple.
    readableHighWaterMark: 2,
    on_skip: (error) => void parser.push({ error }),
  };
  const parser: LineNumberingParser = new LineNumberingParser(options);
  // Big reads for the pre-scan's speed; smaller ones for pass 2, whose batches live longer.
  const source = createReadStream(file, { highWaterMark: (checkUtf8 ? 256 : 64) * 1024 });
  if (checkUtf8) {
    const checker = new Utf8Checker();
    const fail = (offset: number): void => {
      if (offset >= 0) source.destroy(new Utf8Failure(offset));
    };
    source.on('data', (chunk) => fail(checker.push(chunk as Buffer)));
    source.on('end', () => fail(checker.end()));
  }
  // pipe() does not forward source errors: hand a missing or unreadable file to the parser.
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);
  return { parser, source };
}

async function rethrow(file: string, error: unknown): Promise<never> {
  if (error instanceof Utf8Failure) throw await describeUtf8Error(file, error.offset);
  throw inputError(file, error);
}

/** Pass 1: hands every record to `onParsed`, synchronously, in file order. */
async function scanFile(file: string, onParsed: (parsed: Parsed) => void): Promise<void> {
  const { parser, source } = openParser(file, true);
  parser.sink = onParsed;
  try {
    parser.resume();
    await finished(parser);
  } catch (error) {
    await rethrow(file, error);
  } finally {
    source.destroy();
    parser.destroy();
  }
}

/** Pass 2: the records again, in batches (one per chunk read), as an async iterable with backpressure. */
async function* readFile(file: string): AsyncGenerator<readonly Parsed[]> {
  const { parser, source } = openParser(file, false);
  try {
    yield* parser as AsyncIterable<readonly Parsed[]>;
  } catch (error) {
    await rethrow(file, error);
  } finally {
    source.destroy();
    parser.destroy();
  }
}

/**
 * Turns csv-parse's line count into the line numbers an editor shows. csv-parse reports the line a
 * record ends on, so a quoted value spanning lines is counted back; and it counts a CR LF inside a
 * quoted value as two lines, so those are subtracted here and from every later record. One tracker
 * per pass, fed every record in order.
 */
export class LineTracker {
  #overcount = 0;

  /** The line a record starts on, from csv-parse's count when the record ended. */
  startOf(record: readonly string[], endLine: number): number {
    let breaks = 0;
    let crlf = 0;
    for (const field of record) {
      for (let at = field.indexOf('\n'); at !== -1; at = field.indexOf('\n', at + 1)) {
        breaks++;
        if (at > 0 && field.charCodeAt(at - 1) === 13) crlf++;
      }
      for (let at = field.indexOf('\r'); at !== -1; at = field.indexOf('\r', at + 1)) {
        if (field.charCodeAt(at + 1) !== 10) breaks++;
      }
    }
    const end = endLine - this.#overcount - crlf;
    this.#overcount += crlf;
    return end - breaks;
  }

  /** The line of a malformed record, from the error csv-parse reported. */
  ofError(error: CsvError): number {
    return typeof error.lines === 'number' ? error.lines - this.#overcount : 0;
  }
}

const fileChanged = (file: string, where: string): Ds100Error =>
  new Ds100Error(
    'INPUT_FILE',
    `${file}: the file changed while it was being read (${where} differs from the first read); ` +
      'run again on a file that is not being edited',
  );

// Spreadsheets export formatted but empty rows as ",,": they are blank lines, not rows to report.
const isBlank = (record: readonly string[]): boolean => record[0] === '' && record.every((field) => field === '');

// csv-parse only knows where it gave up (the end of the file), not where the broken record began,
// and its own message names the wrong line: say what to look for instead.
const malformedProblem = (error: CsvError): RowProblem => ({
  code: 'MALFORMED_CSV',
  message:
    error.code === 'CSV_QUOTE_NOT_CLOSED'
      ? 'a quoted field is never closed: everything from its opening quote to the end of the file was read as ' +
        'one field and could not be used; look for an unbalanced " in the rows before this line'
      : `the line is not valid CSV: ${error.message}`,
});

/** The checks of one parsed record on its own, shared by both passes. */
function checkRecord(record: readonly string[], columns: ColumnMap, names: FieldNames, rules: ValidationRules) {
  const serial = record[columns.serialIndex] ?? '';
  const userId = record[columns.userIdIndex] ?? '';
  const problem = validateRow({ serial, userId, fieldCount: record.length, expectedFieldCount: columns.width }, names);
  const length: SerialLength = problem ? 'expected' : serialLengthOf(serial, rules);
  return { serial, userId, problem, length };
}

// Per-row codes in the pre-scan's compact array: 0 = valid, otherwise 1 + index in CODES.
const CODES: readonly CheckCode[] = [
  'MALFORMED_CSV',
  'WRONG_FIELD_COUNT',
  'MISSING_SERIAL',
  'INVALID_SERIAL',
  'SERIAL_SCIENTIFIC_NOTATION',
  'SERIAL_STRAY_CHARACTERS',
  'SERIAL_LEADING_ZEROS_LOST',
  'MISSING_USER_ID',
  'INVALID_USER_ID',
  'USER_ID_STRAY_CHARACTERS',
  'DUPLICATE_ROW',
  'CONFLICTING_ROW',
  'TOO_MANY_DEVICES',
  'SERIAL_LENGTH',
];
const codeId = (code: CheckCode): number => CODES.indexOf(code) + 1;
// Before resolution a well-formed row's slot holds its serial length instead.
const PENDING: Record<SerialLength, number> = { expected: 0, short: 0xfe, long: 0xfd };
const LENGTH_OF_PENDING = new Map<number, SerialLength>([
  [0, 'expected'],
  [0xfe, 'short'],
  [0xfd, 'long'],
]);

/**
 * Opens a CSV of device/user pairs and checks all of it before returning: the file's kind and
 * encoding, the header, every row on its own and the rules across rows (see cross-row.ts). A file
 * that cannot be used throws a Ds100Error INPUT_FILE; a bad row never throws.
 *
 * Two passes read the file: this pre-scan, which keeps only compact facts (about 13 bytes per row
 * plus 60 per distinct serial and user), and `items`, which streams the rows again with their
 * verdicts. Should the file change in between, `items` throws rather than report wrong verdicts.
 */
export async function openInput(file: string, options: OpenInputOptions = {}): Promise<OpenedInput> {
  const rules = options.rules ?? DEFAULT_RULES;
  const examplesPerCode = options.examplesPerCode ?? 3;
  try {
    await checkFileKind(file);
  } catch (error) {
    throw inputError(file, error);
  }

  let columns: ColumnMap | undefined;
  let names: FieldNames = { serial: '', userId: '' };
  // A row of a serial and a user ID takes at least 47 bytes: sizing for that avoids regrowing.
  const expectedRows = Math.min(Math.ceil((await stat(file)).size / 47) + 16, 1 << 22);
  const facts = new CrossRowFacts(expectedRows);
  let rows = 0;
  let lines = new Int32Array(expectedRows);
  let codes = new Uint8Array(expectedRows);
  let serialIndexes = new Int32Array(expectedRows);
  let userIndexes = new Int32Array(expectedRows);
  const examples = new Map<CheckCode, CheckExample[]>();
  const byErrorCode: Partial<Record<CheckCode, number>> = {};
  const byWarningCode: Partial<Record<CheckCode, number>> = {};
  const note = (counts: Partial<Record<CheckCode, number>>, line: number, { code, message }: RowProblem): void => {
    counts[code] = (counts[code] ?? 0) + 1;
    const list = examples.get(code) ?? [];
    if (list.length < examplesPerCode) examples.set(code, [...list, { line, message }]);
  };
  const addRow = (line: number, code: number, keys?: RowKeys): void => {
    if (rows === lines.length) {
      const length = lines.length * 2;
      lines = grow(lines, length);
      codes = grow(codes, length);
      serialIndexes = grow(serialIndexes, length);
      userIndexes = grow(userIndexes, length);
    }
    lines[rows] = line;
    codes[rows] = code;
    serialIndexes[rows] = keys?.serialIndex ?? -1;
    userIndexes[rows] = keys?.userIndex ?? -1;
    rows++;
  };

  const lines1 = new LineTracker();
  // Pass 1: per-row checks now (their messages need the field text), cross-row facts collected.
  await scanFile(file, (parsed) => {
    if ('error' in parsed) {
      if (!columns) {
        throw new Ds100Error(
          'INPUT_FILE',
          `${file}: line ${lines1.ofError(parsed.error)}: the header line is not valid CSV: ${parsed.error.message}`,
        );
      }
      note(byErrorCode, lines1.ofError(parsed.error), malformedProblem(parsed.error));
      addRow(lines1.ofError(parsed.error), codeId('MALFORMED_CSV'));
      return;
    }
    const { record, endLine } = parsed;
    if (isBlank(record)) return;
    if (!columns) {
      lines1.startOf(record, endLine); // a header could hold a quoted line break too
      columns = mapColumns(record, file);
      names = { serial: record[columns.serialIndex] ?? '', userId: record[columns.userIdIndex] ?? '' };
      return;
    }
    const line = lines1.startOf(record, endLine);
    const { serial, userId, problem, length } = checkRecord(record, columns, names, rules);
    if (problem) {
      note(byErrorCode, line, problem);
      addRow(line, codeId(problem.code));
    } else {
      addRow(line, PENDING[length], facts.add(serial, userId, line));
    }
  });
  if (!columns) {
    throw new Ds100Error('INPUT_FILE', `${file}: the file is empty; expected a header line and rows of pairs`);
  }
  if (rows === 0 && (options.requireRows ?? true)) {
    throw new Ds100Error('INPUT_FILE', `${file}: the file has a header line but no rows of pairs; nothing to do`);
  }

  // Resolution: now that the whole file is known, decide every well-formed row.
  let valid = 0;
  for (let index = 0; index < rows; index++) {
    const pending = LENGTH_OF_PENDING.get(codes[index]!);
    if (pending === undefined) continue; // invalid on its own, counted in pass 1
    const keys = { serialIndex: serialIndexes[index]!, userIndex: userIndexes[index]! };
    const line = lines[index]!;
    const { problem, warning } = facts.verdict(keys, line, pending, rules, names);
    if (problem) note(byErrorCode, line, problem);
    else {
      valid++;
      if (warning) note(byWarningCode, line, warning);
    }
    codes[index] = problem ? codeId(problem.code) : warning ? codeId(warning.code) : 0;
  }
  // Pass 2 needs only the final codes, to notice a file that changed in between.
  const finalCodes = codes;
  const rowCount = rows;
  serialIndexes = new Int32Array(0);
  userIndexes = new Int32Array(0);
  lines = new Int32Array(0);

  const columnMap = columns;
  // Pass 2 works a chunk's worth of rows at a time: one promise per batch, not per row.
  async function* batches(): AsyncGenerator<readonly ReadItem[]> {
    const lines2 = new LineTracker();
    let seenHeader = false;
    let index = 0;
    for await (const batch of readFile(file)) {
      const done: ReadItem[] = [];
      for (const parsed of batch) {
        let item: ReadItem;
        if ('error' in parsed) {
          const line = lines2.ofError(parsed.error);
          const row: InputRow = { line, deviceSerialNumber: '', userId: '', carried: [] };
          item = { kind: 'invalid', row, problem: malformedProblem(parsed.error) };
        } else {
          const { record, endLine } = parsed;
          if (isBlank(record)) continue;
          if (!seenHeader) {
            lines2.startOf(record, endLine);
            seenHeader = true;
            continue;
          }
          const line = lines2.startOf(record, endLine);
          const row: InputRow = {
            line,
            deviceSerialNumber: record[columnMap.serialIndex] ?? '',
            userId: record[columnMap.userIdIndex] ?? '',
            carried: columnMap.carriedIndexes.map((column) => record[column] ?? ''),
          };
          const { serial, userId, problem, length } = checkRecord(record, columnMap, names, rules);
          const keys = problem ? undefined : facts.find(serial, userId);
          if (!problem && !keys) throw fileChanged(file, `line ${line}`);
          const verdict = problem ? { problem } : facts.verdict(keys!, line, length, rules, names);
          item = verdict.problem
            ? { kind: 'invalid', row, problem: verdict.problem }
            : { kind: 'row', row, warning: verdict.warning };
        }
        const code = item.kind === 'invalid' ? codeId(item.problem.code) : item.warning ? codeId(item.warning.code) : 0;
        if (index >= rowCount || finalCodes[index] !== code) throw fileChanged(file, `line ${item.row.line}`);
        index++;
        done.push(item);
      }
      if (done.length > 0) yield done;
    }
    if (index !== rowCount) throw fileChanged(file, 'the end of the file');
  }
  async function* items(): AsyncGenerator<ReadItem> {
    for await (const batch of batches()) yield* batch;
  }

  return {
    columns: columnMap,
    scan: { rows, valid, invalid: rows - valid, byErrorCode, byWarningCode, examples },
    items: items(),
    batches: batches(),
  };
}
