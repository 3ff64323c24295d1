import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { TransformCallback } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Parser, type CsvError, type Options as ParseOptions } from 'csv-parse';
import { describeFsError, Ds100Error } from '../errors.js';
import type { InputRow, InvalidRowCode, WarningCode } from '../types.js';
import { mapColumns, type ColumnMap } from './columns.js';
import {
  CrossRowFacts,
  crossRowVerdict,
  type Claim,
  type CrossRowCode,
  type CrossRowVerdict,
  type VerdictContext,
} from './cross-row.js';
import { checkFileKind, describeUtf8Error, Utf8Checker } from './file-checks.js';
import { allocate, grow } from './key-table.js';
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
function checkRecord(record: readonly string[], columns: ColumnMap, names: FieldNames) {
  const serial = record[columns.serialIndex] ?? '';
  const userId = record[columns.userIdIndex] ?? '';
  const problem = validateRow({ serial, userId, fieldCount: record.length, expectedFieldCount: columns.width }, names);
  return { serial, userId, problem };
}

/**
 * FNV-1a of a well-formed row's serial and user ID. Pass 2 no longer has the fact tables to look a
 * row up in; a row whose fingerprint differs from the pre-scan's is not the row that was checked.
 */
function fingerprint(serial: string, userId: string): number {
  let hash = 0x811c9dc5;
  for (let at = 0; at < serial.length; at++) hash = Math.imul(hash ^ serial.charCodeAt(at), 0x01000193);
  hash = Math.imul(hash ^ 0x2c, 0x01000193); // a comma between the two
  for (let at = 0; at < userId.length; at++) hash = Math.imul(hash ^ userId.charCodeAt(at), 0x01000193);
  return hash >>> 0;
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
const CROSS_ROW_CODES: readonly CrossRowCode[] = [
  'SERIAL_LEADING_ZEROS_LOST',
  'CONFLICTING_ROW',
  'DUPLICATE_ROW',
  'TOO_MANY_DEVICES',
  'SERIAL_LENGTH',
];
/** The final codes a well-formed row can have: valid, or one of the cross-row codes. */
const WELL_FORMED_IDS = new Set([0, ...CROSS_ROW_CODES.map(codeId)]);
// Before resolution a well-formed row's code is PENDING plus how `add` found its serial (a Claim,
// bits 0-1) and its length (bits 2-3); final codes are all below PENDING.
const PENDING = 0x80;
const LENGTHS: readonly SerialLength[] = ['expected', 'short', 'long'];
const LENGTH_BITS: Readonly<Record<SerialLength, number>> = { expected: 0, short: 1 << 2, long: 2 << 2 };

/**
 * The line of each pre-scanned row, for the summary's examples. Rows mostly follow each other line
 * by line, so only the rows where the gap between row index and line changes are kept (after a
 * blank line, a quoted line break, a malformed record): 8 bytes each, none for the rest.
 */
class RowLines {
  // Runs of rows whose line is the row index plus an offset: the first row of each, and the offset.
  #starts = allocate(Int32Array, 64);
  #offsets = allocate(Int32Array, 64);
  #runs = 0;

  /** Call once per row, in order. */
  add(row: number, line: number): void {
    const offset = line - row;
    if (this.#runs > 0 && this.#offsets[this.#runs - 1] === offset) return;
    if (this.#runs === this.#starts.length) {
      this.#starts = grow(this.#starts, this.#runs * 2);
      this.#offsets = grow(this.#offsets, this.#runs * 2);
    }
    this.#starts[this.#runs] = row;
    this.#offsets[this.#runs] = offset;
    this.#runs++;
  }

  lineOf(row: number): number {
    // The last run that starts at or before `row`.
    let low = 0;
    let high = this.#runs - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.#starts[middle]! <= row) low = middle;
      else high = middle - 1;
    }
    return row + (this.#offsets[low] ?? 0);
  }
}

/** What pass 2 keeps of the pre-scan: 9 bytes per row, and the conflicts' other parties. */
interface Verdicts {
  readonly rows: number;
  /** Each row's final code (see CODES). */
  readonly codes: Uint8Array;
  /** What a well-formed row's message needs (see `crossRowVerdict`). */
  readonly details: Int32Array;
  /** Each well-formed row's `fingerprint`. */
  readonly fingerprints: Uint32Array;
  readonly context: VerdictContext;
}

interface Prescan {
  readonly columns: ColumnMap;
  readonly names: FieldNames;
  readonly scan: InputScan;
  readonly verdicts: Verdicts;
}

/**
 * Pass 1 and the resolution: every row checked on its own, then, once the whole file is known,
 * decided across rows. The fact tables are released before it returns, and as a function of its
 * own it leaves nothing else of pass 1 reachable from pass 2's closures: pass 2 keeps the verdicts.
 *
 * Memory at its peak: about 9 bytes per row plus 24 per distinct serial (36 once a serial is longer
 * than 16 digits) and 25 per distinct user; then 9 per row.
 */
async function prescan(file: string, rules: ValidationRules, options: OpenInputOptions): Promise<Prescan> {
  const examplesPerCode = options.examplesPerCode ?? 3;
  let columns: ColumnMap | undefined;
  let names: FieldNames = { serial: '', userId: '' };
  // A row of a serial and a user ID takes at least 47 bytes: sizing for that avoids regrowing.
  const expectedRows = Math.min(Math.ceil((await stat(file)).size / 47) + 16, 1 << 22);
  const facts = new CrossRowFacts(expectedRows);
  let rows = 0;
  let codes = allocate(Uint8Array, expectedRows);
  // A well-formed row's serial index until the resolution, then its detail.
  let details = allocate(Int32Array, expectedRows);
  let fingerprints = allocate(Uint32Array, expectedRows);
  const rowLines = new RowLines();
  const examples = new Map<CheckCode, CheckExample[]>();
  const byErrorCode: Partial<Record<CheckCode, number>> = {};
  const byWarningCode: Partial<Record<CheckCode, number>> = {};
  /** Counts a code; true when the summary wants another example of it. */
  const count = (counts: Partial<Record<CheckCode, number>>, code: CheckCode): boolean => {
    counts[code] = (counts[code] ?? 0) + 1;
    return (examples.get(code)?.length ?? 0) < examplesPerCode;
  };
  const note = (counts: Partial<Record<CheckCode, number>>, line: number, { code, message }: RowProblem): void => {
    if (count(counts, code)) examples.set(code, [...(examples.get(code) ?? []), { line, message }]);
  };
  const addRow = (line: number, code: number, serialIndex = 0, print = 0): void => {
    if (rows === codes.length) {
      const length = codes.length * 2;
      codes = grow(codes, length);
      details = grow(details, length);
      fingerprints = grow(fingerprints, length);
    }
    codes[rows] = code;
    details[rows] = serialIndex;
    fingerprints[rows] = print;
    rowLines.add(rows, line);
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
    const { serial, userId, problem } = checkRecord(record, columns, names);
    if (problem) {
      note(byErrorCode, line, problem);
      addRow(line, codeId(problem.code));
    } else {
      const serialIndex = facts.add(serial, userId, line);
      const pending = PENDING | LENGTH_BITS[serialLengthOf(serial, rules)] | facts.claim;
      addRow(line, pending, serialIndex, fingerprint(serial, userId));
    }
  });
  if (!columns) {
    throw new Ds100Error('INPUT_FILE', `${file}: the file is empty; expected a header line and rows of pairs`);
  }
  if (rows === 0 && (options.requireRows ?? true)) {
    throw new Ds100Error('INPUT_FILE', `${file}: the file has a header line but no rows of pairs; nothing to do`);
  }

  // Resolution: now that the whole file is known, decide every well-formed row.
  const context: VerdictContext = { rules, names, hasLeadingZeros: facts.hasLeadingZeros, parties: facts.parties };
  let valid = 0;
  for (let index = 0; index < rows; index++) {
    const pending = codes[index]!;
    if (pending < PENDING) continue; // invalid on its own, counted in pass 1
    const serialIndex = details[index]!;
    const code = facts.decide(serialIndex, (pending & 3) as Claim, LENGTHS[(pending >>> 2) & 3]!);
    codes[index] = code === undefined ? 0 : codeId(code);
    details[index] = facts.detail;
    const isWarning = code === 'SERIAL_LENGTH' && !rules.strict;
    if (code === undefined || isWarning) valid++;
    if (code === undefined || !count(isWarning ? byWarningCode : byErrorCode, code)) continue;
    // Worded as pass 2 will word it, from the row's code and detail. The user ID matters only for
    // TOO_MANY_DEVICES, whose rows all belong to their serial's first user.
    const serial = facts.serialAt(serialIndex);
    const { problem, warning } = crossRowVerdict(code, facts.detail, serial, facts.firstUserIdOf(serialIndex), context);
    examples.set(code, [
      ...(examples.get(code) ?? []),
      { line: rowLines.lineOf(index), message: (problem ?? warning)!.message },
    ]);
  }
  facts.release();

  return {
    columns,
    names,
    scan: { rows, valid, invalid: rows - valid, byErrorCode, byWarningCode, examples },
    verdicts: { rows, codes, details, fingerprints, context },
  };
}

/**
 * Opens a CSV of device/user pairs and checks all of it before returning: the file's kind and
 * encoding, the header, every row on its own and the rules across rows (see cross-row.ts). A file
 * that cannot be used throws a Ds100Error INPUT_FILE; a bad row never throws.
 *
 * Two passes read the file: this pre-scan, which keeps only compact facts (at its peak about 9
 * bytes per row plus 24 per distinct serial and 25 per distinct user, then 9 bytes per row), and
 * `items`, which streams the rows again with their verdicts. Should the file change in between,
 * `items` throws rather than report wrong verdicts.
 */
export async function openInput(file: string, options: OpenInputOptions = {}): Promise<OpenedInput> {
  const rules = options.rules ?? DEFAULT_RULES;
  try {
    await checkFileKind(file);
  } catch (error) {
    throw inputError(file, error);
  }
  const { columns, names, scan, verdicts } = await prescan(file, rules, options);
  const { codes, details, fingerprints, context } = verdicts;

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
            deviceSerialNumber: record[columns.serialIndex] ?? '',
            userId: record[columns.userIdIndex] ?? '',
            carried: columns.carriedIndexes.map((column) => record[column] ?? ''),
          };
          const { serial, userId, problem } = checkRecord(record, columns, names);
          let verdict: CrossRowVerdict = { problem };
          if (!problem) {
            // The pre-scan's verdict holds only for the same serial and user at this place.
            const id = codes[index] ?? -1;
            if (!WELL_FORMED_IDS.has(id) || fingerprints[index] !== fingerprint(serial, userId)) {
              throw fileChanged(file, `line ${line}`);
            }
            verdict = crossRowVerdict(
              CODES[id - 1] as CrossRowCode | undefined,
              details[index]!,
              serial,
              userId,
              context,
            );
          }
          item = verdict.problem
            ? { kind: 'invalid', row, problem: verdict.problem }
            : { kind: 'row', row, warning: verdict.warning };
        }
        const code = item.kind === 'invalid' ? codeId(item.problem.code) : item.warning ? codeId(item.warning.code) : 0;
        if (index >= verdicts.rows || codes[index] !== code) throw fileChanged(file, `line ${item.row.line}`);
        index++;
        done.push(item);
      }
      if (done.length > 0) yield done;
    }
    if (index !== verdicts.rows) throw fileChanged(file, 'the end of the file');
  }
  async function* items(): AsyncGenerator<ReadItem> {
    for await (const batch of batches()) yield* batch;
  }

  return { columns, scan, items: items(), batches: batches() };
}
