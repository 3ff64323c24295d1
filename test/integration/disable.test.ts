import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { plan } from '../../src/commands/plan.js';
import { Ds100Error, disable, enable, exitCodeFor, reconcile, runSession } from '../../src/index.js';
import { Registry, type RunningSimulator } from '../../src/simulator/index.js';
import { StateStore } from '../../src/state/state-store.js';
import type { Ds100Pair } from '../../src/types.js';
import { pairsCsv, somePairs, USER_1, USER_2, USER_3 } from '../helpers/input.js';
import { countBy, readResults, UTF8_BOM } from '../helpers/results.js';
import { FAST_RETRY, registryOf, rowCalls, startTestSimulator, tenantOf } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';
import { CAN_MOUNT, fill, tinyDisk, unmountAll } from '../helpers/tiny-disk.js';

afterEach(unmountAll);

const FAST = { rate: 1000, retryPolicy: FAST_RETRY, timeoutMs: 300 };
// Long before any run of these tests: a status this old was not set by the run.
const LONG_AGO = new Date('2025-01-01T00:00:00.000Z');

/** Each registered serial's tokenStatus, to hold the registry against after a run. */
const statuses = (registry: Registry): Record<string, string> =>
  Object.fromEntries(
    [...registry.values()].map((credential) => [credential.deviceSerialNumber, credential.tokenStatus]),
  );

const patches = (simulator: RunningSimulator, action: 'enable' | 'disable') =>
  rowCalls(simulator).filter((call) => call.method === 'PATCH' && call.path.endsWith(`/${action}/otp`));

describe('enable, then disable with its undo file: the tenant is back where it was', () => {
  it('round trip: only what the enable changed is disabled; the pre-enabled credential stays enabled', async () => {
    const registry = new Registry();
    registry.register({ deviceSerialNumber: '140100001', userId: USER_1 });
    registry.register({ deviceSerialNumber: '140100002', userId: USER_2 });
    registry.register({ deviceSerialNumber: '140100003', userId: USER_1 });
    const preEnabled = registry.register({ deviceSerialNumber: '140100004', userId: USER_2 }, LONG_AGO);
    preEnabled.tokenStatus = 'Enabled';
    registry.register({ deviceSerialNumber: '140100005', userId: USER_3 }); // the input names USER_1
    const before = statuses(registry);
    const simulator = await startTestSimulator({ registry });
    const dir = tempDir();
    const input = writeFile(
      dir,
      'shipment.csv',
      [
        'serial,user_id,site',
        `140100001,${USER_1},"Zürich, 3rd floor"`,
        `140100002,${USER_2},Bern`,
        `140100003,${USER_1},Basel`,
        `140100004,${USER_2},pre-enabled`,
        `140100005,${USER_1},other user`,
        '',
      ].join('\n'),
    );

    const enabled = await enable({ input, out: join(dir, 'results.csv'), ...tenantOf(simulator), ...FAST });
    expect(enabled.byOutcome).toEqual({ enabled: 3, 'already-enabled': 1, failed: 1 });
    expect(exitCodeFor(enabled)).toBe(1);
    const undoFile = join(dir, 'results.undo.csv');
    expect(enabled.undo).toEqual({ file: undoFile, linesAdded: 3 });
    const results = readResults(join(dir, 'results.csv'));
    expect(results.find((row) => row['deviceSerialNumber'] === '140100004')).toMatchObject({
      outcome: 'already-enabled',
      errorCode: '',
      errorMessage: 'already enabled since 2025-01-01T00:00:00.000Z; not changed by this run',
    });
    // The input format, with the input's own carried column, so that it is an input itself.
    expect(readFileSync(undoFile, 'utf8')).toBe(
      `${UTF8_BOM}deviceSerialNumber,userId,site\n` +
        `140100001,${USER_1},"Zürich, 3rd floor"\n140100002,${USER_2},Bern\n140100003,${USER_1},Basel\n`,
    );

    const out = join(dir, 'undo-results.csv');
    const disabled = await disable({ input: undoFile, out, ...tenantOf(simulator), ...FAST });
    expect(disabled.byOutcome).toEqual({ disabled: 3 });
    expect(exitCodeFor(disabled)).toBe(0);
    expect(statuses(simulator.registry)).toEqual(before);
    expect(countBy(readResults(out), 'site')).toEqual({ 'Zürich, 3rd floor': 1, Bern: 1, Basel: 1 });
    // Its own undo file lists what it disabled: an input for enable, to take the disable back.
    expect(disabled.undo).toEqual({ file: join(dir, 'undo-results.undo.csv'), linesAdded: 3 });
    expect(readResults(join(dir, 'undo-results.undo.csv')).map((row) => row['deviceSerialNumber'])).toEqual([
      '140100001',
      '140100002',
      '140100003',
    ]);
  });

  it('disable: a credential disabled before the run is already-disabled; one of another user fails NOT_FOUND', async () => {
    const registry = new Registry();
    registry.register({ deviceSerialNumber: '140100001', userId: USER_1 }, LONG_AGO);
    registry.register({ deviceSerialNumber: '140100002', userId: USER_2 }).tokenStatus = 'Enabled';
    registry.register({ deviceSerialNumber: '140100003', userId: USER_3 }).tokenStatus = 'Enabled';
    const simulator = await startTestSimulator({ registry });
    const dir = tempDir();
    const pairs: Ds100Pair[] = [
      { deviceSerialNumber: '140100001', userId: USER_1 },
      { deviceSerialNumber: '140100002', userId: USER_2 },
      { deviceSerialNumber: '140100003', userId: USER_1 },
    ];
    const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
    const summary = await disable({ input, out: join(dir, 'r.csv'), ...tenantOf(simulator), ...FAST });
    expect(summary.byOutcome).toEqual({ 'already-disabled': 1, disabled: 1, failed: 1 });
    expect(summary.byErrorCode).toEqual({ NOT_FOUND: 1 });
    expect(exitCodeFor(summary)).toBe(1);
    expect(readResults(join(dir, 'r.csv')).map((row) => row['outcome'])).toEqual([
      'already-disabled',
      'disabled',
      'failed',
    ]);
    expect(simulator.registry.get('140100003')!.tokenStatus).toBe('Enabled');
    expect(readResults(join(dir, 'r.undo.csv'))).toEqual([{ deviceSerialNumber: '140100002', userId: USER_2 }]);
  });
});

