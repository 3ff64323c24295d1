import type { InvalidRowCode } from '../types.js';

/** Why a row cannot be sent; `message` is written for the administrator who has to fix the file. */
export interface RowProblem {
  readonly code: InvalidRowCode;
  readonly message: string;
}

const problem = (code: InvalidRowCode, message: string): RowProblem => ({ code, message });

const MAX_SERIAL_LENGTH = 36; // the vendor's lookup call accepts up to 36 characters
const USER_ID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Spreadsheets turn long digit strings into 1.40100E+08; the digits after the mantissa are lost.
const SCIENTIFIC_NOTATION = /^\d+(\.\d+)?e[+-]?\d+$/i;

export function checkSerial(serial: string): RowProblem | undefined {
  if (serial.trim() === '') return problem('MISSING_SERIAL', 'deviceSerialNumber is empty');
  if (SCIENTIFIC_NOTATION.test(serial.trim())) {
    return problem(
      'SERIAL_SCIENTIFIC_NOTATION',
      `deviceSerialNumber "${serial}" was turned into scientific notation by a spreadsheet and its digits are lost; ` +
        'format the column as text and export again',
    );
  }
  if (serial !== serial.trim()) {
    return problem('INVALID_SERIAL', `deviceSerialNumber "${serial}" has spaces around it`);
  }
  if (!/^\d+$/.test(serial)) {
    return problem('INVALID_SERIAL', `deviceSerialNumber "${serial}" must contain digits only`);
  }
  if (serial.length > MAX_SERIAL_LENGTH) {
    return problem('INVALID_SERIAL', `deviceSerialNumber "${serial}" is longer than ${MAX_SERIAL_LENGTH} digits`);
  }
  return undefined;
}

export function checkUserId(userId: string): RowProblem | undefined {
  if (userId.trim() === '') return problem('MISSING_USER_ID', 'userId is empty');
  if (USER_ID_SHAPE.test(userId)) return undefined;
  if (USER_ID_SHAPE.test(userId.trim())) {
    return problem('INVALID_USER_ID', `userId "${userId}" has spaces around it`);
  }
  const hint = userId.includes('@')
    ? "; it looks like an email address, but the API needs the user's ID"
    : ' (expected 8-4-4-4-12 hexadecimal digits, e.g. ece30fe9-414c-7536-5403-0656220b3046)';
  return problem('INVALID_USER_ID', `userId "${userId}" is not a user ID${hint}`);
}

/**
 * Remembers each serial seen so far, so that a repeated serial is caught: the same pair again is a
 * DUPLICATE_ROW, the same serial for another user a CONFLICTING_ROW. A DS100 holds one credential,
 * so either way only the first row may be sent.
 */
export class DuplicateTracker {
  // One string per serial ("userId line") keeps memory near the size of the serials themselves.
  readonly #seen = new Map<string, string>();

  check(serial: string, userId: string, line: number): RowProblem | undefined {
    const previous = this.#seen.get(serial);
    if (previous === undefined) {
      this.#seen.set(serial, `${userId} ${line}`);
      return undefined;
    }
    const [firstUserId, firstLine] = previous.split(' ');
    return firstUserId === userId
      ? problem('DUPLICATE_ROW', `the same device and user are already on line ${firstLine}`)
      : problem(
          'CONFLICTING_ROW',
          `deviceSerialNumber ${serial} is already assigned to user ${firstUserId} on line ${firstLine}`,
        );
  }
}

/** Checks a row's fields in the order an administrator would fix them: shape, serial, user, repeats. */
export function validateRow(
  fields: { serial: string; userId: string; fieldCount: number; expectedFieldCount: number; line: number },
  duplicates: DuplicateTracker,
): RowProblem | undefined {
  if (fields.fieldCount !== fields.expectedFieldCount) {
    return problem(
      'WRONG_FIELD_COUNT',
      `the row has ${fields.fieldCount} fields but the header has ${fields.expectedFieldCount}`,
    );
  }
  return (
    checkSerial(fields.serial) ??
    checkUserId(fields.userId) ??
    duplicates.check(fields.serial, fields.userId, fields.line)
  );
}
