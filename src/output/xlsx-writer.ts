import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import ExcelJS from 'exceljs';
import { describeWriteError, Ds100Error } from '../errors.js';
import type { RowResult } from '../types.js';
import { resultHeader, resultRecord } from './result-columns.js';
import type { ResultsWriter, ResultsWriterOptions } from './results-writer.js';

/**
 * Writes results into an Excel workbook with exceljs's streaming writer: one sheet, the same header
 * and records as the CSV, every cell a string (a serial keeps its leading zeros, `=1+1` stays text:
 * a string cell has no formula, so nothing needs escaping), the header row frozen and filtered.
 * Each row is committed as it finishes, so memory stays flat; shared strings are off for the same
 * reason (exceljs keeps every distinct string of a shared-strings table in memory).
 *
 * A workbook is a ZIP whose directory is written last: until `close` the file is not readable, and
 * a run that crashes or a disk that fills leaves no rows that a spreadsheet can open. So
 * `rowsWritten` is 0 until the workbook is closed, and after a failed write every row handed over is
 * lost; they are not kept in memory to be listed (`unwritten` is empty). The CSV is the format that
 * keeps what was written.
 */
export class XlsxResultsWriter implements ResultsWriter {
  readonly #file: WriteStream;
  readonly #workbook: ExcelJS.stream.xlsx.WorkbookWriter;
  readonly #sheet: ExcelJS.Worksheet;
  readonly #columns: number;
  /** "the results file x.xlsx", for messages. */
  readonly #name: string;
  readonly #onError: ResultsWriterOptions['onError'];
  /** Aborted at the first failure, so that nothing waits for a stream that will never move again. */
  readonly #failed = new AbortController();
  #error: Ds100Error | undefined;
  #rows = 0;
  #isClosed = false;

  private constructor(file: WriteStream, path: string, header: readonly string[], options: ResultsWriterOptions) {
    this.#file = file;
    this.#name = `the results file ${path}`;
    this.#onError = options.onError;
    this.#columns = header.length;
    this.#workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
      stream: file,
      useSharedStrings: false,
      useStyles: false,
    });
    // The ZIP archiver is not typed by exceljs; its errors (a refused write it saw first) are ours too.
    (this.#workbook as unknown as { zip: NodeJS.EventEmitter }).zip.on('error', (error: Error) => this.#fail(error));
    file.on('error', (error: Error) => this.#fail(error));
    this.#sheet = this.#workbook.addWorksheet('results', { views: [{ state: 'frozen', ySplit: 1 }] });
    this.#sheet.addRow([...header]).commit();
  }

  static async open(
    path: string,
    carriedNames: readonly string[],
    options: ResultsWriterOptions = {},
  ): Promise<XlsxResultsWriter> {
    const file = createWriteStream(path);
    try {
      await once(file, 'open');
    } catch (error) {
      throw new Ds100Error('OUTPUT_FILE', `cannot write the results file ${path}: ${describeWriteError(error)}`, {
        cause: error,
      });
    }
    return new XlsxResultsWriter(file, path, resultHeader(carriedNames), options);
  }

  #fail(error: NodeJS.ErrnoException): void {
    if (this.#error) return;
    this.#error = new Ds100Error('OUTPUT_FILE', `cannot write ${this.#name}: ${describeWriteError(error)}`, {
      cause: error,
    });
    this.#failed.abort(this.#error);
    this.#onError?.(this.#error);
  }

  get failure(): Ds100Error | undefined {
    return this.#error;
  }

  /** 0 until the workbook is closed: before that, the file is not a workbook a spreadsheet can open. */
  get rowsWritten(): number {
    return this.#isClosed ? this.#rows : 0;
  }

  get unwritten(): readonly RowResult[] {
    return [];
  }

  write(result: RowResult): Promise<void> | undefined {
    if (this.#error) throw this.#error;
    this.#sheet.addRow(resultRecord(result)).commit();
    this.#rows++;
    // exceljs buffers in memory what the file has not taken yet: wait for the file, as the CSV does.
    return this.#file.writableNeedDrain ? this.#drained() : undefined;
  }

  async #drained(): Promise<void> {
    try {
      await once(this.#file, 'drain', { signal: this.#failed.signal });
    } catch (error) {
      throw this.#error ?? error;
    }
  }

  async close(): Promise<void> {
    if (!this.#error) {
      // Set last, when every row's count is known: the filter covers the header and every row.
      this.#sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: this.#rows + 1, column: this.#columns } };
      const failed = new Promise<never>((_, reject) => {
        this.#failed.signal.addEventListener('abort', () => reject(this.#error), { once: true });
      });
      try {
        // The archiver stops without a word when the file refuses a write: the failure ends the wait.
        await Promise.race([this.#workbook.commit(), failed]);
        this.#isClosed = true;
      } catch (error) {
        this.#fail(error as NodeJS.ErrnoException);
      }
    }
    if (this.#error) {
      this.#file.destroy();
      throw this.#error;
    }
  }
}
