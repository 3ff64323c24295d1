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

/** How long finished rows may wait to be written together. */
const BATCH_MS = 20;
/** Room for a batch, so that the pipe never pauses while the file is held back. */
const FILE_BUFFER_BYTES = 1024 * 1024;

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
 * Writes results as rows finish, through a stream with backpressure, so a crash loses only the rows
 * in flight. `-` writes to stdout; a closed stdout (`| head`) stops the writing, not the run.
 */
export class ResultsWriter {
  readonly #csv: Stringifier;
  readonly #destination: Writable;
  readonly #isStdout: boolean;
  #isCorked = false;

  private constructor(csv: Stringifier, destination: Writable, isStdout: boolean) {
    this.#csv = csv;
    this.#destination = destination;
    this.#isStdout = isStdout;
  }

  static async open(path: string, carriedNames: readonly string[]): Promise<ResultsWriter> {
    const isStdout = path === '-';
    // Cells starting with = + - @ tab or CR get a leading ' so a spreadsheet shows them, not runs them.
    const csv = stringify({ header: true, columns: resultHeader(carriedNames), escape_formulas: true });
    const destination = isStdout ? process.stdout : createWriteStream(path, { highWaterMark: FILE_BUFFER_BYTES });
    if (!isStdout) {
      try {
        await once(destination, 'open');
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        throw new Ds100Error('OUTPUT_FILE', `${path}: cannot write the results file: ${reason}`, { cause: error });
      }
    }
    destination.on('error', (error: NodeJS.ErrnoException) => {
      if (isStdout && error.code === 'EPIPE') {
        csv.unpipe(destination);
        csv.resume(); // the reader went away: keep draining so the run can finish and report
      } else {
        csv.destroy(error);
      }
    });
    csv.pipe(destination, { end: !isStdout });
    return new ResultsWriter(csv, destination, isStdout);
  }

  async write(result: RowResult): Promise<void> {
    this.#batch();
    if (!this.#csv.write(resultRecord(result))) await once(this.#csv, 'drain');
  }

  /**
   * Holds the file's writes for a few milliseconds, so that the rows finished meanwhile go out in
   * one write call rather than one each: at thousands of rows a second, one-row file writes took a
   * tenth of the run's time. A crash can lose those few milliseconds of rows; a normal end, an
   * error or Ctrl-C (close) writes them.
   */
  #batch(): void {
    if (this.#isCorked || this.#isStdout) return;
    this.#isCorked = true;
    this.#destination.cork();
    setTimeout(() => {
      this.#isCorked = false;
      this.#destination.uncork();
    }, BATCH_MS);
  }

  async close(): Promise<void> {
    this.#csv.end();
    await finished(this.#isStdout ? this.#csv : this.#destination);
  }
}
