import {
  allocate,
  grow,
  KeyTable,
  packSerial,
  packUserId,
  release,
  SERIAL_PADDING_WORD,
  SERIAL_WORDS,
  SHORT_SERIAL_WORDS,
  unpackSerial,
  unpackUserId,
  USER_ID_WORDS,
} from './key-table.js';
import {
  conflictProblem,
  duplicateProblem,
  MAX_DS100_PER_USER,
  serialLengthOf,
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

/** The codes a well-formed row can get from the rules across rows. */
export type CrossRowCode =
  'SERIAL_LEADING_ZEROS_LOST' | 'CONFLICTING_ROW' | 'DUPLICATE_ROW' | 'TOO_MANY_DEVICES' | 'SERIAL_LENGTH';

/**
 * How `add` found a row's serial: new (FIRST_CLAIM), already given to the same user (SAME_USER), or
 * given to another user first (OTHER_USER). With the serial it is all the resolution needs of a
 * row: unless OTHER_USER, the row's user is the serial's first user.
 */
export type Claim = typeof FIRST_CLAIM | typeof SAME_USER | typeof OTHER_USER;
const FIRST_CLAIM = 0;
const SAME_USER = 1;
const OTHER_USER = 2;

// Device counts are bytes: only more than 5 matters, and a count of 255 or more, which the
// message states, is kept exactly in a map instead.
const SATURATED = 0xff;

/**
 * The other party that conflict messages name (a user ID and a line), kept for pass 2 once the
 * fact tables are gone: 20 bytes each, at most two per serial given to two users.
 */
export class ConflictParties {
  // Per party: the user ID's 4 packed words, then the line.
  #words = allocate(Uint32Array, 16 * (USER_ID_WORDS + 1));
  #count = 0;

  add(user: Uint32Array, line: number): number {
    const base = this.#count * (USER_ID_WORDS + 1);
    if (base === this.#words.length) this.#words = grow(this.#words, this.#words.length * 2);
    this.#words.set(user, base);
    this.#words[base + USER_ID_WORDS] = line;
    return this.#count++;
  }

  userIdAt(party: number): string {
    const base = party * (USER_ID_WORDS + 1);
    return unpackUserId(this.#words.subarray(base, base + USER_ID_WORDS));
  }

  lineAt(party: number): number {
    return this.#words[party * (USER_ID_WORDS + 1) + USER_ID_WORDS] ?? 0;
  }
}

/** What, besides a row's own fields, its final code and detail, is needed to word its verdict. */
export interface VerdictContext {
  readonly rules: ValidationRules;
  readonly names: FieldNames;
  /** Whether any well-formed serial of the file starts with 0 (see `serialLengthProblem`). */
  readonly hasLeadingZeros: boolean;
  readonly parties: ConflictParties;
}

/**
 * The verdict, messages included, of a well-formed row from its final code and detail (as
 * `CrossRowFacts.decide` gave them) and its own serial and user ID. The resolution words its
 * examples with it and pass 2 every row, so both say exactly the same without the fact tables.
 */
export function crossRowVerdict(
  code: CrossRowCode | undefined,
  detail: number,
  serial: string,
  userId: string,
  { rules, names, hasLeadingZeros, parties }: VerdictContext,
): CrossRowVerdict {
  switch (code) {
    case undefined:
      return {};
    case 'CONFLICTING_ROW':
      return { problem: conflictProblem(serial, parties.userIdAt(detail), parties.lineAt(detail), names.serial) };
    case 'DUPLICATE_ROW':
      return { problem: duplicateProblem(detail) };
    case 'TOO_MANY_DEVICES':
      // A well-formed user ID in lower case is the canonical form that packing gives.
      return { problem: tooManyDevicesProblem(userId.toLowerCase(), detail, names.userId) };
    case 'SERIAL_LEADING_ZEROS_LOST':
      return { problem: serialLengthProblem(serial, 'short', rules, hasLeadingZeros, names.serial)! };
    case 'SERIAL_LENGTH': {
      const length = serialLengthOf(serial, rules);
      const warning = serialLengthProblem(serial, length, rules, hasLeadingZeros, names.serial)!;
      if (!rules.strict) return { warning };
      const message = `${warning.message.replace(/^warning: /, '')} (an error because of --strict)`;
      return { problem: { code: warning.code, message } };
    }
  }
}

/**
 * What the whole file says about its serials and users, gathered by the pre-scan before any row is
 * reported or sent: which serial first appears on which line for which user, whether another user
 * claims it too, how many devices each user is given, whether any serial keeps a leading zero.
 *
 * Memory: about 24 bytes per distinct serial (of up to 16 digits; 36 once a longer one appears)
 * and 25 per distinct user, in typed arrays (see KeyTable). Needed only until every row is
 * decided: pass 2 words its messages from each row's code and detail (see `crossRowVerdict`).
 */
export class CrossRowFacts {
  // Starts with short keys, widened the first time a serial longer than 16 digits comes.
  readonly #serials: KeyTable;
  readonly #users: KeyTable;
  // Per serial index.
  #firstUser: Int32Array;
  #firstLine: Int32Array;
  /** Serials claimed by a second user (rare): serial index -> [user index, line]. */
  readonly #others = new Map<number, readonly [number, number]>();
  // Per user index: distinct serials the file gives this user, up to SATURATED.
  #devices: Uint8Array;
  /** Exact counts of users given SATURATED or more serials (rare). */
  readonly #manyDevices = new Map<number, number>();
  /** True once any well-formed serial starts with 0: then the column was kept as text. */
  hasLeadingZeros = false;
  /** How the last `add` found its row's serial. */
  claim: Claim = FIRST_CLAIM;
  /** The number the message of the last `decide` needs (see `crossRowVerdict`). */
  detail = 0;
  /** The other parties of conflicts, filled by `decide`. */
  readonly parties = new ConflictParties();
  /** serial index * 2 + (1 when the row's user is not the first) -> party, so each is added once. */
  readonly #partyOf = new Map<number, number>();

  /** `expectedRows` sizes the tables up front (they grow when it is too small). */
  constructor(expectedRows = 1024) {
    const capacity = Math.max(16, Math.ceil(expectedRows));
    this.#serials = new KeyTable(SHORT_SERIAL_WORDS, capacity);
    this.#users = new KeyTable(USER_ID_WORDS, capacity);
    this.#firstUser = allocate(Int32Array, capacity);
    this.#firstLine = allocate(Int32Array, capacity);
    this.#devices = allocate(Uint8Array, capacity);
  }

  /** Records a well-formed row and returns its serial's index (and sets `claim`). Call once per row, in file order. */
  add(serial: string, userId: string, line: number): number {
    if (serial.charCodeAt(0) === 48) this.hasLeadingZeros = true;
    packUserId(userId, this.#users.key);
    const userIndex = this.#users.intern();
    if (this.#users.wasNew && userIndex >= this.#devices.length) {
      this.#devices = grow(this.#devices, this.#devices.length * 2);
    }
    if (serial.length > this.#serials.words * 8) this.#serials.widen(SERIAL_WORDS, SERIAL_PADDING_WORD);
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
      this.#countDevice(userIndex);
      this.claim = FIRST_CLAIM;
    } else if (this.#firstUser[serialIndex] === userIndex) {
      this.claim = SAME_USER;
    } else {
      // The same serial for another user. Only the first such user is remembered (for the
      // message); a third or fourth claimant of one serial may be counted twice towards their
      // device total, which only matters for rows that are invalid anyway.
      const other = this.#others.get(serialIndex);
      if (other === undefined) this.#others.set(serialIndex, [userIndex, line]);
      if (other?.[0] !== userIndex) this.#countDevice(userIndex);
      this.claim = OTHER_USER;
    }
    return serialIndex;
  }

  /**
   * Hands the tables' memory back at once, once every row is decided: pass 2 needs none of it.
   * `parties` stays usable; the rest of the object does not.
   */
  release(): void {
    this.#serials.release();
    this.#users.release();
    for (const array of [this.#firstUser, this.#firstLine, this.#devices]) release(array);
  }

  #countDevice(user: number): void {
    const count = this.#devices[user]!;
    if (count < SATURATED) this.#devices[user] = count + 1;
    else this.#manyDevices.set(user, (this.#manyDevices.get(user) ?? SATURATED) + 1);
  }

  #devicesOf(user: number): number {
    const count = this.#devices[user] ?? 0;
    return count < SATURATED ? count : (this.#manyDevices.get(user) ?? SATURATED);
  }

  serialAt(index: number): string {
    return unpackSerial(this.#serials.read(index));
  }

  /** The user ID of the first row of serial `index`. */
  firstUserIdOf(index: number): string {
    return unpackUserId(this.#users.read(this.#firstUser[index] ?? 0));
  }

  /**
   * The one decision on a well-formed row, used by every command: lost leading zeros first, then a
   * serial claimed by two users (CONFLICTING_ROW, on every row involved, so that neither is sent),
   * a repeat of an earlier row, too many devices for the user, and last the length warning (an
   * error with --strict). Returns the code (undefined: the row is fine) and sets `detail`. Call
   * only after every row was added, with what `add` returned and set for the row.
   */
  decide(serialIndex: number, claim: Claim, length: SerialLength): CrossRowCode | undefined {
    this.detail = 0;
    if (length === 'short' && !this.hasLeadingZeros) return 'SERIAL_LEADING_ZEROS_LOST';
    const other = this.#others.get(serialIndex);
    if (other !== undefined) {
      // Each row names the other party: the first user's rows the second claimant, other rows the first.
      const key = serialIndex * 2 + (claim === OTHER_USER ? 1 : 0);
      let party = this.#partyOf.get(key);
      if (party === undefined) {
        const [user, line] =
          claim === OTHER_USER ? [this.#firstUser[serialIndex] ?? 0, this.#firstLine[serialIndex] ?? 0] : other;
        party = this.parties.add(this.#users.read(user), line);
        this.#partyOf.set(key, party);
      }
      this.detail = party;
      return 'CONFLICTING_ROW';
    }
    if (claim === SAME_USER) {
      this.detail = this.#firstLine[serialIndex] ?? 0;
      return 'DUPLICATE_ROW';
    }
    const devices = this.#devicesOf(this.#firstUser[serialIndex] ?? 0);
    if (devices > MAX_DS100_PER_USER) {
      this.detail = devices;
      return 'TOO_MANY_DEVICES';
    }
    return length === 'expected' ? undefined : 'SERIAL_LENGTH';
  }
}
