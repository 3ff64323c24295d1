import { Ds100Error } from '../errors.js';

/** Header names are compared after lower-casing and dropping everything but letters and digits. */
const normalise = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

// Deliberately narrow: a loose alias such as "user" or "device" could silently map an email or
// device-name column, and sending the wrong column is worse than asking for a header fix.
export const SERIAL_ALIASES = [
  'deviceSerialNumber',
  'deviceSerial',
  'device_serial',
  'serialNumber',
  'serial_no',
  'serial',
  'ds100Serial',
  'ds100SerialNumber',
] as const;
export const USER_ID_ALIASES = ['userId', 'user_id', 'userid', 'userUuid'] as const;
// A file may name its users by email address instead (resolved with `POST v1/users/lookup`). Names
// that hold nothing but an address in every directory export seen; "user" or "login" are not taken.
export const EMAIL_ALIASES = [
  'email',
  'e-mail',
  'mail',
  'emailAddress',
  'userEmail',
  'userPrincipalName',
  'upn',
] as const;

const serialKeys = new Set(SERIAL_ALIASES.map(normalise));
const userIdKeys = new Set(USER_ID_ALIASES.map(normalise));
const emailKeys = new Set(EMAIL_ALIASES.map(normalise));

/** Whether a header name is one an email column goes by. */
export const isEmailColumn = (name: string): boolean => emailKeys.has(normalise(name));

/** Whether a header name is one a user ID column goes by. */
export const isUserIdColumn = (name: string): boolean => userIdKeys.has(normalise(name));

/** Whether a header cell names the device serial column (how the header's separator is told). */
export const isSerialColumnName = (name: string): boolean => serialKeys.has(normalise(name));

/** Where the required columns are, and which columns are carried through to the results. */
export interface ColumnMap {
  readonly serialIndex: number;
  /** -1 when the file has no user ID column and names its users by email (`emailIndex`). */
  readonly userIdIndex: number;
  /**
   * The email column that names the users, in a file without a user ID column; undefined otherwise
   * (an email column next to a user ID column is only carried). The email column is carried too, so
   * that the results show the address next to the user ID it was resolved to.
   */
  readonly emailIndex?: number | undefined;
  /** Number of fields every data row must have: the header's width. */
  readonly width: number;
  readonly carriedIndexes: readonly number[];
  readonly carriedNames: readonly string[];
}

/** The one column of a kind, or undefined when there is none; two of a kind are refused. */
const findOptionalColumn = (
  header: readonly string[],
  keys: ReadonlySet<string>,
  what: string,
  file: string,
): number | undefined => {
  const matches = header.flatMap((name, index) => (keys.has(normalise(name)) ? [index] : []));
  if (matches.length > 1) {
    const names = matches.map((index) => `"${header[index]}" (column ${index + 1})`).join(' and ');
    throw new Ds100Error(
      'INPUT_FILE',
      `${file}: line 1: the header has more than one ${what} column: ${names}; keep one`,
    );
  }
  return matches[0];
};

const noColumn = (header: readonly string[], what: string, lookedFor: string, file: string): Ds100Error =>
  new Ds100Error(
    'INPUT_FILE',
    `${file}: line 1: the header has no ${what} column (looked for ${lookedFor}, in any case); ` +
      `found: ${header.map((name) => JSON.stringify(name)).join(', ')}`,
  );

const findColumn = (
  header: readonly string[],
  keys: ReadonlySet<string>,
  aliases: readonly string[],
  what: string,
  file: string,
): number => {
  const index = findOptionalColumn(header, keys, what, file);
  if (index === undefined) throw noColumn(header, what, aliases.join(', '), file);
  return index;
};

const looksLikeData = (header: readonly string[]): boolean =>
  header.some((cell) => /^\d{6,}$/.test(cell.trim()) || /^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(cell.trim()));

/** Maps a header row to column positions. Throws a Ds100Error naming the file when it is unusable. */
export function mapColumns(header: readonly string[], file: string): ColumnMap {
  if (looksLikeData(header)) {
    throw new Ds100Error(
      'INPUT_FILE',
      `${file}: line 1 looks like data, not a header; add a first line such as "deviceSerialNumber,userId"`,
    );
  }
  const separator = header.length === 1 ? /[;\t|]/.exec(header[0] ?? '')?.[0] : undefined;
  if (separator !== undefined) {
    const name = separator === '\t' ? 'tabs' : `"${separator}"`;
    throw new Ds100Error(
      'INPUT_FILE',
      `${file}: line 1: the header is a single column ${JSON.stringify(header[0])}: the file seems to separate ` +
        `values with ${name}, not commas, but no column is a device serial column either way (looked for ` +
        `${SERIAL_ALIASES.join(', ')}, in any case); name that column so, e.g. "deviceSerialNumber"`,
    );
  }
  const serialIndex = findColumn(header, serialKeys, SERIAL_ALIASES, 'device serial', file);
  const userIdColumn = findOptionalColumn(header, userIdKeys, 'user ID', file);
  // With a user ID column, that is what the file means: no lookup, and any email column (even two
  // of them) is only carried, as before email files were read.
  const emailIndex = userIdColumn === undefined ? findOptionalColumn(header, emailKeys, 'email', file) : undefined;
  if (userIdColumn === undefined && emailIndex === undefined) {
    throw noColumn(header, 'user ID or email', `${USER_ID_ALIASES.join(', ')}, or ${EMAIL_ALIASES.join(', ')}`, file);
  }
  const userIdIndex = userIdColumn ?? -1;
  const carriedIndexes = header.flatMap((_, index) => (index === serialIndex || index === userIdIndex ? [] : [index]));
  return {
    serialIndex,
    userIdIndex,
    emailIndex,
    width: header.length,
    carriedIndexes,
    carriedNames: carriedIndexes.map((index) => header[index] || `column${index + 1}`),
  };
}
