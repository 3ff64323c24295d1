import type { InvalidRowCode, WarningCode } from '../types.js';

/**
 * The checks of one row on its own (pure). Checks that need the whole file (repeats, conflicts,
 * devices per user, lost leading zeros) live in verdict.ts; both are used, unchanged, by
 * `validate`, `plan` and `enable`.
 */

/** Why a row cannot be sent, or a warning about it; `message` is written for the administrator who fixes the file. */
export interface RowProblem {
  readonly code: InvalidRowCode | WarningCode;
  readonly message: string;
}

/** How strict the checks are. The CLI flags `--serial-length` and `--strict` map onto these. */
export interface ValidationRules {
  /**
   * Digits a DS100 serial is expected to have; other lengths get a SERIAL_LENGTH warning, shorter
   * ones may be SERIAL_LEADING_ZEROS_LOST. 0 turns both off. Default 9 (every DS100 serial seen).
   */
  readonly serialLength: number;
  /** Treat warnings as errors: such rows are invalid and never sent. Default false. */
  readonly strict: boolean;
}

export const DEFAULT_RULES: ValidationRules = { serialLength: 9, strict: false };

/** The vendor's limit of DS100/SID700 OTP credentials per user. */
export const MAX_DS100_PER_USER = 5;

/**
 * The header names of the checked columns, so that messages speak the file's language. In a file
 * that names users by email, `userId` is the email column's name too (the rules across rows speak of
 * the user in that column).
 */
export interface FieldNames {
  readonly serial: string;
  readonly userId: string;
  readonly email?: string | undefined;
}

export const DEFAULT_FIELD_NAMES: FieldNames = { serial: 'deviceSerialNumber', userId: 'userId' };

const problem = (code: InvalidRowCode | WarningCode, message: string): RowProblem => ({ code, message });

