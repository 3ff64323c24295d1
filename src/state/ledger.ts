import { closeSync, fdatasyncSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { describeWriteError, Ds100Error } from '../errors.js';
import type { Ds100Pair } from '../types.js';

/**
 * The state ledger: what the tool last did for each device/user pair, kept across runs.
 *
 * Format (documented in the README): a text file of lines. The first line is the comment
 * `# ds100-bulk state v1`; every other line is one record, a JSON object, a tab, and the CRC-32 of the
 * JSON in 8 hex digits. Records are only ever appended; the last record for a pair wins.
 *
 * Durability: each record goes to the file in one write() call as its row finishes, so a killed
 * process loses only rows whose records were not yet written (the rows in flight). A crash can tear
 * only the last line; a line without its newline or whose CRC does not match is ignored, never
 * misread. The file is fsynced every few hundred records and on close, against power loss.
 */
export interface LedgerEntry extends Ds100Pair {
  /** The row's outcome in that run, e.g. `enabled`, `not-registered`, `failed`. */
  readonly outcome: string;
  readonly errorCode?: string | undefined;
  readonly tokenSerialNumber?: string | undefined;
  readonly tokenStatus?: string | undefined;
  /** ISO time the outcome was recorded. */
  readonly at: string;
}

export const LEDGER_HEADER = '# ds100-bulk state v1';
const SYNC_EVERY_RECORDS = 256;

export const pairKey = (pair: Ds100Pair): string => `${pair.deviceSerialNumber}|${pair.userId}`;

const checksum = (json: string): string => crc32(json).toString(16).padStart(8, '0');

/** One ledger line, newline included. */
export function encodeRecord(entry: LedgerEntry): string {
  const json = JSON.stringify({
    deviceSerialNumber: entry.deviceSerialNumber,
    userId: entry.userId,
    outcome: entry.outcome,
    errorCode: entry.errorCode || undefined,
    tokenSerialNumber: entry.tokenSerialNumber || undefined,
    tokenStatus: entry.tokenStatus || undefined,
    at: entry.at,
  });
  return `${json}\t${checksum(json)}\n`;
}

/** Reads one line (without its newline); undefined when it is torn or corrupt. */
export function decodeRecord(line: string): LedgerEntry | undefined {
  const tab = line.lastIndexOf('\t');
  if (tab < 0) return undefined;
  const json = line.slice(0, tab);
  if (checksum(json) !== line.slice(tab + 1)) return undefined;
  try {
    const value = JSON.parse(json) as Partial<LedgerEntry>;
    const { deviceSerialNumber, userId, outcome, at } = value;
    if (typeof deviceSerialNumber !== 'string' || typeof userId !== 'string') return undefined;
    if (typeof outcome !== 'string' || typeof at !== 'string') return undefined;
    return value as LedgerEntry;
  } catch {
    return undefined;
  }
}

export interface LoadedLedger {
  /** Latest entry per pair, keyed by `pairKey`. */
  readonly entries: Map<string, LedgerEntry>;
  /** Records read, superseded ones included. */
  readonly records: number;
  /** Lines ignored as torn or corrupt (a crash mid-write leaves at most one, at the end). */
  readonly ignoredLines: number;
  /** Whether the file ends with a newline (a torn last line does not). */
  readonly endsCleanly: boolean;
}

/** Loads a ledger; a missing file is an empty ledger. */
export function loadLedger(path: string): LoadedLedger {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { entries: new Map(), records: 0, ignoredLines: 0, endsCleanly: true };
    }
    throw new Ds100Error('STATE_FILE', `${path}: cannot read the state file: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const lines = text.split('\n');
  const endsCleanly = text.length === 0 || text.endsWith('\n');
  // After a final newline split() leaves one empty string; without it, the last line is torn.
  const last = lines.pop() ?? '';
  // Refuse to treat another file (say a results CSV given by mistake) as state, let alone append to it.
  const first = lines[0] ?? last;
  if (text.length > 0 && !LEDGER_HEADER.startsWith(first) && !decodeRecord(first)) {
    throw new Ds100Error('STATE_FILE', `${path}: line 1: not a ds100-bulk state file (expected "${LEDGER_HEADER}")`);
  }
  const entries = new Map<string, LedgerEntry>();
  let records = 0;
  let ignoredLines = endsCleanly || last === '' ? 0 : 1;
  for (const line of lines) {
    if (line === '' || line.startsWith('#')) continue;
    const entry = decodeRecord(line);
    if (!entry) {
      ignoredLines++;
      continue;
    }
    records++;
    entries.set(pairKey(entry), entry);
  }
  return { entries, records, ignoredLines, endsCleanly };
}

/**
 * Writes all of `text` at the file's end. write() may take only part of it (a disk filling up takes
 * what fits): the rest is written again until the kernel refuses with a reason (ENOSPC …), which is
 * thrown, so that a half-written line is never taken for a written one.
 */
function writeAll(fd: number, text: string): void {
  let rest = Buffer.from(text);
  while (rest.length > 0) rest = rest.subarray(writeSync(fd, rest));
}

const stateFileError = (path: string, doing: string, error: unknown): Ds100Error =>
  new Ds100Error('STATE_FILE', `cannot ${doing} the state file ${path}: ${describeWriteError(error)}`, {
    cause: error,
  });

/**
 * Appends records as rows finish. Not safe for two processes at once: hold the state lock. After a
 * failed write nothing more is written: a later record that fit again (space freed) would follow a
 * torn line and be lost with it; the file keeps every record before the failure.
 */
export class LedgerWriter {
  readonly #fd: number;
  readonly #path: string;
  #unsynced = 0;
  #failure: Ds100Error | undefined;

  private constructor(fd: number, path: string) {
    this.#fd = fd;
    this.#path = path;
  }

  /** Opens for appending; starts a new line first if a crash left the last one torn. */
  static open(path: string, loaded: LoadedLedger): LedgerWriter {
    let fd: number;
    try {
      fd = openSync(path, 'a');
    } catch (error) {
      throw stateFileError(path, 'write', error);
    }
    try {
      if (loaded.records === 0 && loaded.ignoredLines === 0) writeAll(fd, `${LEDGER_HEADER}\n`);
      else if (!loaded.endsCleanly) writeAll(fd, '\n');
    } catch (error) {
      closeSync(fd);
      throw stateFileError(path, 'write', error);
    }
    return new LedgerWriter(fd, path);
  }

  /** The first failed write or sync, if any. */
  get failure(): Ds100Error | undefined {
    return this.#failure;
  }

  /** Throws a Ds100Error STATE_FILE naming the file and the reason when the record cannot be written. */
  append(entry: LedgerEntry): void {
    if (this.#failure) throw this.#failure;
    try {
      writeAll(this.#fd, encodeRecord(entry));
    } catch (error) {
      throw (this.#failure = stateFileError(this.#path, 'write', error));
    }
    if (++this.#unsynced >= SYNC_EVERY_RECORDS) this.sync();
  }

  sync(): void {
    if (this.#failure) throw this.#failure;
    try {
      fdatasyncSync(this.#fd);
    } catch (error) {
      throw (this.#failure = stateFileError(this.#path, 'write', error));
    }
    this.#unsynced = 0;
  }

  /** Syncs (unless a write failed already, which is reported then) and closes. */
  close(): void {
    try {
      if (!this.#failure) this.sync();
    } finally {
      closeSync(this.#fd);
    }
  }
}

/**
 * Rewrites the ledger with only the latest record per pair. Written to a temporary file, synced and
 * renamed over the old one, so a crash leaves either the old file or the new one, never a mix; a
 * failed write (a full disk) leaves the old one and no temporary file.
 */
export function compactLedger(path: string, entries: ReadonlyMap<string, LedgerEntry>): void {
  const temporary = `${path}.compact-${process.pid}`;
  try {
    const fd = openSync(temporary, 'w');
    try {
      writeAll(fd, `${LEDGER_HEADER}\n`);
      for (const entry of entries.values()) writeAll(fd, encodeRecord(entry));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw stateFileError(path, 'compact', error);
  }
  const directory = openSync(dirname(path), 'r');
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
}

/** Compacting pays off once most records are superseded. */
export const shouldCompact = (loaded: LoadedLedger): boolean =>
  loaded.records > 1000 && loaded.records > 2 * loaded.entries.size;
