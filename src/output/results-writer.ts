import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { stringify, type Stringifier } from 'csv-stringify';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { describeWriteError, Ds100Error } from '../errors.js';
import type { RowResult } from '../types.js';
import { resultHeader, resultRecord } from './result-columns.js';

export { RESULT_COLUMNS, resultHeader } from './result-columns.js';

/** Options of `ResultsWriter.open`. */
export interface ResultsWriterOptions {
  /**
   * Called once, at the first write the file (or stdout) refused, a reader of stdout going away
   * excepted: so that a run stops at once, not when its next row is written.
   */
  readonly onError?: ((error: Ds100Error) => void) | undefined;
  /**
   * Start a CSV file with a UTF-8 byte order mark, so that Excel reads `Zürich` as such and not as
   * `ZÃ¼rich`. Default true. Never on stdout: a pipe goes to a program (`cut`, `awk`, `grep ^140`),
   * which would take the mark for part of the first column's name. No effect on `.xlsx`.
   */
  readonly bom?: boolean | undefined;
  /**
   * A last line for a CSV, made from the SHA-256 (hex) of every byte written before it: a plan's
   * fingerprint (see plan-file.ts). Written by `close`; no effect on `.xlsx`.
   */
  readonly closingLine?: ((sha256: string) => string) | undefined;
}

/**
 * What a CSV file written by CsvResultsWriter holds, for files other than the results (the undo
 * file): its header, each row's record, and how messages name it.
 */
export interface CsvLayout {
  readonly header: readonly string[];
  readonly record: (result: RowResult) => readonly unknown[];
  /** E.g. "the undo file", followed by the path in messages. */
  readonly what: string;
  /**
   * Append to the file, whose header is there already: no header and no BOM are written, only a
   * line break first when the file's last line lacks one.
   */
  readonly append?: { readonly needsLineBreak: boolean } | undefined;
  /** Whether a row goes into the file; one that does not is passed over (`write` returns undefined). Default: all. */
  readonly keep?: ((result: RowResult) => boolean) | undefined;
}

/** The mark Excel looks for to read a CSV file as UTF-8 rather than the machine's ANSI code page. */
const UTF8_BOM = '\uFEFF';

/**
 * Where a run's or validate's rows go as they finish: a CSV file, stdout (`-`), or an Excel workbook
 * (a path ending in `.xlsx`, any case). The same columns and records in every case (result-columns.ts).
 */
export interface ResultsWriter {
  /** The first write that failed, if any (a reader of stdout going away is not a failure). */
  readonly failure: Ds100Error | undefined;
  /** Data rows the file holds in full (undefined for stdout, whose bytes are not counted). */
  readonly rowsWritten: number | undefined;
  /** After a failed write: the rows handed over that the file does not hold in full. */
  readonly unwritten: readonly RowResult[];
  /** Undefined when the row was taken at once, else a promise that resolves when there is room. */
  write(result: RowResult): Promise<void> | undefined;
  /** Ends the file once every row is in it; throws the first failed write, if any. */
  close(): Promise<void>;
}

export const ResultsWriter = {
  /**
   * Opens `path` (`-`: stdout) and writes the header. Throws a Ds100Error OUTPUT_FILE naming the
   * file when it cannot be created (or, for a CSV, cannot take even the header).
   */
  async open(
    path: string,
    carriedNames: readonly string[],
    options: ResultsWriterOptions = {},
  ): Promise<ResultsWriter> {
    if (!isXlsxPath(path)) return CsvResultsWriter.open(path, carriedNames, options);
    // Loaded only for a workbook: exceljs and its ZIP libraries add a noticeable pause to every start.
    const { XlsxResultsWriter } = await import('./xlsx-writer.js');
    return XlsxResultsWriter.open(path, carriedNames, options);
  },
};

/** `--out` names a workbook when it ends in `.xlsx`, in any case (`Results.XLSX` from a Windows share too). */
export const isXlsxPath = (path: string): boolean => path.toLowerCase().endsWith('.xlsx');

