import { spawn } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  compactLedger,
  decodeRecord,
  encodeRecord,
  LEDGER_HEADER,
  LedgerWriter,
  loadLedger,
  pairKey,
  shouldCompact,
  type LedgerEntry,
} from '../../src/state/ledger.js';
import { tempDir } from '../helpers/temp-dir.js';
import { CAN_MOUNT, fill, remount, tinyDisk, unmountAll } from '../helpers/tiny-disk.js';

afterEach(unmountAll);

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';
const entry = (serial: string, outcome = 'enabled', at = '2026-11-22T01:00:00.000Z'): LedgerEntry => ({
  deviceSerialNumber: serial,
  userId: USER,
  outcome,
  tokenSerialNumber: outcome === 'enabled' ? `0${serial}31` : undefined,
  at,
});

function writeLedger(path: string, entries: readonly LedgerEntry[]): void {
  const writer = LedgerWriter.open(path, loadLedger(path));
  for (const each of entries) writer.append(each);
  writer.close();
}

describe('ledger records', () => {
  it('round-trip as one human-readable line of JSON and a CRC', () => {
    const line = encodeRecord(entry('140100080'));
    expect(line).toMatch(
      /^\{"deviceSerialNumber":"140100080","userId":"[^"]+","outcome":"enabled",.*\}\t[0-9a-f]{8}\n$/,
    );
    expect(decodeRecord(line.trimEnd())).toEqual(entry('140100080'));
  });

  it.each([
    ['a record without a pair', { userId: USER, outcome: 'enabled', at: 'x' }],
    ['a record without an outcome', { deviceSerialNumber: '1', userId: USER, at: 'x' }],
    ['a record that is not JSON', '{"deviceSerialNumber":'],
  ])('are never misread: %s is rejected even with a matching checksum', (_, value) => {
    const json = typeof value === 'string' ? value : JSON.stringify(value);
    expect(decodeRecord(`${json}\t${crc32(json).toString(16).padStart(8, '0')}`)).toBeUndefined();
  });

  it.each([
    ['a torn line', (line: string) => line.slice(0, 40)],
    ['a changed character', (line: string) => line.replace('140100080', '140100081')],
    ['a missing checksum', (line: string) => line.split('\t')[0]!],
  ])('are never misread: %s is rejected', (_, damage) => {
    expect(decodeRecord(damage(encodeRecord(entry('140100080')).trimEnd()))).toBeUndefined();
  });
});

describe('loadLedger', () => {
  it('treats a missing file as empty', () => {
    expect(loadLedger(join(tempDir(), 'none.state')).entries.size).toBe(0);
  });

  it('keeps the latest record of each pair', () => {
    const path = join(tempDir(), 'run.state');
    writeLedger(path, [entry('1', 'not-registered'), entry('2'), entry('1', 'enabled')]);
    const loaded = loadLedger(path);
    expect(readFileSync(path, 'utf8').startsWith(`${LEDGER_HEADER}\n`)).toBe(true);
    expect(loaded.records).toBe(3);
    expect(loaded.entries.get(pairKey(entry('1')))?.outcome).toBe('enabled');
    expect(loaded.ignoredLines).toBe(0);
  });

  it('ignores a torn last record, and the next writer starts on a fresh line', () => {
    const path = join(tempDir(), 'run.state');
    writeLedger(path, [entry('1')]);
    appendFileSync(path, encodeRecord(entry('2')).slice(0, 30));
    const torn = loadLedger(path);
    expect([torn.entries.size, torn.ignoredLines, torn.endsCleanly]).toEqual([1, 1, false]);
    writeLedger(path, [entry('3')]);
    const after = loadLedger(path);
    expect([...after.entries.keys()]).toEqual([pairKey(entry('1')), pairKey(entry('3'))]);
    expect(after.ignoredLines).toBe(1);
  });

  it('loads back every record of a long run, across the periodic syncs', () => {
    const path = join(tempDir(), 'run.state');
    writeLedger(
      path,
      Array.from({ length: 600 }, (_, index) => entry(String(140_100_000 + index))),
    );
    expect(loadLedger(path)).toMatchObject({ records: 600, ignoredLines: 0, endsCleanly: true });
  });

  it('refuses a file that is not a ledger, so a mistyped --state cannot damage it', () => {
    const path = join(tempDir(), 'results.csv');
    writeFileSync(path, 'line,deviceSerialNumber\n2,140100080\n');
    expect(() => loadLedger(path)).toThrow(`${path}: line 1: not a ds100-bulk state file`);
  });
});

