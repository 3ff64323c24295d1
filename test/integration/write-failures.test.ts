import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, Ds100Error, enable, exitCodeFor, runSession, type EnableOptions } from '../../src/index.js';
import { loadLedger } from '../../src/state/ledger.js';
import { StateStore } from '../../src/state/state-store.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { countBy, readResults } from '../helpers/results.js';
import {
  FAST_RETRY,
  registryOf,
  startTestSimulator,
  tenantOf,
  rowCalls,
  PREFLIGHT_REQUESTS,
  simulatedEnable,
} from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';
import { CAN_MOUNT, fill, remount, tinyDisk, unmountAll } from '../helpers/tiny-disk.js';

// A write the kernel refuses mid-run stops the run like a breaker does (OUTPUT_FAILED, exit 7), and
// every row sent is still recorded somewhere. /dev/full refuses every write without root; a tiny
// tmpfs fills up half-way through a run, which needs root to mount.

afterEach(unmountAll);

const ROWS = 300;
const CONCURRENCY = 4;
const PAIRS = somePairs(ROWS);

/**
 * A logger that notes when the run first reported a failed output (performance.now(), the clock of
 * the simulator's call log), so that requests started after it can be told apart.
 */
function failureClock() {
  let failedAt: number | undefined;
  const logger = pino(
    { level: 'warn' },
    {
      write: (line: string) => {
        if (failedAt === undefined && line.includes('"msg":"an output cannot be written"'))
          failedAt = performance.now();
      },
    },
  );
  return { logger, failedAt: () => failedAt };
}

async function setUp() {
  const simulator = await startTestSimulator({ registry: registryOf(PAIRS) });
  const dir = tempDir();
  const input = writeFile(dir, 'in.csv', pairsCsv(PAIRS));
  const run = (options: Partial<EnableOptions> & { out: string }) =>
    enable({
      input,
      ...tenantOf(simulator),
      rate: 100_000,
      concurrency: CONCURRENCY,
      retryPolicy: FAST_RETRY,
      ...options,
    });
  return { simulator, dir, input, run };
}

/** Enable calls per serial, from the simulator's call log. */
const enablesBySerial = (simulator: RunningSimulator): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const call of simulator.calls) {
    if (call.path.endsWith('/enable/otp') && call.serial) counts.set(call.serial, (counts.get(call.serial) ?? 0) + 1);
  }
  return counts;
};

const enabledOnTenant = (simulator: RunningSimulator): string[] =>
  PAIRS.filter((pair) => simulator.registry.get(pair.deviceSerialNumber)?.tokenStatus === 'Enabled').map(
    (pair) => pair.deviceSerialNumber,
  );

/** The complete data lines of a results file a full disk cut short (the last one may be torn). */
const completeRows = (path: string): string[] => {
  const lines = readFileSync(path, 'utf8').split('\n');
  return lines.slice(1, -1);
};

describe('a results file that cannot take a line', () => {
  it('/dev/full: the run is refused before any request, naming the file and the reason', async () => {
    const { simulator, run } = await setUp();
    const error = await run({ out: '/dev/full' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Ds100Error);
    expect(error).toMatchObject({
      code: 'OUTPUT_FILE',
      message: 'cannot write the results file /dev/full: the disk is full',
    });
    expect(rowCalls(simulator)).toHaveLength(0); // the read-only preflight lookup aside
  });

  it('a log file on /dev/full stops the run at once (exit 7); the results still hold every row', async () => {
    const { simulator, dir, run } = await setUp();
    const out = join(dir, 'r.csv');
    const summary = await run({ out, logger: createLogger({ level: 'info', file: '/dev/full' }) });
    expect(exitCodeFor(summary)).toBe(7);
    expect(summary.stopped?.code).toBe('OUTPUT_FAILED');
    expect(summary.stopped?.message).toBe(
      `cannot write the log file /dev/full: the disk is full; the results file ${out} holds every row; ` +
        'free space and run again (a row enabled already is enabled again, which changes nothing on the tenant)',
    );
    expect(summary.byOutcome).toEqual({ 'not-attempted': ROWS });
    expect(rowCalls(simulator)).toHaveLength(0); // the read-only preflight lookup aside
    const results = readResults(out);
    expect(results).toHaveLength(ROWS);
    expect(countBy(results, 'errorCode')).toEqual({ OUTPUT_FAILED: ROWS });
    expect(results[0]!['errorMessage']).toBe(
      'cannot write the log file /dev/full: the disk is full; the run stopped before this row was sent',
    );
  });
});

describe('a summary JSON that cannot be written at the end', () => {
  it('keeps the run outcome (exit 1 stays 1, 0 becomes 7), names the file and leaves no .tmp', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv(PAIRS.slice(0, 3)));
    const tenant = writeFile(dir, 'tenant.csv', pairsCsv(PAIRS.slice(0, 2)));
    // A folder in its place: the temporary file is written, the rename over it fails.
    const summaryJson = join(dir, 'summary.json');
    mkdirSync(summaryJson);
    writeFile(summaryJson, 'keep', 'x');
    const session = {
      ...simulatedEnable(input, join(dir, 'r.csv')),
      summaryJson,
    } as const;

    const finished = await runSession(session);
    expect(finished.summary.byOutcome).toEqual({ enabled: 3 });
    expect(finished.exitCode).toBe(7);
    expect(finished.summaryJsonFailure).toBe(`cannot write the summary file ${summaryJson}: it is a directory`);
    expect(existsSync(`${summaryJson}.tmp-${process.pid}`)).toBe(false);

    const someFailed = await runSession({ ...session, simulateTenant: tenant });
    expect(someFailed.summary.byOutcome).toEqual({ enabled: 2, failed: 1 });
    expect(someFailed.exitCode).toBe(1);
    expect(someFailed.summaryJsonFailure).toMatch(/^cannot write the summary file /);
  });
});

