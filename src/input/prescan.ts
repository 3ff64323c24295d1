import { Ds100Error } from '../errors.js';
import { mapColumns, type ColumnMap } from './columns.js';
import type { CsvItem } from './read-csv.js';
import type { Claim, CrossRowFacts } from './verdict.js';
import { MAX_DS100_PER_USER, validateRow, type FieldNames, type RowProblem } from './validate-row.js';

/** The header's columns, and the names of the two checked ones, so that messages speak the file's language. */
export interface Header {
  readonly columns: ColumnMap;
  readonly names: FieldNames;
}

/** What pass 1 found: the header, the number of data rows and the facts across rows. */
export interface Prescan extends Header {
  /** Data rows, blank lines not counted, malformed ones counted. */
  readonly rows: number;
  readonly facts: CrossRowFacts;
}

export interface PrescanOptions {
  /** The file's name, for messages. */
  readonly file: string;
  /** A file with a header and no rows is an error (default true). */
  readonly requireRows?: boolean | undefined;
}

/** Maps the header record. Throws a Ds100Error INPUT_FILE when it is unusable. */
export function readHeader(record: readonly string[], file: string): Header {
  const columns = mapColumns(record, file);
  const email = columns.emailIndex === undefined ? undefined : (record[columns.emailIndex] ?? '');
  const userId = email ?? record[columns.userIdIndex] ?? '';
  return { columns, names: { serial: record[columns.serialIndex] ?? '', userId, email } };
}

/** Who a well-formed record's user is, for the rules across rows: the user ID or the address, lower-cased. */
export const userKeyOf = (record: readonly string[], columns: ColumnMap): string =>
  (record[columns.emailIndex ?? columns.userIdIndex] ?? '').toLowerCase();

/** The checks of a data record on its own, the same in both passes. */
export const checkOnItsOwn = (record: readonly string[], { columns, names }: Header): RowProblem | undefined =>
  validateRow(
    {
      serial: record[columns.serialIndex] ?? '',
      userId: record[columns.userIdIndex] ?? '',
      email: columns.emailIndex === undefined ? undefined : (record[columns.emailIndex] ?? ''),
      fieldCount: record.length,
      expectedFieldCount: columns.width,
    },
    names,
  );

/**
 * Pass 1: reads the header, checks every row on its own and gathers what the rules across rows need
 * (see CrossRowFacts). A file that cannot be used throws a Ds100Error INPUT_FILE; a bad row never
 * throws.
 *
 * The facts that need the whole file (each serial's first user, each user's device count) take a map
 * entry per serial and per user while this runs; what it returns holds only the exceptions, and the
 * big maps are garbage once it returns.
 */
export async function prescan(items: AsyncIterable<CsvItem>, options: PrescanOptions): Promise<Prescan> {
  const { file } = options;
  let header: Header | undefined;
  let rows = 0;
  let hasLeadingZeros = false;
  const firstUserOf = new Map<string, string>();
  const devicesOf = new Map<string, number>();
  const repeatedSerials = new Set<string>();
  const conflicts = new Map<string, Claim>();
  const countDevice = (userId: string): void => {
    devicesOf.set(userId, (devicesOf.get(userId) ?? 0) + 1);
  };

  for await (const item of items) {
    if (header === undefined) {
      if ('error' in item) {
        throw new Ds100Error(
          'INPUT_FILE',
          `${file}: line ${item.line}: the header line is not valid CSV: ${item.error.message}`,
        );
      }
      header = readHeader(item.record, file);
      continue;
    }
    rows++;
    if ('error' in item || checkOnItsOwn(item.record, header) !== undefined) continue;
    const serial = item.record[header.columns.serialIndex]!;
    // User IDs are hexadecimal and email addresses are matched without case: one user however it is
    // spelled. A file of addresses keys its users by address.
    const userId = userKeyOf(item.record, header.columns);
    if (serial.startsWith('0')) hasLeadingZeros = true;
    const firstUser = firstUserOf.get(serial);
    if (firstUser === undefined) {
      firstUserOf.set(serial, userId);
      countDevice(userId);
      continue;
    }
    repeatedSerials.add(serial);
    if (firstUser === userId) continue;
    // The same serial for another user. Only the first such user is remembered (for the message);
    // a third or fourth claimant of one serial is counted again on each of its rows towards its
    // device total, as this tool has always counted.
    const other = conflicts.get(serial);
    if (other === undefined) conflicts.set(serial, { userId, line: item.line });
    if (other?.userId !== userId) countDevice(userId);
  }

  if (header === undefined) {
    throw new Ds100Error('INPUT_FILE', `${file}: the file is empty; expected a header line and rows of pairs`);
  }
  if (rows === 0 && (options.requireRows ?? true)) {
    throw new Ds100Error('INPUT_FILE', `${file}: the file has a header line but no rows of pairs; nothing to do`);
  }
  const usersOverLimit = new Map<string, number>();
  for (const [userId, devices] of devicesOf) if (devices > MAX_DS100_PER_USER) usersOverLimit.set(userId, devices);
  return { ...header, rows, facts: { hasLeadingZeros, repeatedSerials, conflicts, usersOverLimit } };
}
