import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { parse, type CsvError } from 'csv-parse';
import { cannotRead, describeUtf8Error, Utf8Checker } from './file-checks.js';
import type { Delimiter, InputEncoding } from './input-format.js';

/**
 * A record of the file, or a malformed one that csv-parse skipped, with the line it starts on as an
 * editor shows it. Blank records (every field empty) are not items.
 */
export type CsvItem =
  { readonly record: string[]; readonly line: number } | { readonly error: CsvError; readonly line: number };

export interface ReadCsvOptions {
  /** The file's name, for messages. */
  readonly file: string;
  /** Check that the bytes are UTF-8 before they are parsed (with `encoding` utf-8 only). Default false. */
  readonly checkUtf8?: boolean | undefined;
  /** The separator between values. Default `,`. */
  readonly delimiter?: Delimiter | undefined;
  /** The file's encoding; anything but utf-8 is decoded to UTF-8 before it is parsed. Default utf-8. */
  readonly encoding?: InputEncoding | undefined;
  /** Told every byte of the file, in order, as it is read (e.g. to hash it). */
  readonly onBytes?: ((bytes: Buffer) => void) | undefined;
}

// Relaxed, because a row with a stray quote or a missing field is reported as a row, not as a file
// that cannot be read. Empty lines are parsed (as a record of one empty field) so that every line of
// the file passes through here and can be counted.
const PARSE_OPTIONS = {
  bom: true,
  // Every line ending everywhere, CR LF first: csv-parse otherwise keeps to the first one it meets, and
  // in a file of mixed endings (rows appended by another tool) reads the others as part of a value.
  record_delimiter: ['\r\n', '\n', '\r'] as string[],
  relax_column_count: true,
  relax_quotes: true,
  skip_empty_lines: false,
  skip_records_with_error: true,
} as const;

// As file streams read: big enough that reading costs little next to parsing.
const READ_SIZE = 64 * 1024;

/**
 * The file's bytes from the start, by positional reads. Not a file stream: destroying one closes
 * its file, and the file must stay open for the second pass (and be read from the start again).
 */
async function* bytesOf(handle: FileHandle, onBytes?: (bytes: Buffer) => void): AsyncGenerator<Buffer> {
  for (let position = 0; ;) {
    const { buffer, bytesRead } = await handle.read(Buffer.allocUnsafe(READ_SIZE), 0, READ_SIZE, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    const bytes = buffer.subarray(0, bytesRead);
    onBytes?.(bytes);
    yield bytes;
  }
}

/** Line breaks inside a record's fields as an editor counts them: CR LF, LF and a lone CR one each. */
export function lineBreaksIn(record: readonly string[]): number {
  let breaks = 0;
  for (const field of record) {
    for (let at = field.indexOf('\n'); at !== -1; at = field.indexOf('\n', at + 1)) breaks++;
    for (let at = field.indexOf('\r'); at !== -1; at = field.indexOf('\r', at + 1)) {
      if (field.charCodeAt(at + 1) !== 10) breaks++;
    }
  }
  return breaks;
}

// Spreadsheets export formatted but empty rows as ",,": they are blank lines, not rows to report.
const isBlank = (record: readonly string[]): boolean => record.every((field) => field === '');

class Utf8Failure extends Error {
  constructor(readonly offset: number) {
    super(`not UTF-8 at byte offset ${offset}`);
  }
}

/** Passes the file's bytes on, and fails at the first one that is not UTF-8, before it is parsed. */
async function* checkedUtf8(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const checker = new Utf8Checker();
  for await (const chunk of chunks) {
    const offset = checker.push(chunk);
    if (offset >= 0) throw new Utf8Failure(offset);
    yield chunk;
  }
  const offset = checker.end();
  if (offset >= 0) throw new Utf8Failure(offset);
}

/**
 * The file's text in `encoding`, as UTF-8 for csv-parse. A character cut in two by a chunk boundary
 * is held until the next chunk; a UTF-16 byte order mark is dropped.
 */
function decodedFrom(encoding: InputEncoding): (chunks: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* decoded(chunks) {
    const decoder = new TextDecoder(encoding);
    for await (const chunk of chunks) {
      const text = decoder.decode(chunk, { stream: true });
      if (text !== '') yield Buffer.from(text, 'utf8');
    }
    const rest = decoder.decode();
    if (rest !== '') yield Buffer.from(rest, 'utf8');
  };
}

/**
 * The file's records in file order, read with csv-parse from the start of an open file (which stays
 * open), each with the line an editor shows it on. Records that csv-parse cannot parse come in
 * their place as `error` items. A file that cannot be read, or is not UTF-8 when `checkUtf8` is set,
 * throws a Ds100Error INPUT_FILE.
 *
 * Lines are counted here from the records themselves, so that csv-parse need not build its `info`
 * object for every record: a record takes one line plus the line breaks inside its quoted fields.
 */
export async function* readCsv(
  handle: FileHandle,
  { file, checkUtf8 = false, delimiter = ',', encoding = 'utf-8', onBytes }: ReadCsvOptions,
): AsyncGenerator<CsvItem> {
  // Malformed records reach only `on_skip`, not the stream: each waits here, with the number of
  // records csv-parse had pushed before it, until the reading below has passed them.
  const skipped: Array<{ readonly error: CsvError; readonly after: number }> = [];
  const parser = parse({
    ...PARSE_OPTIONS,
    delimiter,
    on_skip: (error) => {
      if (error) skipped.push({ error, after: parser.info.records });
    },
  });
  // A failure anywhere destroys the parser with it, so it surfaces in the loop below.
  const source = bytesOf(handle, onBytes);
  const piping =
    encoding !== 'utf-8'
      ? pipeline(source, decodedFrom(encoding), parser)
      : checkUtf8
        ? pipeline(source, checkedUtf8, parser)
        : pipeline(source, parser);
  piping.catch(() => undefined);

  let line = 1; // where the next record starts
  // Not csv-parse's line in the error: that is where it gave up (the end of the file, a CR LF inside
  // quotes counted as two), not where the record starts. With these options only a quote never
  // closed is malformed, and it runs to the end of the file: no record follows it.
  const malformed = ({ error }: { readonly error: CsvError }): CsvItem => ({ error, line });
  let records = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      records++;
      while (skipped[0] !== undefined && skipped[0].after < records) yield malformed(skipped.shift()!);
      const start = line;
      line = start + 1 + lineBreaksIn(record);
      if (!isBlank(record)) yield { record, line: start };
    }
    for (const item of skipped.splice(0)) yield malformed(item);
  } catch (error) {
    throw error instanceof Utf8Failure ? await describeUtf8Error(handle, file, error.offset) : cannotRead(file, error);
  } finally {
    parser.destroy();
  }
}