describe.skipIf(!CAN_MOUNT)('a disk that fills up mid-run (skipped unless root: mounts a tmpfs)', () => {
  it('results: the run stops, the state file holds every row sent, --resume enables the rest once', async () => {
    const { simulator, dir, run } = await setUp();
    const disk = tinyDisk();
    fill(disk, 4096);
    const out = join(disk, 'r.csv');
    const stateFile = join(dir, 's.state');
    const clock = failureClock();
    // The undo file off the tiny disk: this is about the results file filling it.
    const undoFile = join(dir, 'r.undo.csv');

    const state = StateStore.open(stateFile);
    const summary = await run({ out, state, logger: clock.logger, undoFile }).finally(() => state.close());
    expect(exitCodeFor(summary)).toBe(7);
    expect(summary.stopped?.code).toBe('OUTPUT_FAILED');
    const written = completeRows(out);
    expect(written.length).toBeGreaterThan(0);
    expect(summary.stopped?.message).toBe(
      `cannot write the results file ${out}: the disk is full; the results file ${out} holds ${written.length} rows, ` +
        `the state file ${stateFile} every row that was sent; free space and run again with --resume`,
    );
    // Every row is counted; the ones not sent are not-attempted, and no request started after the failure
    // but the few already in flight.
    const sent = summary.byOutcome.enabled ?? 0;
    expect(sent + (summary.byOutcome['not-attempted'] ?? 0)).toBe(ROWS);
    expect(summary.byErrorCode.OUTPUT_FAILED).toBeGreaterThan(0);
    expect(summary.requests).toBe(simulator.calls.length);
    const failedAt = clock.failedAt()!;
    expect(simulator.calls.filter((call) => call.at > failedAt).length).toBeLessThanOrEqual(CONCURRENCY);
    // What the tenant enabled is in the state file, all of it.
    const ledger = loadLedger(stateFile).entries;
    const enabled = enabledOnTenant(simulator);
    expect(enabled).toHaveLength(sent);
    const recorded = new Set([...ledger.values()].map((entry) => entry.deviceSerialNumber));
    expect(enabled.filter((serial) => !recorded.has(serial))).toEqual([]);

    // Room again: --resume sends only what the first run did not, and never a pair twice.
    remount(disk, 'size=4m');
    const again = StateStore.open(stateFile);
    const resumed = await run({ out, state: again, resume: true, undoFile }).finally(() => again.close());
    expect(exitCodeFor(resumed)).toBe(0);
    expect(resumed.byOutcome).toEqual({ enabled: ROWS });
    expect(resumed.requests).toBe(ROWS - sent + PREFLIGHT_REQUESTS);
    expect(enabledOnTenant(simulator)).toHaveLength(ROWS);
    expect([...enablesBySerial(simulator).values()].every((count) => count === 1)).toBe(true);
    expect(readResults(out)).toHaveLength(ROWS);
  });

  it('results without a state file: rows the results lack are in the log', async () => {
    const { simulator, dir, run } = await setUp();
    const disk = tinyDisk();
    fill(disk, 4096);
    const out = join(disk, 'r.csv');
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const summary = await run({ out, logger, undoFile: join(dir, 'r.undo.csv') });
    expect(summary.stopped?.message).toMatch(
      /holds \d+ rows, the rows sent after that are in the log; free space and run again \(a row enabled already/,
    );
    const inResults = new Set(completeRows(out).map((line) => line.split(',')[1]));
    const logged = new Set(
      lines.filter((line) => line['msg'] === 'row not in the results').map((line) => line['deviceSerialNumber']),
    );
    const enabled = enabledOnTenant(simulator);
    expect(logged.size).toBeGreaterThan(0);
    expect(enabled.filter((serial) => !inResults.has(serial) && !logged.has(serial))).toEqual([]);
  });

  it('state file: the run stops, the results hold every row, --resume re-sends only rows the state file lacks', async () => {
    const { simulator, dir, run } = await setUp();
    const disk = tinyDisk();
    const stateFile = join(disk, 's.state');
    const out = join(dir, 'r.csv');
    const clock = failureClock();
    const state = StateStore.open(stateFile);
    fill(disk, 4096);
    const summary = await run({ out, state, logger: clock.logger }).finally(() => state.close());
    expect(exitCodeFor(summary)).toBe(7);
    expect(summary.stopped?.message).toBe(
      `cannot write the state file ${stateFile}: the disk is full; the results file ${out} holds every row, ` +
        `the state file ${stateFile} holds the rows recorded before that, the results are the record of this run; ` +
        'free space and run again with --resume (rows the state file lacks are sent again, which changes nothing ' +
        'for those enabled already)',
    );
    const failedAt = clock.failedAt()!;
    expect(simulator.calls.filter((call) => call.at > failedAt).length).toBeLessThanOrEqual(CONCURRENCY);
    // The results hold every row, the rows the state file missed included.
    const results = readResults(out);
    expect(results).toHaveLength(ROWS);
    const enabledInResults = results
      .filter((row) => row['outcome'] === 'enabled')
      .map((row) => row['deviceSerialNumber']);
    expect(enabledInResults.toSorted()).toEqual(enabledOnTenant(simulator).toSorted());
    const loaded = loadLedger(stateFile);
    const recorded = new Set([...loaded.entries.values()].map((entry) => entry.deviceSerialNumber));
    expect(recorded.size).toBeLessThan(enabledInResults.length);

    remount(disk, 'size=4m');
    const before = enablesBySerial(simulator);
    const again = StateStore.open(stateFile);
    const resumed = await run({ out: join(dir, 'r2.csv'), state: again, resume: true }).finally(() => again.close());
    expect(exitCodeFor(resumed)).toBe(0);
    expect(enabledOnTenant(simulator)).toHaveLength(ROWS);
    // Sent twice: only rows the first run enabled after the state file failed.
    const twice = [...enablesBySerial(simulator)].filter(([, count]) => count > 1).map(([serial]) => serial);
    expect(twice.every((serial) => before.has(serial) && !recorded.has(serial))).toBe(true);
  });

  it('a summary JSON that cannot be written: the run outcome stands, the file is named, no .tmp is left', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv(PAIRS.slice(0, 5)));
    const disk = tinyDisk();
    const summaryJson = join(disk, 'summary.json');
    fill(disk, 0);
    const result = await runSession({
      ...simulatedEnable(input, join(dir, 'r.csv')),
      summaryJson,
    });
    expect(result.summary.byOutcome).toEqual({ enabled: 5 });
    expect(result.exitCode).toBe(7);
    expect(result.summaryJsonFailure).toBe(`cannot write the summary file ${summaryJson}: the disk is full`);
    expect(existsSync(`${summaryJson}.tmp-${process.pid}`)).toBe(false);

    remount(disk, 'ro');
    const readOnly = await runSession({
      ...simulatedEnable(input, join(dir, 'r.csv')),
      summaryJson,
    });
    expect(readOnly.summaryJsonFailure).toBe(
      `cannot write the summary file ${summaryJson}: the file system is read-only`,
    );
  });

  it('a results file on a read-only file system is refused before any request', async () => {
    const { simulator, run } = await setUp();
    const disk = tinyDisk();
    remount(disk, 'ro');
    const out = join(disk, 'r.csv');
    await expect(run({ out })).rejects.toMatchObject({
      code: 'OUTPUT_FILE',
      message: `cannot write the results file ${out}: the file system is read-only`,
    });
    expect(rowCalls(simulator)).toHaveLength(0); // the read-only preflight lookup aside
  });
});
