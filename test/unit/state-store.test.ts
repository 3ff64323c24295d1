import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeRecord, LEDGER_HEADER, loadLedger, type LedgerEntry } from '../../src/state/ledger.js';
import { StateStore } from '../../src/state/state-store.js';
import type { InputRow, RowResult } from '../../src/types.js';
import { tempDir } from '../helpers/temp-dir.js';
import { CAN_MOUNT, fill, tinyDisk, unmountAll } from '../helpers/tiny-disk.js';

afterEach(unmountAll);

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';
const row = (serial: string): InputRow => ({ deviceSerialNumber: serial, userId: USER, line: 2, carried: [] });
const result = (serial: string, outcome: RowResult['outcome'], attempts = 1): RowResult => ({
  ...row(serial),
  outcome,
  attempts,
  token:
    outcome === 'enabled'
      ? {
          tokenSerialNumber: `0${serial}31`,
          tokenStatus: 'Enabled',
          tokenStatusChangedAt: '',
          tokenStatusChangedBy: '',
        }
      : undefined,
});

describe('StateStore', () => {
  it('records what the tenant said, answers from the ledger, and reports pairs no longer in the input', () => {
    const file = join(tempDir(), 'run.state');
    const first = StateStore.open(file);
    first.record(result('140100001', 'enabled'));
    first.record(result('140100002', 'not-registered'));
    // Nothing learnt about the tenant: not recorded.
    first.record(result('140100003', 'invalid', 0));
    first.record(result('140100004', 'not-attempted', 0));
    first.close();
    expect([...loadLedger(file).entries.values()].map((entry) => [entry.deviceSerialNumber, entry.outcome])).toEqual([
      ['140100001', 'enabled'],
      ['140100002', 'not-registered'],
    ]);

    const next = StateStore.open(file);
    try {
      expect(next.isEnabled(row('140100001'))).toBe(true);
      expect(next.isEnabled(row('140100002'))).toBe(false);
      expect(next.enabledResult(row('140100002'), 'unchanged', 'enabled before')).toBeUndefined();
      const settled = next.enabledResult(row('140100001'), 'unchanged', 'enabled before');
      expect(settled).toMatchObject({
        outcome: 'unchanged',
        attempts: 0,
        token: { tokenSerialNumber: '014010000131', tokenStatus: 'Enabled' },
        errorMessage: expect.stringMatching(/^enabled before \(\d{4}-\d\d-\d\dT/),
      });
      // A row settled from the ledger is not written again.
      next.record(settled!);
      next.markSeen(row('140100001'));
      expect(next.removedFromInput().map((entry) => entry.deviceSerialNumber)).toEqual(['140100002']);
      // A row of an address not looked up (the run stopped first) has no user ID: its device counts as seen.
      next.markSeen({ deviceSerialNumber: '140100002', userId: '' });
      expect(next.removedFromInput()).toEqual([]);
    } finally {
      next.close();
    }
    expect(loadLedger(file).records).toBe(2);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('compacts a ledger that is mostly superseded records when it is opened', () => {
    const file = join(tempDir(), 'run.state');
    const entry = (night: number): LedgerEntry => ({
      deviceSerialNumber: String(140_100_000 + (night % 10)),
      userId: USER,
      outcome: 'not-registered',
      at: `2026-11-${String(1 + (night % 28)).padStart(2, '0')}T01:00:00.000Z`,
    });
    const records = Array.from({ length: 1200 }, (_, night) => encodeRecord(entry(night)));
    writeFileSync(file, `${LEDGER_HEADER}\n${records.join('')}`);
    StateStore.open(file).close();
    const compacted = loadLedger(file);
    expect([compacted.records, compacted.entries.size]).toEqual([10, 10]);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(11);
  });

  it('lets go of the lock when the ledger cannot be opened', () => {
    const dir = tempDir();
    const notALedger = join(dir, 'results.csv');
    writeFileSync(notALedger, 'line,deviceSerialNumber\n2,140100080\n');
    expect(() => StateStore.open(notALedger)).toThrow(/not a ds100-bulk state file/);
    expect(existsSync(`${notALedger}.lock`)).toBe(false);
    const aFolder = join(dir, 'folder.state');
    mkdirSync(aFolder);
    expect(() => StateStore.open(aFolder)).toThrow(
      expect.objectContaining({ code: 'STATE_FILE', message: expect.stringMatching(/cannot read the state file/) }),
    );
    expect(existsSync(`${aFolder}.lock`)).toBe(false);
  });

  it('cannot lock a state file in a folder that does not exist', () => {
    const file = join(tempDir(), 'no-such-folder', 'run.state');
    expect(() => StateStore.open(file)).toThrow(
      expect.objectContaining({ code: 'STATE_FILE', message: expect.stringMatching(/cannot create the lock file/) }),
    );
  });
});

describe.skipIf(!CAN_MOUNT)('StateStore on a disk that fills up (skipped unless root: mounts a tmpfs)', () => {
  it('a record the disk refuses is a STATE_FILE error naming the file; the store still closes and unlocks', () => {
    const disk = tinyDisk();
    const file = join(disk, 'run.state');
    const store = StateStore.open(file);
    store.record(result('140100001', 'enabled'));
    fill(disk, 0);
    let failure: unknown;
    for (let index = 2; index < 100 && !failure; index++) {
      try {
        store.record(result(String(140_100_000 + index), 'enabled'));
      } catch (error) {
        failure = error;
      }
    }
    expect(failure).toMatchObject({
      code: 'STATE_FILE',
      message: `cannot write the state file ${file}: the disk is full`,
    });
    expect(store.failure).toBe(failure);
    expect(() => store.sync()).toThrow(failure as Error);
    expect(() => store.close()).not.toThrow();
    expect(existsSync(`${file}.lock`)).toBe(false);
    expect(loadLedger(file).entries.has('140100001|' + USER)).toBe(true);
  });
});
