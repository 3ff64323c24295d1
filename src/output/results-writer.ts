import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { stringify, type Stringifier } from 'csv-stringify';
import { Ds100Error } from '../errors.js';
import type { RowResult } from '../types.js';

/** The results file's fixed columns, in order: the public contract. Carried input columns follow. */
export const RESULT_COLUMNS = [
  'line',
  'deviceSerialNumber',
  'userId',
  'outcome',
  'tokenSerialNumber',
  'tokenStatus',
  'tokenStatusChangedAt',
  'tokenStatusChangedBy',
  'httpStatus',
  'errorCode',
  'errorMessage',
  'attempts',
] as const;

const fixedNames = new Set(RESULT_COLUMNS.map((name) => name.toLowerCase()));

/** A carried column named like a fixed one (say "outcome") is written as "input.outcome". */
export const resultHeader = (carriedNames: readonly string[]): string[] => [
  ...RESULT_COLUMNS,
  ...carriedNames.map((name) => (fixedNames.has(name.toLowerCase()) ? `input.${name}` : name)),
];

export const resultRecord = (result: RowResult): string[] => [
  String(result.line),
  result.deviceSerialNumber,
  result.userId,
  result.outcome,
  result.token?.tokenSerialNumber ?? '',
  result.token?.tokenStatus ?? '',
  result.token?.tokenStatusChangedAt ?? '',
  result.token?.tokenStatusChangedBy ?? '',
  result.httpStatus === undefined ? '' : String(result.httpStatus),
  result.errorCode ?? '',
  result.errorMessage ?? '',
  String(result.attempts),
  ...result.carried,
];

/**
 * Writes results as rows finish, through csv-stringify into the file (or stdout for `-`), so that a
 * crash loses only the rows in flight. Cells a spreadsheet would run as a formula get a leading `'`
 * (`escape_formulas`). A closed stdout (`| head`) stops the writing, not the run.
 */
export class ResultsWriter {
  readonly #csv: Stringifier;
  readonly #destination: Writable;
  readonly #isStdout: boolean;
  /** Set when stdout's reader went away: later rows are dropped, the run goes on. */
  #isGone = false;
  #error: Error | undefined;

  private constructor(destination: Writable, isStdout: boolean) {
    this.#destination = destination;
    this.#isStdout = isStdout;
    this.#csv = stringify({ escape_formulas: true });
    // stdout is never ended: the summary may follow on it.
    this.#csv.pipe(destination, { end: !isStdout });
    destination.on('error', (error: NodeJS.ErrnoException) => {
      if (isStdout && error.code === 'EPIPE') this.#isGone = true;
      else this.#error ??= error;
      // Nothing takes the lines any more: let what is queued drain into nothing, so no write waits forever.
      this.#csv.unpipe(destination);
      this.#csv.resume();
    });
  }

  static async open(path: string, carriedNames: readonly string[]): Promise<ResultsWriter> {
    const isStdout = path === '-';
    const destination = isStdout ? process.stdout : createWriteStream(path);
    if (!isStdout) {
      try {
        await once(destination, 'open');
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        throw new Ds100Error('OUTPUT_FILE', `${path}: cannot write the results file: ${reason}`, { cause: error });
      }
    }
    const writer = new ResultsWriter(destination, isStdout);
    await writer.#write(resultHeader(carriedNames));
    return writer;
  }

  /** Undefined when the line was taken at once, else a promise that resolves when there is room. */
  write(result: RowResult): Promise<void> | undefined {
    return this.#write(resultRecord(result));
  }

  #write(record: readonly string[]): Promise<void> | undefined {
    if (this.#error) throw this.#error;
    if (this.#isGone || this.#csv.write(record)) return undefined;
    return this.#drained();
  }

  async #drained(): Promise<void> {
    await once(this.#csv, 'drain');
    if (this.#error) throw this.#error;
  }

  async close(): Promise<void> {
    this.#csv.end();
    if (this.#isStdout) {
      await finished(this.#csv);
      // What stdout still buffers goes out before the summary is printed.
      if (!this.#isGone && this.#destination.writableNeedDrain) await once(this.#destination, 'drain');
      return;
    }
    if (this.#error) throw this.#error;
    await finished(this.#destination);
  }
}