/**
 * Writes results as rows finish, through csv-stringify into the file (or stdout for `-`), so that a
 * crash loses only the rows in flight. Cells a spreadsheet would run as a formula get a leading `'`
 * (`escape_formulas`). A closed stdout (`| head`) stops the writing, not the run. A failed write (a
 * full disk, an I/O error) is kept: later writes and `close` throw it as a Ds100Error OUTPUT_FILE
 * whose message names the file and the reason in words.
 */
export class CsvResultsWriter implements ResultsWriter {
  readonly #csv: Stringifier;
  readonly #destination: Writable;
  readonly #isStdout: boolean;
  readonly #record: CsvLayout['record'];
  readonly #keep: CsvLayout['keep'];
  /** "the results file x.csv", for messages. */
  readonly #name: string;
  /** Set once the header is in: a failure of the header itself is thrown by `open`. */
  #onError: ResultsWriterOptions['onError'];
  /** Set when stdout's reader went away: later rows are dropped, the run goes on. */
  #isGone = false;
  #error: Ds100Error | undefined;
  /**
   * The rows handed over and not yet surely in the file, oldest first, and where each of those
   * csv-stringify has turned into text ends (a byte offset): it emits one chunk per record, and the
   * file stream counts the bytes it wrote, so when a write fails the rows the file lacks are known.
   * Both are bounded by what the streams buffer; stdout keeps neither.
   */
  readonly #unconfirmed: RowResult[] = [];
  readonly #ends: number[] = [];
  #bytesOut = 0;
  #rowsWritten = 0;
  readonly #closingLine: ResultsWriterOptions['closingLine'];
  readonly #digest: Hash | undefined;

