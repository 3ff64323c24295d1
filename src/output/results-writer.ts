import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Ds100Error } from '../errors.js';
import type { RowResult } from '../types.js';
import { csvLine } from './csv-line.js';

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
  readonly #destination: Writable;
  readonly #isStdout: boolean;
  #isCorked = false;
  /** Set when stdout's reader went away: later rows are dropped, the run goes on. */
  #isGone = false;
  #error: Error | undefined;

  private constructor(destination: Writable, isStdout: boolean) {
    this.#destination = destination;
    this.#isStdout = isStdout;
    destination.on('error', (error: NodeJS.ErrnoException) => {
      if (isStdout && error.code === 'EPIPE') this.#isGone = true;
      else this.#error ??= error;
    });
  }

  static async open(path: string, carriedNames: readonly string[]): Promise<ResultsWriter> {
    const isStdout = path === '-';
    const destination = isStdout ? process.stdout : createWriteStream(path, { highWaterMark: FILE_BUFFER_BYTES });
    if (!isStdout) {
      try {
        await once(destination, 'open');
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        throw new Ds100Error('OUTPUT_FILE', `${path}: cannot write the results file: ${reason}`, { cause: error });
      }
    }
    const writer = new ResultsWriter(destination, isStdout);
    await writer.#write(csvLine(resultHeader(carriedNames)));
    return writer;
  }

  /** Undefined when the line was taken at once, else a promise that resolves when there is room. */
  write(result: RowResult): Promise<void> | undefined {
    this.#batch();
    return this.#write(csvLine(resultRecord(result)));
  }

  #write(line: string): Promise<void> | undefined {
    if (this.#error) throw this.#error;
    if (this.#isGone || this.#destination.write(line)) return undefined;
    return this.#drained();
  }

  /** Waits until the destination takes more; a reader of stdout going away ends the wait too. */
  async #drained(): Promise<void> {
    try {
      await once(this.#destination, 'drain');
    } catch (error) {
      if (!this.#isGone) throw error;
    }
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
    if (this.#isStdout) {
      // stdout is never ended (the summary may follow on it); what it still buffers goes out first.
      if (!this.#isGone && this.#destination.writableNeedDrain) await this.#drained();
      return;
    }
    this.#destination.end();
    await finished(this.#destination);
  }
}