describe('disable --max-changes', () => {
  it('sends at most N disables; the rest are not-attempted MAX_CHANGES_REACHED, exit 5', async () => {
    const pairs = somePairs(5);
    const registry = registryOf(pairs);
    for (const credential of registry.values()) credential.tokenStatus = 'Enabled';
    const simulator = await startTestSimulator({ registry });
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
    const out = join(dir, 'r.csv');
    const summary = await disable({ input, out, ...tenantOf(simulator), ...FAST, maxChanges: 2 });
    expect(summary.byOutcome).toEqual({ disabled: 2, 'not-attempted': 3 });
    expect(summary.byErrorCode).toEqual({ MAX_CHANGES_REACHED: 3 });
    expect(exitCodeFor(summary)).toBe(5);
    expect(patches(simulator, 'disable')).toHaveLength(2);
    const held = readResults(out).filter((row) => row['outcome'] === 'not-attempted');
    expect(held[0]!['errorMessage']).toBe('not sent: --max-changes 2 disable requests were sent in this run');
    expect(readResults(join(dir, 'r.undo.csv'))).toHaveLength(2);
  });
});

describe('a disable whose answer was lost is settled by a lookup', () => {
  it('a reset after the change: disabled, confirmed by the lookup, sent once', async () => {
    const [pair] = somePairs(1);
    const registry = registryOf([pair!]);
    registry.get(pair!.deviceSerialNumber)!.tokenStatus = 'Enabled';
    const simulator = await startTestSimulator({
      registry,
      faults: new Map([[pair!.deviceSerialNumber, [{ kind: 'resetAfterChange' }]]]),
    });
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv([pair!]));
    const summary = await disable({ input, out: join(dir, 'r.csv'), ...tenantOf(simulator), ...FAST });
    expect(summary.byOutcome).toEqual({ disabled: 1 });
    const [result] = readResults(join(dir, 'r.csv'));
    expect(result).toMatchObject({ outcome: 'disabled', tokenStatus: 'Disabled', attempts: '2' });
    expect(result!['errorMessage']).toMatch(
      /^the answer was lost \(.*\); a lookup confirmed the credential is disabled$/,
    );
    expect(rowCalls(simulator).map((call) => [call.method, call.changed])).toEqual([
      ['PATCH', true],
      ['POST', false],
    ]);
    expect(readResults(join(dir, 'r.undo.csv'))).toHaveLength(1);
  });
});