describe('compactLedger', () => {
  it('keeps only the latest record per pair, and the result loads the same', () => {
    const path = join(tempDir(), 'run.state');
    const history = Array.from({ length: 30 }, (_, night) =>
      entry(String(night % 3), night < 27 ? 'not-registered' : 'enabled'),
    );
    writeLedger(path, history);
    const before = loadLedger(path);
    compactLedger(path, before.entries);
    const after = loadLedger(path);
    expect(after.records).toBe(3);
    expect(after.entries).toEqual(before.entries);
  });

  it('is due once most records are superseded', () => {
    const entries = new Map([['a', entry('1')]]);
    expect(shouldCompact({ entries, records: 5000, ignoredLines: 0, endsCleanly: true })).toBe(true);
    expect(shouldCompact({ entries, records: 500, ignoredLines: 0, endsCleanly: true })).toBe(false);
  });
});

describe('a ledger written by a process killed with SIGKILL', () => {
  it('loads every complete record and misreads nothing', async () => {
    const path = join(tempDir(), 'killed.state');
    const ledgerModule = fileURLToPath(new URL('../../dist/state/ledger.js', import.meta.url));
    const script = `
      import { LedgerWriter, loadLedger } from ${JSON.stringify(ledgerModule)};
      const writer = LedgerWriter.open(process.argv[1], loadLedger(process.argv[1]));
      for (let i = 0; ; i++) {
        writer.append({ deviceSerialNumber: String(i), userId: 'u', outcome: 'enabled', tokenSerialNumber: '0' + i + '00', at: 'x' });
        if (i === 100) process.stdout.write('ready\\n');
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    const loaded = loadLedger(path);
    expect(loaded.entries.size).toBeGreaterThan(100);
    expect(loaded.ignoredLines).toBeLessThanOrEqual(1);
    // Records were written in order 0, 1, 2 …: every one up to the last is there and intact.
    const serials = [...loaded.entries.values()].map((each) => Number(each.deviceSerialNumber));
    expect(serials).toEqual(serials.map((_, index) => index));
    for (const each of loaded.entries.values()) expect(each.tokenSerialNumber).toBe(`0${each.deviceSerialNumber}00`);
  });
});

describe.skipIf(!CAN_MOUNT)('a ledger on a disk that fills up (skipped unless root: mounts a tmpfs)', () => {
  it('refuses the record that does not fit in words, writes nothing more, and the torn line is ignored on load', () => {
    const disk = tinyDisk();
    const path = join(disk, 'run.state');
    const writer = LedgerWriter.open(path, loadLedger(path));
    fill(disk, 1000);
    let appended = 0;
    let failure: unknown;
    for (; appended < 100; appended++) {
      try {
        writer.append(entry(String(140_100_000 + appended)));
      } catch (error) {
        failure = error;
        break;
      }
    }
    expect(failure).toMatchObject({
      code: 'STATE_FILE',
      message: `cannot write the state file ${path}: the disk is full`,
    });
    expect(writer.failure).toBe(failure);
    // Room again: still nothing more is written after a torn line, and closing does not throw.
    remount(disk, 'size=1m');
    expect(() => writer.append(entry('140199999'))).toThrow(failure as Error);
    expect(() => writer.close()).not.toThrow();
    const loaded = loadLedger(path);
    expect(loaded.entries.size).toBe(appended);
    expect(loaded.ignoredLines).toBe(1);
    expect(loaded.entries.has(pairKey(entry('140199999')))).toBe(false);
    // The next run starts on a new line and adds to what is there.
    writeLedger(path, [entry('140199999')]);
    expect(loadLedger(path).entries.size).toBe(appended + 1);
  });

  it('compacting on a full disk fails in words, leaving the old file whole and no temporary file', () => {
    const disk = tinyDisk();
    const path = join(disk, 'run.state');
    const entries = Array.from({ length: 200 }, (_, index) => entry(String(140_100_000 + index)));
    writeLedger(path, entries);
    const before = readFileSync(path, 'utf8');
    fill(disk, 0);
    expect(() => compactLedger(path, loadLedger(path).entries)).toThrow(
      expect.objectContaining({
        code: 'STATE_FILE',
        message: `cannot compact the state file ${path}: the disk is full`,
      }),
    );
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(readdirSync(disk).toSorted()).toEqual(['filler', 'run.state']);
  });

  it('a new ledger whose header the disk refuses is a STATE_FILE error in words', () => {
    const disk = tinyDisk();
    fill(disk, 0);
    const path = join(disk, 'run.state');
    expect(() => LedgerWriter.open(path, loadLedger(path))).toThrow(
      expect.objectContaining({ code: 'STATE_FILE', message: `cannot write the state file ${path}: the disk is full` }),
    );
  });
});
