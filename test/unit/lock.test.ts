import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/state/lock.js';
import { tempDir } from '../helpers/temp-dir.js';

const lockPath = (): string => join(tempDir(), 'run.state.lock');

describe('acquireLock', () => {
  it('records the holder and removes the file on release', () => {
    const path = lockPath();
    const lock = acquireLock(path);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a second run while the first is alive, naming the holder', () => {
    const path = lockPath();
    const first = acquireLock(path);
    expect(() => acquireLock(path)).toThrow(new RegExp(`another run holds the lock \\(process ${process.pid} on `));
    first.release();
    acquireLock(path).release();
  });

  it('takes over a lock left by a dead process on this host', () => {
    const path = lockPath();
    writeFileSync(path, JSON.stringify({ pid: 999_999, hostname: 'box', startedAt: '2026-11-21T01:00:00Z' }));
    const lock = acquireLock(path, { hostname: 'box', isAlive: () => false });
    expect(lock.takenOverFrom).toEqual({ pid: 999_999, hostname: 'box', startedAt: '2026-11-21T01:00:00Z' });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid, hostname: 'box' });
    lock.release();
  });

  it('respects a lock held from another host, which it cannot check', () => {
    const path = lockPath();
    writeFileSync(path, JSON.stringify({ pid: 1, hostname: 'other-box', startedAt: '2026-11-21T01:00:00Z' }));
    expect(() => acquireLock(path, { hostname: 'box', isAlive: () => false })).toThrow(/process 1 on other-box/);
  });

  it('waits out a grace period before presuming an unreadable lock abandoned', () => {
    const path = lockPath();
    writeFileSync(path, '{"pid":');
    expect(() => acquireLock(path)).toThrow(/still being written/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    acquireLock(path).release();
  });

  it('does not remove a lock that another run has since taken', () => {
    const path = lockPath();
    const lock = acquireLock(path);
    writeFileSync(path, JSON.stringify({ pid: 4242, hostname: 'box', startedAt: 'later' }));
    lock.release();
    expect(existsSync(path)).toBe(true);
  });
});
