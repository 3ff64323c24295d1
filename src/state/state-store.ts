import type { Ds100Error } from '../errors.js';
import { DONE_OUTCOMES, resultOf, type Ds100Pair, type InputRow, type Outcome, type RowResult } from '../types.js';
import { compactLedger, LedgerWriter, loadLedger, pairKey, shouldCompact, type LedgerEntry } from './ledger.js';
import { acquireLock, type HeldLock, type LockHolder } from './lock.js';

// Outcomes worth remembering across runs. `invalid` and `not-attempted` say nothing about the tenant,
// so they leave the pair's last known state as it was. `unknown` is remembered, and since it is not
// enabled, the next `reconcile` looks the pair up and `enable --resume` sends it again.
const RECORDED = new Set([
  'enabled',
  'already-enabled',
  'unchanged',
  'not-registered',
  'conflict',
  'failed',
  'unknown',
  'disabled',
  'already-disabled',
]);

/** The lock file that keeps a second run away from the state file `file`. */
export const lockFileOf = (file: string): string => `${file}.lock`;

/**
 * The state a run keeps next to its `--state` file: the lock (one run at a time), the ledger of each
 * pair's latest outcome, and which pairs of the ledger this run's input still holds (drift).
 */
export class StateStore {
  readonly #lock: HeldLock;
  readonly #entries: Map<string, LedgerEntry>;
  readonly #writer: LedgerWriter;
  readonly #seen = new Set<string>();
  /** Devices of rows with no user ID (see markSeen). */
  readonly #seenDevices = new Set<string>();
  /** The ledger's path, for messages. */
  readonly file: string;
  /** Lines a crash left torn (at most one) or that were corrupt, ignored on load. */
  readonly ignoredLines: number;
  /** The dead run whose lock was taken over, if any. */
  readonly takenOverFrom: LockHolder | undefined;
  #isClosed = false;

  private constructor(
    file: string,
    lock: HeldLock,
    entries: Map<string, LedgerEntry>,
    writer: LedgerWriter,
    ignoredLines: number,
  ) {
    this.file = file;
    this.#lock = lock;
    this.#entries = entries;
    this.#writer = writer;
    this.ignoredLines = ignoredLines;
    this.takenOverFrom = lock.takenOverFrom;
  }

  /** Takes the lock `<file>.lock` (Ds100Error LOCKED if another run holds it), then loads the ledger. */
  static open(file: string): StateStore {
    const lock = acquireLock(lockFileOf(file));
    try {
      let loaded = loadLedger(file);
      if (shouldCompact(loaded)) {
        compactLedger(file, loaded.entries);
        loaded = loadLedger(file);
      }
      return new StateStore(file, lock, loaded.entries, LedgerWriter.open(file, loaded), loaded.ignoredLines);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** The pair's latest recorded entry. */
  get(pair: Ds100Pair): LedgerEntry | undefined {
    return this.#entries.get(pairKey(pair));
  }

  /** Whether the tenant was last seen with this pair's credential enabled. */
  isEnabled(pair: Ds100Pair): boolean {
    return this.get(pair)?.tokenStatus === 'Enabled';
  }

  /**
   * The row's result when the ledger records it as enabled, without any request: `outcome` and a
   * message saying so; undefined when it is not recorded as enabled.
   */
  enabledResult(row: InputRow, outcome: Outcome, message: string): RowResult | undefined {
    return this.#doneResult(row, 'Enabled', outcome, message);
  }

  /** As `enabledResult`, for a pair the ledger records as disabled (by a `disable` run). */
  disabledResult(row: InputRow, outcome: Outcome, message: string): RowResult | undefined {
    return this.#doneResult(row, 'Disabled', outcome, message);
  }

  #doneResult(row: InputRow, status: 'Enabled' | 'Disabled', outcome: Outcome, message: string): RowResult | undefined {
    const entry = this.get(row);
    // The outcome is asked, not only the status: a `conflict` carries another user's credential's
    // status, and an enable run's entry must never read as done to a disable run resumed on the same
    // ledger, nor the other way round (the last entry per pair wins).
    if (entry?.tokenStatus !== status || !DONE_OUTCOMES[status].has(entry.outcome)) return undefined;
    return resultOf(row, {
      outcome,
      attempts: 0,
      token: {
        tokenSerialNumber: entry.tokenSerialNumber ?? '',
        tokenStatus: status,
        tokenStatusChangedAt: '',
        tokenStatusChangedBy: '',
      },
      errorMessage: `${message} (${entry.at})`,
    });
  }

  /**
   * Notes that the input holds this pair, valid or not, so that it is not reported as removed. A row
   * that names its user by an address not looked up (yet: the run stopped first, or the address is
   * unknown) has no user ID: it counts for every pair of its device, rather than have the ledger's
   * pair reported as gone from the input when it is not.
   */
  markSeen(pair: Ds100Pair): void {
    if (pair.userId === '') this.#seenDevices.add(pair.deviceSerialNumber);
    else this.#seen.add(pairKey(pair));
  }

  /**
   * Appends the row's outcome as soon as it is known (before the results line is written). Rows
   * settled from the ledger itself (no request sent) taught nothing new and are not written again.
   * Throws a Ds100Error STATE_FILE (naming the file and the reason) when the record cannot be
   * written; after that, nothing more is written to the ledger.
   */
  record(result: RowResult): void {
    // Closed early (a second Ctrl-C): rows still in flight are not recorded, as if the process had gone.
    if (this.#isClosed || !RECORDED.has(result.outcome) || result.attempts === 0) return;
    const entry: LedgerEntry = {
      deviceSerialNumber: result.deviceSerialNumber,
      userId: result.userId,
      outcome: result.outcome,
      errorCode: result.errorCode,
      tokenSerialNumber: result.token?.tokenSerialNumber,
      tokenStatus: result.token?.tokenStatus,
      at: new Date().toISOString(),
    };
    this.#writer.append(entry);
    this.#entries.set(pairKey(entry), entry);
  }

  /** The first write to the ledger that failed, if any. */
  get failure(): Ds100Error | undefined {
    return this.#writer.failure;
  }

  /** Puts what was recorded on the disk; throws a Ds100Error STATE_FILE as `record` does. */
  sync(): void {
    if (!this.#isClosed) this.#writer.sync();
  }

  /** Pairs in the ledger that this run's input no longer holds: drift for a human to look at. */
  removedFromInput(): LedgerEntry[] {
    return [...this.#entries.entries()]
      .filter(([key, entry]) => !this.#seen.has(key) && !this.#seenDevices.has(entry.deviceSerialNumber))
      .map(([, entry]) => entry);
  }

  /** Syncs and closes the ledger, then releases the lock. Later calls do nothing. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    try {
      this.#writer.close();
    } finally {
      this.#lock.release();
    }
  }
}
