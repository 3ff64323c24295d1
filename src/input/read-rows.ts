import { createReadStream } from 'node:fs';
import { parse, type CsvError, type Info } from 'csv-parse';
import { Ds100Error } from '../errors.js';
import type { InputRow } from '../types.js';
import { mapColumns, type ColumnMap } from './columns.js';
import { DuplicateTracker, validateRow, type RowProblem } from './validate-row.js';

/** A row ready to send, or one that must not be sent and why. */
export type ReadItem =
  | { readonly kind: 'row'; readonly row: InputRow }
  | { readonly kind: 'invalid'; readonly row: InputRow; readonly problem: RowProblem };

export interface OpenedInput {
  readonly columns: ColumnMap;
  /** Data rows in file order; iterate once. */
  readonly items: AsyncIterable<ReadItem>;
}

interface ParsedRecord {
  readonly record: string[];
  readonly info: Info;
}

const describeFsError = (error: NodeJS.ErrnoException): string =>
  error.code === 'ENOENT'
    ? 'no such file'
    : error.code === 'EISDIR'
      ? 'it is a directory'
      : error.code === 'EACCES'
        ? 'permission denied'
        : error.message;

const inputError = (file: string, error: unknown): Ds100Error =>
  error instanceof Ds100Error
    ? error
    : new Ds100Error(
        'INPUT_FILE',
        `${file}: cannot read the input file: ${describeFsError(error as NodeJS.ErrnoException)}`,
        { cause: error },
      );

const countOf = (text: string, pattern: string | RegExp): number => text.split(pattern).length - 1;

/**
 * Tracks where each record starts. csv-parse reports the line a record ends on, and inside a quoted
 * field it counts every CR and every LF as a line break, so a CRLF there counts twice and its count
 * drifts by one for each: both are corrected here, so that `line` is what an editor shows (which
 * also treats a lone CR as a line break).
 */
class LineCounter {
  #drift = 0;

  startOf(record: readonly string[], info: Info): number {
    let newlines = 0;
    for (const field of record) {
      newlines += countOf(field, /\r\n|\r|\n/);
      this.#drift += countOf(field, '\r\n');
    }
    return info.lines - this.#drift - newlines;
  }
}

// csv-parse only knows where it gave up, not where the broken record began, so say what to look for.
const malformedMessage = (error: CsvError, line: number): string =>
  error.code === 'CSV_QUOTE_NOT_CLOSED'
    ? `a quoted field is never closed: everything from its opening quote to line ${line} was read as one field ` +
      'and could not be used; look for an unbalanced " in the rows before'
    : `not valid CSV: ${error.message}`;

/**
 * Opens a CSV of device/user pairs: reads and checks the header at once (so a bad file fails before
 * anything is sent), then streams data rows one at a time with constant memory.
 */
export async function openInput(file: string): Promise<OpenedInput> {
  // Records csv-parse had to skip (broken quoting) are kept and reported in order, never dropped.
  const skipped: CsvError[] = [];
  const source = createReadStream(file);
  const parser = source.pipe(
    parse({
      bom: true,
      info: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (error) => {
        if (error) skipped.push(error);
        return undefined;
      },
    }),
  );
  // pipe() does not forward source errors: hand a missing or unreadable file to the parser.
  source.on('error', (error) => parser.destroy(error));
  const records = parser[Symbol.asyncIterator]() as AsyncIterator<ParsedRecord>;

  let header: IteratorResult<ParsedRecord>;
  try {
    header = await records.next();
  } catch (error) {
    throw inputError(file, error);
  }
  if (header.done) {
    throw new Ds100Error('INPUT_FILE', `${file}: the file is empty; expected a header line and rows of pairs`);
  }
  const columns = mapColumns(header.value.record, file);

  const skippedItems = function* (): Generator<ReadItem> {
    for (const error of skipped.splice(0)) {
      const line = typeof error.lines === 'number' ? error.lines : 0;
      const row: InputRow = { line, deviceSerialNumber: '', userId: '', carried: [] };
      yield { kind: 'invalid', row, problem: { code: 'MALFORMED_CSV', message: malformedMessage(error, line) } };
    }
  };

  async function* items(): AsyncGenerator<ReadItem> {
    const duplicates = new DuplicateTracker();
    const lines = new LineCounter();
    try {
      for (;;) {
        const next = await records.next();
        yield* skippedItems();
        if (next.done) return;
        const { record, info } = next.value;
        const line = lines.startOf(record, info);
        const row: InputRow = {
          line,
          deviceSerialNumber: record[columns.serialIndex] ?? '',
          userId: record[columns.userIdIndex] ?? '',
          carried: columns.carriedIndexes.map((index) => record[index] ?? ''),
        };
        const problem = validateRow(
          {
            serial: row.deviceSerialNumber,
            userId: row.userId,
            fieldCount: record.length,
            expectedFieldCount: columns.width,
            line,
          },
          duplicates,
        );
        yield problem ? { kind: 'invalid', row, problem } : { kind: 'row', row };
      }
    } catch (error) {
      throw inputError(file, error);
    } finally {
      source.destroy();
      parser.destroy();
    }
  }

  return { columns, items: items() };
}
