import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { stringify } from 'csv-stringify/sync';
import { describeFsError, Ds100Error } from '../errors.js';
import { originalName, RESULT_COLUMNS } from '../output/result-columns.js';
import { DONE_OUTCOMES, type Outcome } from '../types.js';
import { isEmailColumn } from './columns.js';
import { cannotRead } from './file-checks.js';
import { parsePlanTrailer } from './plan-file.js';
import { lineBreaksIn, readCsv } from './read-csv.js';
import { createPrivateTempFile } from './temp-file.js';

/**
 * `--only-failed previous-results.csv`: the rows of an earlier run's results whose outcome was not
 * a success, turned back into an input file — `deviceSerialNumber`, `userId` and the carried columns
 * under the names they had in the original input (a carried `outcome` column, written `input.outcome`
 * in the results, is `outcome` again). The user IDs are kept, unless a row of an email file never got
 * one (its address was unknown, or its lookup failed): then the userId column is left out and every
 * address is looked up again (one unknown last time may exist now). A file of user IDs that merely
 * carries an address column keeps its IDs.
 *
 * Every row stays on the line it has in the results file (blank lines fill the gaps, and blank lines
 * are skipped by the reader), so that every message and every `line` of the new results points into
 * the file the user named.
 */

/** What counts as done (see DONE_OUTCOMES): everything else (failed, unknown, invalid, not-attempted …) is re-run. */
export const SUCCEEDED: ReadonlySet<Outcome | string> = new Set([...DONE_OUTCOMES.Enabled, ...DONE_OUTCOMES.Disabled]);

/** The rows to re-run, as a temporary input file; `close` removes it. */
export interface FailedRows {
  /** The temporary input file (0600). */
  readonly path: string;
  /** Rows to re-run. */
  readonly rows: number;
  /** Rows left out because they succeeded. */
  readonly succeeded: number;
  /** The outcomes of the rows to re-run, with their counts. */
  readonly byOutcome: Readonly<Record<string, number>>;
  close(): Promise<void>;
}

const notResults = (file: string, why: string): Ds100Error =>
  new Ds100Error(
    'INPUT_FILE',
    `${file}: line 1: not a results file of ds100-bulk (${why}); --only-failed takes the --out file of an earlier ` +
      'enable, disable or reconcile run',
  );

/**
 * Reads `resultsFile` and writes the rows whose outcome was not a success to a new private temporary
 * file in the input format. Throws a Ds100Error INPUT_FILE naming the file and line when it is not a
 * results file (a workbook, another CSV, a malformed line).
 */
export async function spoolFailedRows(resultsFile: string): Promise<FailedRows> {
  if (resultsFile.toLowerCase().endsWith('.xlsx')) {
    throw new Ds100Error(
      'INPUT_FILE',
      `${resultsFile}: --only-failed reads a CSV results file; an .xlsx workbook is for people (run with --out results.csv)`,
    );
  }
  const source = await open(resultsFile, 'r').catch((error: unknown) => {
    throw cannotRead(resultsFile, error);
  });
  const copy = await createPrivateTempFile('only-failed').catch(async (error: unknown) => {
    await source.close();
    throw new Ds100Error(
      'INPUT_FILE',
      `${resultsFile}: cannot write the rows to re-run to ${tmpdir()}: ${describeFsError(error as NodeJS.ErrnoException)}`,
      { cause: error },
    );
  });
  const { path, handle: target } = copy;
  try {
    // Read twice: first to learn whether any row still needs its address looked up, then to copy.
    let keepUserId = true;
    for await (const item of failedRecords(source, resultsFile)) {
      if (item.kind === 'row' && item.needsAddress) keepUserId = false;
    }
    let rows = 0;
    let succeeded = 0;
    const byOutcome: Record<string, number> = {};
    let nextLine = 1; // of the copy
    for await (const item of failedRecords(source, resultsFile)) {
      if (item.kind === 'header') {
        const inputHeader = ['deviceSerialNumber', ...(keepUserId ? ['userId'] : []), ...item.carried];
        await target.write(stringify([inputHeader]));
        nextLine = 2;
        continue;
      }
      if (item.kind === 'succeeded') {
        succeeded++;
        continue;
      }
      const { line, outcome, serial, userId, carried } = item;
      rows++;
      byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
      const inputRecord = [serial, ...(keepUserId ? [userId] : []), ...carried];
      const gap = line - nextLine;
      const text = (gap > 0 ? '\n'.repeat(gap) : '') + stringify([inputRecord]);
      await target.write(text);
      nextLine = Math.max(nextLine, line) + 1 + lineBreaksIn(inputRecord);
    }
    await target.close();
    await source.close();
    return { path, rows, succeeded, byOutcome, close: copy.remove };
  } catch (error) {
    await source.close().catch(() => undefined);
    await copy.remove();
    throw error;
  }
}

/** What `failedRecords` finds in a results file, in file order: its header, then each row. */
type ResultsItem =
  | { readonly kind: 'header'; readonly carried: readonly string[] }
  | { readonly kind: 'succeeded' }
  | {
      readonly kind: 'row';
      readonly line: number;
      readonly outcome: string;
      readonly serial: string;
      readonly userId: string;
      readonly carried: readonly string[];
      /** A row of an email file whose address never became a user ID (unknown, or its lookup failed). */
      readonly needsAddress: boolean;
    };

/**
 * The results file's header and rows, read from the start of the open file. Throws a Ds100Error
 * INPUT_FILE naming the file and line when it is not a results file. A plan's fingerprint line ends it.
 */
async function* failedRecords(source: FileHandle, resultsFile: string): AsyncGenerator<ResultsItem> {
  let columns:
    | { readonly serial: number; readonly outcome: number; readonly userId: number; readonly errorCode: number }
    | undefined;
  let emailAt = -1; // among the carried columns
  for await (const item of readCsv(source, { file: resultsFile, checkUtf8: true })) {
    if ('error' in item) {
      throw new Ds100Error('INPUT_FILE', `${resultsFile}: line ${item.line}: not valid CSV: ${item.error.message}`);
    }
    const { record, line } = item;
    if (columns === undefined) {
      if (record.slice(0, RESULT_COLUMNS.length).join(',') !== RESULT_COLUMNS.join(',')) {
        throw notResults(resultsFile, `its header does not start ${RESULT_COLUMNS.slice(0, 4).join(',')}…`);
      }
      const carried = record.slice(RESULT_COLUMNS.length).map(originalName);
      emailAt = carried.findIndex(isEmailColumn);
      columns = {
        serial: record.indexOf('deviceSerialNumber'),
        outcome: record.indexOf('outcome'),
        userId: record.indexOf('userId'),
        errorCode: record.indexOf('errorCode'),
      };
      yield { kind: 'header', carried };
      continue;
    }
    if (record.length === 1 && parsePlanTrailer(record[0] ?? '') !== undefined) return;
    const outcome = record[columns.outcome] ?? '';
    if (SUCCEEDED.has(outcome)) {
      yield { kind: 'succeeded' };
      continue;
    }
    const userId = record[columns.userId] ?? '';
    const carried = record.slice(RESULT_COLUMNS.length);
    // A file of user IDs that also carries addresses: its rows without an ID are MISSING_USER_ID, not email rows.
    const needsAddress =
      emailAt >= 0 &&
      userId === '' &&
      (carried[emailAt] ?? '') !== '' &&
      record[columns.errorCode] !== 'MISSING_USER_ID';
    yield { kind: 'row', line, outcome, serial: record[columns.serial] ?? '', userId, carried, needsAddress };
  }
  if (columns === undefined) throw notResults(resultsFile, 'it is empty');
}