describe('disable --state --resume', () => {
  it('an enable run’s ledger never marks a row done for disable; a disable run’s does', async () => {
    const pairs = somePairs(3);
    const simulator = await startTestSimulator({ registry: registryOf(pairs) });
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
    const stateFile = join(dir, 's.state');
    const withState = async <T>(act: (state: StateStore) => Promise<T>): Promise<T> => {
      const state = StateStore.open(stateFile);
      return act(state).finally(() => state.close());
    };
    const tenant = { ...tenantOf(simulator), ...FAST };
    await withState((state) => enable({ input, out: join(dir, 'e.csv'), state, ...tenant }));
    const undoFile = join(dir, 'e.undo.csv');
    const first = await withState((state) =>
      disable({ input: undoFile, out: join(dir, 'd.csv'), state, resume: true, ...tenant }),
    );
    expect(first.byOutcome).toEqual({ disabled: 3 });
    expect(patches(simulator, 'disable')).toHaveLength(3);
    const again = await withState((state) =>
      disable({ input: undoFile, out: join(dir, 'd2.csv'), state, resume: true, ...tenant }),
    );
    expect(again.byOutcome).toEqual({ disabled: 3 });
    expect(patches(simulator, 'disable')).toHaveLength(3);
    expect(readResults(join(dir, 'd2.csv'))[0]!['errorMessage']).toMatch(/^disabled by an earlier run; not sent again/);
    // Settled from the ledger, not changed by this run: not in this run's undo file.
    expect(again.undo?.linesAdded).toBe(0);
    // And enable --resume on the same ledger sends them again: they are disabled now.
    const back = await withState((state) =>
      enable({ input, out: join(dir, 'e2.csv'), state, resume: true, ...tenant }),
    );
    expect(back.byOutcome).toEqual({ enabled: 3 });
    expect(patches(simulator, 'enable')).toHaveLength(6);
  });
});

describe('the undo file across runs', () => {
  it('appends to an undo file with the same header; refuses one with another before anything is sent', async () => {
    const pairs = somePairs(2);
    const simulator = await startTestSimulator({ registry: registryOf(pairs) });
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
    const undoFile = writeFile(dir, 'changes.csv', `deviceSerialNumber,userId\n140199999,${USER_3}\n`);
    const tenant = { ...tenantOf(simulator), ...FAST };
    const summary = await enable({ input, out: join(dir, 'r.csv'), undoFile, ...tenant });
    expect(summary.undo).toEqual({ file: undoFile, linesAdded: 2 });
    expect(readResults(undoFile).map((row) => row['deviceSerialNumber'])).toEqual([
      '140199999',
      ...pairs.map((pair) => pair.deviceSerialNumber),
    ]);
    expect(existsSync(join(dir, 'r.undo.csv'))).toBe(false);

    const sent = simulator.calls.length;
    const other = writeFile(dir, 'other.csv', 'deviceSerialNumber,userId,site\n');
    await expect(enable({ input, out: join(dir, 'r2.csv'), undoFile: other, ...tenant })).rejects.toThrow(
      `${other}: line 1: the undo file exists with the header "deviceSerialNumber,userId,site"`,
    );
    expect(simulator.calls.length).toBe(sent);
    expect(existsSync(join(dir, 'r2.csv'))).toBe(false);
  });

  it('reconcile without --out keeps it next to the state file; a disable through runSession takes the night back', async () => {
    const pairs = somePairs(2);
    const simulator = await startTestSimulator({ registry: registryOf(pairs) });
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
    const stateFile = join(dir, 'nightly.state');
    const state = StateStore.open(stateFile);
    const nightly = await reconcile({ input, state, ...tenantOf(simulator), ...FAST }).finally(() => state.close());
    expect(nightly.byOutcome).toEqual({ enabled: 2 });
    expect(nightly.undo).toEqual({ file: `${stateFile}.undo.csv`, linesAdded: 2 });
    expect(readResults(`${stateFile}.undo.csv`)).toHaveLength(2);

    const session = await runSession({
      command: 'disable',
      input: `${stateFile}.undo.csv`,
      out: join(dir, 'd.csv'),
      baseUrl: simulator.baseUrl,
      credentials: { kind: 'token', token: simulator.token },
      ...FAST,
    });
    expect(session.summary.byOutcome).toEqual({ disabled: 2 });
    expect(session.exitCode).toBe(0);
    expect(statuses(simulator.registry)).toEqual(statuses(registryOf(pairs)));
  });
});