const MAX_SERIAL_LENGTH = 36; // the vendor's lookup call accepts up to 36 characters
const USER_ID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DIGITS = /^\d+$/;
// Spreadsheets turn long digit strings into 1.40100E+08; the digits after the mantissa are lost.
const SCIENTIFIC_NOTATION = /^\d+(\.\d+)?e[+-]?\d+$/i;
// What copy and paste, spreadsheets and HR exports leave around values: blanks (also no-break and
// zero-width ones), straight and curly quotes, a spreadsheet's text-forcing apostrophe, GUID braces.
const STRAY = /[\s\u200b-\u200d\u2060\ufeff"'`\u2018\u2019\u201c\u201d{}]/g;
const INVISIBLE = /[\u00a0\u200b-\u200d\u2060\ufeff]/;

const quote = (value: string): string => JSON.stringify(value);

// The SMTP limit on a path; longer "addresses" are something else pasted into the cell.
const MAX_EMAIL_LENGTH = 254;
// Deliberately plain, not RFC 5322 in full (no quoted local parts, no comments, no IP literals): one
// @, something before it, a domain of at least two non-empty labels after it, and none of the
// characters that only copy and paste brings in. The tenant is the judge of whether the user exists.
const NOT_IN_ADDRESS = '\\s@"`<>{}\\u2018\\u2019\\u201c\\u201d\\u200b-\\u200d\\u2060\\ufeff';
const EMAIL_SHAPE = new RegExp(`^[^${NOT_IN_ADDRESS}]+@(?:[^${NOT_IN_ADDRESS}'.]+\\.)+[^${NOT_IN_ADDRESS}'.]+$`);
// What mail clients and directory exports leave around an address: blanks, straight and curly
// quotes (a spreadsheet's text-forcing apostrophe too), angle brackets ("Name <a@b>" pasted half) and
// braces at either end, and invisible characters anywhere. A blank inside is not stripped: which
// address was meant is then a guess.
const EMAIL_STRAY =
  /[\u200b-\u200d\u2060\ufeff]|^[\s"'`\u2018\u2019\u201c\u201d<>{}]+|[\s"'`\u2018\u2019\u201c\u201d<>{}]+$/g;

/** Says in words what stray characters a value has: "spaces around it", "quotes" … */
function describeStray(value: string): string {
  const found: string[] = [];
  if (/^[ \t]|[ \t]$/.test(value)) found.push('spaces around it');
  else if (/[ \t]/.test(value)) found.push('spaces inside it');
  if (/[\r\n]/.test(value)) found.push('a line break');
  const invisible = INVISIBLE.exec(value)?.[0];
  if (invisible !== undefined) {
    const hex = invisible.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    found.push(`an invisible character (U+${hex})`);
  }
  if (/["'`\u2018\u2019\u201c\u201d]/.test(value)) found.push('quote marks');
  if (/[{}]/.test(value)) found.push('braces');
  if (/[<>]/.test(value)) found.push('angle brackets');
  return found.length > 0 ? found.join(' and ') : 'stray characters';
}

export function checkSerial(serial: string, field = DEFAULT_FIELD_NAMES.serial): RowProblem | undefined {
  if (serial.length <= MAX_SERIAL_LENGTH && DIGITS.test(serial)) return undefined; // the usual case, first
  if (serial.trim() === '') return problem('MISSING_SERIAL', `${field} is empty`);
  if (SCIENTIFIC_NOTATION.test(serial.trim())) {
    return problem(
      'SERIAL_SCIENTIFIC_NOTATION',
      `${field} ${quote(serial)} was turned into scientific notation by a spreadsheet and its digits are lost; ` +
        'format the column as text and export again',
    );
  }
  const stripped = serial.replace(STRAY, '');
  if (stripped !== serial && DIGITS.test(stripped) && stripped.length <= MAX_SERIAL_LENGTH) {
    return problem(
      'SERIAL_STRAY_CHARACTERS',
      `${field} ${quote(serial)} has ${describeStray(serial)}; it should be digits only, e.g. ${stripped}`,
    );
  }
  if (!DIGITS.test(serial)) {
    return problem('INVALID_SERIAL', `${field} ${quote(serial)} must contain digits only`);
  }
  return problem('INVALID_SERIAL', `${field} ${quote(serial)} is longer than ${MAX_SERIAL_LENGTH} digits`);
}

export function checkUserId(userId: string, field = DEFAULT_FIELD_NAMES.userId): RowProblem | undefined {
  if (USER_ID_SHAPE.test(userId)) return undefined;
  if (userId.trim() === '') return problem('MISSING_USER_ID', `${field} is empty`);
  const stripped = userId.replace(STRAY, '');
  if (USER_ID_SHAPE.test(stripped)) {
    return problem(
      'USER_ID_STRAY_CHARACTERS',
      `${field} ${quote(userId)} has ${describeStray(userId)}; it should be exactly ${stripped}`,
    );
  }
  const hint = userId.includes('@')
    ? "; it looks like an email address, but the API needs the user's ID"
    : ' (expected 8-4-4-4-12 hexadecimal digits, e.g. ece30fe9-414c-7536-5403-0656220b3046)';
  return problem('INVALID_USER_ID', `${field} ${quote(userId)} is not a user ID${hint}`);
}

/**
 * Whether a cell is an email address as this tool takes it (see EMAIL_SHAPE): the offline check,
 * before `POST v1/users/lookup` asks the tenant whether such a user exists.
 */
export function checkEmail(email: string, field = 'email'): RowProblem | undefined {
  if (email.length <= MAX_EMAIL_LENGTH && EMAIL_SHAPE.test(email)) return undefined;
  if (email.trim() === '') return problem('MISSING_EMAIL', `${field} is empty`);
  const stripped = email.replace(EMAIL_STRAY, '');
  if (stripped !== email && stripped.length <= MAX_EMAIL_LENGTH && EMAIL_SHAPE.test(stripped)) {
    return problem(
      'EMAIL_STRAY_CHARACTERS',
      `${field} ${quote(email)} has ${describeStray(email)}; it should be exactly ${stripped}`,
    );
  }
  if (email.length > MAX_EMAIL_LENGTH) {
    return problem(
      'INVALID_EMAIL',
      `${field} is ${email.length} characters long; an email address has at most ${MAX_EMAIL_LENGTH}`,
    );
  }
  const hint = USER_ID_SHAPE.test(email.replace(STRAY, ''))
    ? '; it looks like a user ID: name the column userId'
    : ' (expected one @, a name before it and a domain with a dot after it, e.g. user.one@example.com)';
  return problem('INVALID_EMAIL', `${field} ${quote(email)} is not an email address${hint}`);
}

/**
 * The checks of one row on its own, in the order an administrator would fix them: shape, serial,
 * user. `email` is set for a file that names users by email: it is checked instead of `userId`.
 */
export function validateRow(
  fields: {
    serial: string;
    userId: string;
    fieldCount: number;
    expectedFieldCount: number;
    email?: string | undefined;
  },
  names: FieldNames = DEFAULT_FIELD_NAMES,
): RowProblem | undefined {
  if (fields.fieldCount !== fields.expectedFieldCount) {
    return problem(
      'WRONG_FIELD_COUNT',
      `the row has ${fields.fieldCount} fields but the header has ${fields.expectedFieldCount}` +
        (fields.fieldCount > fields.expectedFieldCount ? ' (an unquoted comma in a value?)' : ''),
    );
  }
  return (
    checkSerial(fields.serial, names.serial) ??
    (fields.email === undefined ? checkUserId(fields.userId, names.userId) : checkEmail(fields.email, names.email))
  );
}

/** How a well-formed serial's length compares with `rules.serialLength`. */
export type SerialLength = 'expected' | 'short' | 'long';

export const serialLengthOf = (serial: string, rules: ValidationRules): SerialLength =>
  rules.serialLength === 0 || serial.length === rules.serialLength
    ? 'expected'
    : serial.length < rules.serialLength
      ? 'short'
      : 'long';

/**
 * The length check of a well-formed serial. A short serial in a file where no serial starts with 0
 * is taken for a spreadsheet's doing (the column was read as numbers, which drops leading zeros):
 * it is an error, because the serial as written is wrong. Otherwise an unusual length is only a
 * warning: other serial formats may exist, and the tenant will say whether the device is known.
 */
export function serialLengthProblem(
  serial: string,
  length: SerialLength,
  rules: ValidationRules,
  fileHasLeadingZeros: boolean,
  field = DEFAULT_FIELD_NAMES.serial,
): RowProblem | undefined {
  if (length === 'expected') return undefined;
  if (length === 'short' && !fileHasLeadingZeros) {
    return problem(
      'SERIAL_LEADING_ZEROS_LOST',
      `${field} ${serial} has ${serial.length} digits where ${rules.serialLength} are expected, and no serial ` +
        `in this file starts with 0: a spreadsheet probably dropped its leading zeros ` +
        `(it would be ${serial.padStart(rules.serialLength, '0')}); format the column as text and export again, ` +
        `or pass --serial-length ${serial.length} if such serials are right`,
    );
  }
  return problem(
    'SERIAL_LENGTH',
    `warning: ${field} ${serial} has ${serial.length} digits; DS100 serials have ${rules.serialLength}`,
  );
}

export const duplicateProblem = (firstLine: number): RowProblem =>
  problem('DUPLICATE_ROW', `the same device and user are already on line ${firstLine}; only that line is used`);

export const conflictProblem = (serial: string, otherUserId: string, otherLine: number, field: string): RowProblem =>
  problem(
    'CONFLICTING_ROW',
    `${field} ${serial} is also given to another user, ${otherUserId}, on line ${otherLine}; a DS100 belongs ` +
      'to one user, so neither row is sent: keep the right one',
  );

export const tooManyDevicesProblem = (userId: string, devices: number, field: string): RowProblem =>
  problem(
    'TOO_MANY_DEVICES',
    `${field} ${userId} is given ${devices} DS100s in this file; a user can have at most ${MAX_DS100_PER_USER}, ` +
      `so none of this user's rows is sent: keep at most ${MAX_DS100_PER_USER}`,
  );
