import {
  conflictProblem,
  duplicateProblem,
  serialLengthOf,
  serialLengthProblem,
  tooManyDevicesProblem,
  type FieldNames,
  type RowProblem,
  type ValidationRules,
} from './validate-row.js';
import type { InvalidRowCode, WarningCode } from '../types.js';

/**
 * The rules across rows, decided for one well-formed row (pure). The pre-scan gathers the facts of
 * the whole file (see prescan.ts); the second pass judges each row with them as it streams by.
 */

/** The verdict on a row whose own fields are well-formed. */
export interface CrossRowVerdict {
  /** Set when the row must not be sent. */
  readonly problem?: RowProblem | undefined;
  /** Set when the row may be sent but looks suspicious (only without a problem). */
  readonly warning?: RowProblem | undefined;
}

/** The codes a well-formed row can get from the rules across rows. */
export const CROSS_ROW_CODES: ReadonlySet<InvalidRowCode | WarningCode> = new Set([
  'SERIAL_LEADING_ZEROS_LOST',
  'CONFLICTING_ROW',
  'DUPLICATE_ROW',
  'TOO_MANY_DEVICES',
  'SERIAL_LENGTH',
] as const);

/**
 * A user's claim on a serial: the user ID in lower case (the IDs are hexadecimal), or in a file that
 * names users by email the address in lower case, and the line.
 */
export interface Claim {
  readonly userId: string;
  readonly line: number;
}

/**
 * What the whole file says that a row's verdict needs besides the row. Small by design: only the
 * exceptions are kept, so the second pass holds next to nothing for a clean file.
 */
export interface CrossRowFacts {
  /** Whether any well-formed serial starts with 0 (then the column was kept as text). */
  readonly hasLeadingZeros: boolean;
  /** Serials on more than one well-formed row: the second pass remembers their first row. */
  readonly repeatedSerials: ReadonlySet<string>;
  /** Serials given to more than one user -> the first row of the second user to claim it. */
  readonly conflicts: ReadonlyMap<string, Claim>;
  /** Users (lower case) given more DS100s than the vendor allows -> how many. */
  readonly usersOverLimit: ReadonlyMap<string, number>;
}

/** A well-formed row as the verdict sees it. */
export interface WellFormedRow {
  readonly serial: string;
  /** In lower case: the user ID, or the email address in a file without user IDs (resolved only when sent). */
  readonly userId: string;
  /** The serial's first well-formed row, when this row is a later one. */
  readonly first?: Claim | undefined;
}

const FINE: CrossRowVerdict = {};

/**
 * The one decision on a well-formed row, used by every command, in this order: lost leading zeros; a
 * serial claimed by two users (CONFLICTING_ROW on every row involved, so that neither is sent; the
 * first user's rows name the second claimant, every other row the first); a repeat of an earlier row;
 * too many devices for the user; last the length warning (an error with --strict).
 */
export function crossRowVerdict(
  { serial, userId, first }: WellFormedRow,
  facts: CrossRowFacts,
  rules: ValidationRules,
  names: FieldNames,
): CrossRowVerdict {
  const length = serialLengthOf(serial, rules);
  if (length === 'short' && !facts.hasLeadingZeros) {
    return { problem: serialLengthProblem(serial, length, rules, false, names.serial) };
  }
  const conflict = facts.conflicts.get(serial);
  if (conflict !== undefined) {
    const other = first === undefined || first.userId === userId ? conflict : first;
    return { problem: conflictProblem(serial, other.userId, other.line, names.serial) };
  }
  // Without a conflict, a later row of a serial is the same user's.
  if (first !== undefined) return { problem: duplicateProblem(first.line) };
  const devices = facts.usersOverLimit.get(userId);
  if (devices !== undefined) return { problem: tooManyDevicesProblem(userId, devices, names.userId) };
  if (length === 'expected') return FINE;
  const warning = serialLengthProblem(serial, length, rules, facts.hasLeadingZeros, names.serial)!;
  if (!rules.strict) return { warning };
  const message = `${warning.message.replace(/^warning: /, '')} (an error because of --strict)`;
  return { problem: { code: warning.code, message } };
}
