import {
  grow,
  KeyTable,
  packSerial,
  packUserId,
  SERIAL_WORDS,
  unpackSerial,
  unpackUserId,
  USER_ID_WORDS,
} from './key-table.js';
import {
  conflictProblem,
  duplicateProblem,
  MAX_DS100_PER_USER,
  serialLengthProblem,
  tooManyDevicesProblem,
  type FieldNames,
  type RowProblem,
  type SerialLength,
  type ValidationRules,
} from './validate-row.js';

/** The verdict on a row whose own fields are well-formed. */
export interface CrossRowVerdict {
  /** Set when the row must not be sent. */
  readonly problem?: RowProblem | undefined;
  /** Set when the row may be sent but looks suspicious (only without a problem). */
  readonly warning?: RowProblem | undefined;
}

/** Where a row's serial and user sit in the fact tables. */
export interface RowKeys {
  readonly serialIndex: number;
  readonly userIndex: number;
}

/**
 * What the whole file says about its serials and users, gathered by the pre-scan before any row is
 * reported or sent: which serial first appears on which line for which user, whether another user
 * claims it too, how many devices each user is given, whether any serial keeps a leading zero.
 *
 * Memory: about 60 bytes per distinct serial and user, in typed arrays (see KeyTable).
 */
export class CrossRowFacts {
  readonly #serials: KeyTable;
  readonly #users: KeyTable;
  // Per serial index.
  #firstUser: Int32Array;
  #firstLine: Int32Array;
  /** Serials claimed by a second user (rare): serial index -> [user index, line]. */
  readonly #others = new Map<number, readonly [number, number]>();
  // Per user index: distinct serials the file gives this user.
  #devices: Int32Array;
  /** True once any well-formed serial starts with 0: then the column was kept as text. */
  hasLeadingZeros = false;
  readonly #scratchSerial = new Uint32Array(SERIAL_WORDS);
  readonly #scratchUser = new Uint32Array(USER_ID_WORDS);

  /** `expectedRows` sizes the tables up front (they grow when it is too small). */
  constructor(expectedRows = 1024) {
    const capacity = Math.max(16, Math.ceil(expectedRows));
    this.#serials = new KeyTable(SERIAL_WORDS, capacity);
    this.#users = new KeyTable(USER_ID_WORDS, capacity);
    this.#firstUser = new Int32Array(capacity);
    this.#firstLine = new Int32Array(capacity);
    this.#devices = new Int32Array(capacity);
  }

  /** Records a well-formed row. Call once per row, in file order. */
  add(serial: string, userId: string, line: number): RowKeys {
    if (serial.charCodeAt(0) === 48) this.hasLeadingZeros = true;
    packUserId(userId, this.#users.key);
    const userIndex = this.#users.intern();
    if (this.#users.wasNew && userIndex >= this.#devices.length) {
      this.#devices = grow(this.#devices, this.#devices.length * 2);
    }
    packSerial(serial, this.#serials.key);
    const serialIndex = this.#serials.intern();
    if (this.#serials.wasNew) {
      if (serialIndex >= this.#firstUser.length) {
        const length = this.#firstUser.length * 2;
        this.#firstUser = grow(this.#firstUser, length);
        this.#firstLine = grow(this.#firstLine, length);
      }
      this.#firstUser[serialIndex] = userIndex;
      this.#firstLine[serialIndex] = line;
      this.#devices[userIndex]!++;
    } else if (this.#firstUser[serialIndex] !== userIndex) {
      // The same serial for another user. Only the first such user is remembered (for the
      // message); a third or fourth claimant of one serial may be counted twice towards their
      // device total, which only matters for rows that are invalid anyway.
      const other = this.#others.get(serialIndex);
      if (other === undefined) this.#others.set(serialIndex, [userIndex, line]);
      if (other?.[0] !== userIndex) this.#devices[userIndex]!++;
    }
    return { serialIndex, userIndex };
  }

  /** The indexes of a pair recorded by `add`, or undefined when the pair was never recorded. */
  find(serial: string, userId: string): RowKeys | undefined {
    packSerial(serial, this.#serials.key);
    const serialIndex = this.#serials.find();
    packUserId(userId, this.#users.key);
    const userIndex = this.#users.find();
    return serialIndex < 0 || userIndex < 0 ? undefined : { serialIndex, userIndex };
  }

  serialAt(index: number): string {
    this.#serials.read(index, this.#scratchSerial);
    return unpackSerial(this.#scratchSerial);
  }

  userIdAt(index: number): string {
    this.#users.read(index, this.#scratchUser);
    return unpackUserId(this.#scratchUser);
  }

  /**
   * The one decision on a well-formed row, used by every command and by both passes: lost leading
   * zeros first, then a serial claimed by two users (CONFLICTING_ROW, on every row involved, so
   * that neither is sent), a repeat of an earlier row, too many devices for the user, and last the
   * length warning. Call only after every row was added.
   */
  verdict(
    keys: RowKeys,
    line: number,
    length: SerialLength,
    rules: ValidationRules,
    names: FieldNames,
  ): CrossRowVerdict {
    const { serialIndex, userIndex } = keys;
    const lengthProblem =
      length === 'expected'
        ? undefined
        : serialLengthProblem(this.serialAt(serialIndex), length, rules, this.hasLeadingZeros, names.serial);
    if (lengthProblem?.code === 'SERIAL_LEADING_ZEROS_LOST') return { problem: lengthProblem };
    const other = this.#others.get(serialIndex);
    if (other !== undefined) {
      const firstUser = this.#firstUser[serialIndex] ?? -1;
      // Each row names the other party: the first row names the second claimant, later rows the first.
      const [user, otherLine] = userIndex === firstUser ? other : [firstUser, this.#firstLine[serialIndex] ?? 0];
      return { problem: conflictProblem(this.serialAt(serialIndex), this.userIdAt(user), otherLine, names.serial) };
    }
    const firstLine = this.#firstLine[serialIndex] ?? 0;
    if (firstLine !== line) return { problem: duplicateProblem(firstLine) };
    const devices = this.#devices[userIndex] ?? 0;
    if (devices > MAX_DS100_PER_USER) {
      return { problem: tooManyDevicesProblem(this.userIdAt(userIndex), devices, names.userId) };
    }
    if (lengthProblem === undefined) return {};
    if (!rules.strict) return { warning: lengthProblem };
    const message = `${lengthProblem.message.replace(/^warning: /, '')} (an error because of --strict)`;
    return { problem: { code: lengthProblem.code, message } };
  }
}