  private constructor(
    destination: Writable,
    isStdout: boolean,
    path: string,
    layout: CsvLayout,
    options: ResultsWriterOptions,
  ) {
    this.#destination = destination;
    this.#closingLine = options.closingLine;
    this.#digest = options.closingLine && createHash('sha256');
    this.#isStdout = isStdout;
    this.#record = layout.record;
    this.#keep = layout.keep;
    this.#name = isStdout ? 'the results to stdout' : `${layout.what} ${path}`;
    this.#csv = stringify({ escape_formulas: true });
    destination.on('error', (error: NodeJS.ErrnoException) => this.#fail(error));
  }

  static async open(
    path: string,
    carriedNames: readonly string[],
    options: ResultsWriterOptions = {},
  ): Promise<CsvResultsWriter> {
    const layout = { header: resultHeader(carriedNames), record: resultRecord, what: 'the results file' };
    return CsvResultsWriter.openLayout(path, layout, options);
  }

  /** `open` for a CSV file of another layout (see CsvLayout); `-` is stdout. */
  static async openLayout(
    path: string,
    layout: CsvLayout,
    options: ResultsWriterOptions = {},
  ): Promise<CsvResultsWriter> {
    const isStdout = path === '-';
    const destination = isStdout ? process.stdout : createWriteStream(path, { flags: layout.append ? 'a' : 'w' });
    if (!isStdout) {
      try {
        await once(destination, 'open');
      } catch (error) {
        throw new Ds100Error('OUTPUT_FILE', `cannot write ${layout.what} ${path}: ${describeWriteError(error)}`, {
          cause: error,
        });
      }
    }
    const writer = new CsvResultsWriter(destination, isStdout, path, layout, options);
    const head = layout.append
      ? layout.append.needsLineBreak
        ? '\n'
        : ''
      : (!isStdout && (options.bom ?? true) ? UTF8_BOM : '') +
        stringifySync([layout.header], { escape_formulas: true });
    await writer.#writeHeader(head);
    writer.#onError = options.onError;
    return writer;
  }

  #fail(error: NodeJS.ErrnoException): void {
    if (this.#isStdout && error.code === 'EPIPE') this.#isGone = true;
    else if (!this.#error) {
      this.#settle();
      this.#error = new Ds100Error('OUTPUT_FILE', `cannot write ${this.#name}: ${describeWriteError(error)}`, {
        cause: error,
      });
      this.#onError?.(this.#error);
    }
    // Nothing takes the lines any more: let what is queued drain into nothing, so no write waits forever.
    this.#csv.unpipe(this.#destination);
    this.#csv.resume();
  }

  /**
   * The header goes straight to the file and is waited for, so that a file that cannot take even
   * one line (a full disk, /dev/full) fails here, before anything is sent; rows follow through
   * csv-stringify.
   */
  async #writeHeader(text: string): Promise<void> {
    this.#bytesOut = Buffer.byteLength(text);
    this.#digest?.update(text);
    // Appending to a file that ends in a line break writes nothing first.
    const error =
      text === ''
        ? undefined
        : await new Promise<Error | null | undefined>((resolve) => this.#destination.write(text, resolve));
    if (error) this.#fail(error);
    if (this.#error) {
      if (!this.#isStdout) this.#destination.destroy();
      throw this.#error;
    }
    // stdout is never ended: the summary may follow on it. A closing line is written after the rows.
    this.#csv.pipe(this.#destination, { end: !this.#isStdout && !this.#closingLine });
    if (this.#digest) this.#csv.on('data', (chunk: Buffer) => this.#digest?.update(chunk));
    if (!this.#isStdout) {
      this.#csv.on('data', (chunk: Buffer) => {
        if (this.#error) return;
        this.#bytesOut += chunk.length;
        this.#ends.push(this.#bytesOut);
        this.#settle();
      });
    }
  }

  /** Counts the rows the file now holds in full; stdout keeps no count. */
  #settle(): void {
    if (this.#isStdout) return;
    const written = (this.#destination as Writable & { bytesWritten: number }).bytesWritten;
    while (this.#ends.length > 0 && this.#ends[0]! <= written) {
      this.#ends.shift();
      this.#unconfirmed.shift();
      this.#rowsWritten++;
    }
  }

  /** The first write that failed, if any (a reader of stdout going away is not a failure). */
  get failure(): Ds100Error | undefined {
    return this.#error;
  }

  /** Data rows the file holds in full (undefined for stdout, whose bytes are not counted). */
  get rowsWritten(): number | undefined {
    if (this.#isStdout) return undefined;
    this.#settle();
    return this.#rowsWritten;
  }

  /** After a failed write: the rows handed over that the file does not hold in full (none for stdout). */
  get unwritten(): readonly RowResult[] {
    this.#settle();
    return this.#unconfirmed;
  }

  /** Undefined when the line was taken at once, else a promise that resolves when there is room. */
  write(result: RowResult): Promise<void> | undefined {
    if (this.#keep && !this.#keep(result)) return undefined;
    if (this.#error) throw this.#error;
    if (this.#isGone) return undefined;
    if (!this.#isStdout) this.#unconfirmed.push(result);
    if (this.#csv.write(this.#record(result))) return undefined;
    return this.#drained();
  }

  /** Once every row went through csv-stringify (and so into the digest): the last line, then the end. */
  async #writeClosingLine(closingLine: (sha256: string) => string, digest: Hash): Promise<void> {
    await finished(this.#csv).catch(() => undefined);
    if (!this.#error && !this.#isGone) {
      const text = closingLine(digest.digest('hex'));
      const error = await new Promise<Error | null | undefined>((resolve) => this.#destination.write(text, resolve));
      if (error) this.#fail(error);
    }
    if (!this.#isStdout) this.#destination.end();
  }

  async #drained(): Promise<void> {
    await once(this.#csv, 'drain');
    if (this.#error) throw this.#error;
  }

  /** Ends the file once every row is in it; throws the first failed write, if any. */
  async close(): Promise<void> {
    this.#csv.end();
    if (this.#closingLine && this.#digest) await this.#writeClosingLine(this.#closingLine, this.#digest);
    if (this.#isStdout) {
      await finished(this.#csv);
      // What stdout still buffers goes out before the summary is printed.
      if (!this.#isGone && !this.#error && this.#destination.writableNeedDrain) {
        await once(this.#destination, 'drain');
      }
    } else if (!this.#error) {
      try {
        await finished(this.#destination);
      } catch (error) {
        this.#fail(error as NodeJS.ErrnoException);
      }
    }
    if (this.#error) throw this.#error;
  }
}
