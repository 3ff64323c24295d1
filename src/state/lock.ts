import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Ds100Error } from '../errors.js';

/** What a lock file says about its holder. */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  readonly startedAt: string;
}

export interface HeldLock {
  readonly path: string;
  /** The dead run whose lock was taken over, if any (worth a warning in the log). */
  readonly takenOverFrom: LockHolder | undefined;
  release(): void;
}

export interface LockOptions {
  /** Whether a process of this host is alive; injected by tests. */
  readonly isAlive?: (pid: number) => boolean;
  readonly hostname?: string;
  /** A lock file that cannot be read is only presumed abandoned after this long (a holder may be writing it). */
  readonly unreadableGraceMs?: number;
}

const processIsAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, so it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function readHolder(path: string): LockHolder | undefined {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof value.pid === 'number' && typeof value.hostname === 'string' && typeof value.startedAt === 'string') {
      return value as LockHolder;
    }
  } catch {
    // unreadable: handled by the caller
  }
  return undefined;
}

/**
 * Takes the lock file `path` (conventionally `<state file>.lock`), created exclusively so that two
 * runs can never both hold it. A lock whose holder is a dead process on this host is taken over; a
 * lock held from another host cannot be checked and is respected.
 */
export function acquireLock(path: string, options: LockOptions = {}): HeldLock {
  const isAlive = options.isAlive ?? processIsAlive;
  const host = options.hostname ?? hostname();
  const me: LockHolder = { pid: process.pid, hostname: host, startedAt: new Date().toISOString() };
  let takenOverFrom: LockHolder | undefined;

  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${JSON.stringify(me)}\n`, { flag: 'wx' });
      return {
        path,
        takenOverFrom,
        release: () => {
          const holder = readHolder(path);
          if (holder?.pid === me.pid && holder.startedAt === me.startedAt) unlinkSync(path);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new Ds100Error('STATE_FILE', `${path}: cannot create the lock file: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    const holder = readHolder(path);
    const isStale = holder
      ? holder.hostname === host && !isAlive(holder.pid)
      : ageMs(path) > (options.unreadableGraceMs ?? 10_000);
    if (!isStale) {
      const who = holder
        ? `process ${holder.pid} on ${holder.hostname}, since ${holder.startedAt}`
        : 'a run whose lock file is still being written';
      throw new Ds100Error(
        'LOCKED',
        `${path}: another run holds the lock (${who}); if you are sure it is gone, delete the lock file`,
      );
    }
    takenOverFrom = holder;
    // Move the stale lock aside rather than deleting it: if two runs race to take it over, only one
    // rename succeeds, and the loser goes round again and finds the winner's live lock.
    try {
      renameSync(path, `${path}.stale-${process.pid}`);
      unlinkSync(`${path}.stale-${process.pid}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new Ds100Error('LOCKED', `${path}: could not take the lock after several tries; another run is starting`);
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