describe('plan --action disable', () => {
  it('says per row what a disable would do, and changes nothing', async () => {
    const registry = new Registry();
    registry.register({ deviceSerialNumber: '140100001', userId: USER_1 }).tokenStatus = 'Enabled';
    registry.register({ deviceSerialNumber: '140100002', userId: USER_2 });
    registry.register({ deviceSerialNumber: '140100004', userId: USER_3 }).tokenStatus = 'Enabled';
    const simulator = await startTestSimulator({ registry });
    const before = statuses(registry);
    const dir = tempDir();
    const pairs: Ds100Pair[] = [
      { deviceSerialNumber: '140100001', userId: USER_1 },
      { deviceSerialNumber: '140100002', userId: USER_2 },
      { deviceSerialNumber: '140100003', userId: USER_2 },
      { deviceSerialNumber: '140100004', userId: USER_1 },
    ];
    const out = join(dir, 'plan.csv');
    const summary = await plan({
      input: writeFile(dir, 'in.csv', pairsCsv(pairs)),
      out,
      action: 'disable',
      ...tenantOf(simulator),
      ...FAST,
    });
    expect(readResults(out).map((row) => row['outcome'])).toEqual([
      'would-disable',
      'already-disabled',
      'not-registered',
      'registered-to-other-user',
    ]);
    expect(summary.action).toBe('disable');
    expect(exitCodeFor(summary)).toBe(1);
    expect(rowCalls(simulator).every((call) => call.method === 'POST')).toBe(true);
    expect(statuses(simulator.registry)).toEqual(before);
    expect(existsSync(join(dir, 'plan.undo.csv'))).toBe(false);
  });
});

describe('an undo file that cannot be written', () => {
  it('/dev/full: refused before any row is sent, naming the undo file', async () => {
    const pairs = somePairs(2);
    const simulator = await startTestSimulator({ registry: registryOf(pairs) });
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
    const error = await enable({
      input,
      out: join(dir, 'r.csv'),
      undoFile: '/dev/full',
      ...tenantOf(simulator),
      ...FAST,
    })
      .then(() => undefined)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Ds100Error);
    expect(error).toMatchObject({
      code: 'OUTPUT_FILE',
      message: 'cannot write the undo file /dev/full: the disk is full',
    });
    expect(patches(simulator, 'enable')).toHaveLength(0);
  });

  it.skipIf(!CAN_MOUNT)(
    'a disk that fills mid-run stops the run (exit 7); the results and the log have every change',
    async () => {
      const pairs = somePairs(300);
      const simulator = await startTestSimulator({ registry: registryOf(pairs) });
      const dir = tempDir();
      const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
      const disk = tinyDisk();
      fill(disk, 4096);
      const undoFile = join(disk, 'r.undo.csv');
      const out = join(dir, 'r.csv');
      const lines: Array<Record<string, unknown>> = [];
      const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
      const summary = await enable({ input, out, undoFile, logger, ...tenantOf(simulator), ...FAST, concurrency: 4 });
      expect(exitCodeFor(summary)).toBe(7);
      expect(summary.stopped?.message).toMatch(
        new RegExp(
          `^cannot write the undo file ${undoFile}: the disk is full; the results file ${out} holds every row, ` +
            `the undo file ${undoFile} lacks the rows enabled after that \\(the results list them, and the log names them\\)`,
        ),
      );
      const enabled = readResults(out)
        .filter((row) => row['outcome'] === 'enabled')
        .map((row) => row['deviceSerialNumber']);
      expect(enabled.length).toBe(patches(simulator, 'enable').length);
      const inUndo = new Set(
        readFileSync(undoFile, 'utf8')
          .split('\n')
          .slice(1, -1)
          .map((line) => line.split(',')[0]),
      );
      const logged = new Set(
        lines.filter((line) => line['msg'] === 'row not in the undo file').map((line) => line['deviceSerialNumber']),
      );
      expect(logged.size).toBeGreaterThan(0);
      expect(enabled.filter((serial) => !inUndo.has(serial) && !logged.has(serial))).toEqual([]);
    },
  );
});
