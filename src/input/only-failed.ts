import { randomUUID } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { describeFsError, Ds100Error } from '../errors.js';
import { RESULT_COLUMNS } from '../output/result-columns.js';
import type { Outcome } from '../types.js';
import { isEmailColumn } from './columns.js';
import { cannotRead } from './file-checks.js';
import { parsePlanTrailer } from './plan-file.js';
import { lineBreaksIn, readCsv } from './read-csv.js';

/**
 * `--only-failed previous-results.csv`: the rows of an earlier run's results whose outcome was not
 * a success, turned back into an input file — `deviceSerialNumber`, `userId` and the carried columns
 * under the names they had in the original input (a carried `outcome` column, written `input.outcome`
 * in the results, is `outcome` again). A results file made from an email column keeps the addresses
 * and leaves the userId column out, so that they are looked up again (an address unknown last time
 * may exist now).
 *
 * Every row stays on the line it has in the results file (blank lines fill the gaps, and blank lines
 * are skipped by the reader), so that every message and every `line` of the new results points into
 * the file the user named.
 */

/** What counts as done: everything else (failed, unknown, invalid, not-attempted, not-registered …) is re-run. */
export const SUCCEEDED: ReadonlySet<Outcome | string> = new Set([
  'enabled',
  'already-enabled',
  'unchanged',
  'disabled',
  'already-disabled',
]);

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

const fixedNames = new Set(RESULT_COLUMNS.map((name) => name.toLowerCase()));

/** A carried column's name as the original input had it (results prefix `input.` to clashing names). Pure. */
export const originalName = (name: string): string =>
  name.startsWith('input.') && fixedNames.has(name.slice('input.'.length).toLowerCase())
    ? name.slice('input.'.length)
    : name;

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
  const path = join(tmpdir(), `ds100-bulk-only-failed-${randomUUID()}.csv`);
  const target = await open(path, 'wx', 0o600).catch(async (error: unknown) => {
    await source.close();
    throw new Ds100Error(
      'INPUT_FILE',
      `${resultsFile}: cannot write the rows to re-run to ${tmpdir()}: ${describeFsError(error as NodeJS.ErrnoException)}`,
      { cause: error },
    );
  });
  const removeCopy = async (): Promise<void> => {
    await rm(path, { force: true });
  };
  try {
    let rows = 0;
    let succeeded = 0;
    const byOutcome: Record<string, number> = {};
    let nextLine = 1; // of the copy
    let columns: { readonly outcome: number; readonly serial: number; readonly userId: number } | undefined;
    let keepUserId = true;
    for await (const item of readCsv(source, { file: resultsFile, checkUtf8: true })) {
      if ('error' in item) {
        throw new Ds100Error('INPUT_FILE', `${resultsFile}: line ${item.line}: not valid CSV: ${item.error.message}`);
      }
      const { record, line } = item;
      if (columns === undefined) {
        const header = record;
        const fixed = header.slice(0, RESULT_COLUMNS.length);
        if (fixed.join(',') !== RESULT_COLUMNS.join(',')) {
          throw notResults(resultsFile, `its header does not start ${RESULT_COLUMNS.slice(0, 4).join(',')}…`);
        }
        const carried = header.slice(RESULT_COLUMNS.length).map(originalName);
        // Rows of an email file: the address is looked up again, rather than an ID that may be empty.
        keepUserId = !carried.some(isEmailColumn);
        columns = {
          outcome: header.indexOf('outcome'),
          serial: header.indexOf('deviceSerialNumber'),
          userId: header.indexOf('userId'),
        };
        const inputHeader = ['deviceSerialNumber', ...(keepUserId ? ['userId'] : []), ...carried];
        await target.write(stringify([inputHeader]));
        nextLine = 2;
        continue;
      }
      // A plan's fingerprint line ends the file.
      if (record.length === 1 && parsePlanTrailer(record[0] ?? '') !== undefined) break;
      const outcome = record[columns.outcome] ?? '';
      if (SUCCEEDED.has(outcome)) {
        succeeded++;
        continue;
      }
      rows++;
      byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
      const inputRecord = [
        record[columns.serial] ?? '',
        ...(keepUserId ? [record[columns.userId] ?? ''] : []),
        ...record.slice(RESULT_COLUMNS.length),
      ];
      const gap = line - nextLine;
      const text = (gap > 0 ? '\n'.repeat(gap) : '') + stringify([inputRecord]);
      await target.write(text);
      nextLine = Math.max(nextLine, line) + 1 + lineBreaksIn(inputRecord);
    }
    if (columns === undefined) throw notResults(resultsFile, 'it is empty');
    await target.close();
    await source.close();
    return { path, rows, succeeded, byOutcome, close: removeCopy };
  } catch (error) {
    await target.close().catch(() => undefined);
    await source.close().catch(() => undefined);
    await removeCopy();
    throw error;
  }
}
