import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/auth/token-cache.js';
import { plan } from '../../src/commands/plan.js';
import { run } from '../../src/index.js';
import { Registry, type RunningSimulator } from '../../src/simulator/index.js';
import { fixture, USER_1, USER_2, USER_3 } from '../helpers/input.js';
import { readResults } from '../helpers/results.js';
import { PREFLIGHT_REQUESTS, rowCalls, startTestSimulator } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

let simulator: RunningSimulator;

const FAST = { rate: 1000, retryPolicy: { retries: 0, baseDelayMs: 1 } };

describe('plan against the simulator', () => {
  it('says per row what a run would do, with each outcome present, and never writes to the tenant', async () => {
    const registry = new Registry();
    registry.register({ deviceSerialNumber: '140100001', userId: USER_1 });
    registry.register({ deviceSerialNumber: '140100002', userId: USER_2 }).tokenStatus = 'Enabled';
    registry.register({ deviceSerialNumber: '140100004', userId: USER_3 });
    registry.register({ deviceSerialNumber: '140100005', userId: USER_1 });
    simulator = await startTestSimulator({ registry, faults: new Map([['140100005', [{ status: 403 }]]]) });
    const dir = tempDir();
    const input = writeFile(
      dir,
      'shipment.csv',
      [
        'deviceSerialNumber,userId,site',
        `140100001,${USER_1},would-enable`,
        `140100002,${USER_2},already-enabled`,
        `140100003,${USER_2},not-registered`,
        `140100004,${USER_1},registered to USER_3`,
        `140100005,${USER_1},403`,
        `140100006,jane@example.com,invalid`,
        '',
      ].join('\n'),
    );
    const out = join(dir, 'plan.csv');
    const summary = await plan({
      input,
      out,
      baseUrl: simulator.baseUrl,
      tokenProvider: staticTokenProvider(simulator.token),
      ...FAST,
    });
    expect(summary).toMatchObject({
      command: 'plan',
      rows: 6,
      requests: 5 + PREFLIGHT_REQUESTS,
      byOutcome: {
        'would-enable': 1,
        'already-enabled': 1,
        'not-registered': 1,
        'registered-to-other-user': 1,
        failed: 1,
        invalid: 1,
      },
    });
    const rows = readResults(out);
    expect(rows.map((row) => [row['line'], row['outcome'], row['errorCode']])).toEqual([
      ['2', 'would-enable', ''],
      ['3', 'already-enabled', ''],
      ['4', 'not-registered', ''],
      ['5', 'registered-to-other-user', ''],
      ['6', 'failed', 'FORBIDDEN'],
      ['7', 'invalid', 'INVALID_USER_ID'],
    ]);
    expect(rows[3]!['errorMessage']).toContain(USER_3);
    // Read-only: every call was a lookup, and the tenant's state did not change.
    expect(rowCalls(simulator).length).toBe(5);
    expect(simulator.calls.every((call) => call.method === 'POST' && call.path.endsWith('/v1/ds100/lookup'))).toBe(
      true,
    );
    expect(simulator.calls.some((call) => call.method === 'PATCH')).toBe(false);
    expect(registry.get('140100001')?.tokenStatus).toBe('Disabled');
  });

  it('without out, only the summary is made', async () => {
    simulator = await startTestSimulator({ autoRegister: false });
    const summary = await plan({
      input: fixture('duplicate-row.csv'),
      baseUrl: simulator.baseUrl,
      tokenProvider: staticTokenProvider(simulator.token),
      ...FAST,
    });
    expect(summary).toMatchObject({ out: '', rows: 3, byOutcome: { 'not-registered': 2, invalid: 1 } });
  });
});

describe('enable uses the same checks, decided before anything is sent', () => {
  it('sends neither row of a conflicting pair', async () => {
    simulator = await startTestSimulator({ autoRegister: true });
    const dir = tempDir();
    const summary = await run({
      input: fixture('conflicting-row.csv'),
      out: join(dir, 'results.csv'),
      baseUrl: simulator.baseUrl,
      tokenProvider: staticTokenProvider(simulator.token),
      ...FAST,
    });
    expect(summary.byOutcome).toEqual({ enabled: 1, invalid: 2 });
    expect(rowCalls(simulator).map((call) => call.serial)).toEqual(['140100001']);
  });

  it('sends nothing for a user given more than five DS100s, and nothing at all for a header-only file', async () => {
    simulator = await startTestSimulator({ autoRegister: true });
    const dir = tempDir();
    const summary = await run({
      input: fixture('too-many-devices.csv'),
      out: join(dir, 'results.csv'),
      baseUrl: simulator.baseUrl,
      tokenProvider: staticTokenProvider(simulator.token),
      ...FAST,
    });
    expect(summary.byOutcome).toEqual({ enabled: 5, invalid: 6 });
    // Only the five devices of the second user were sent; none of the first user's six.
    expect(
      rowCalls(simulator)
        .map((call) => call.serial)
        .toSorted(),
    ).toEqual(['140100010', '140100011', '140100012', '140100013', '140100014']);
    await expect(
      run({
        input: fixture('header-only.csv'),
        out: join(dir, 'none.csv'),
        baseUrl: simulator.baseUrl,
        tokenProvider: staticTokenProvider(simulator.token),
      }),
    ).rejects.toMatchObject({ code: 'INPUT_FILE', message: expect.stringMatching(/no rows of pairs/) });
    expect(rowCalls(simulator).length).toBe(5);
  });

  it('sends a row with only a warning, unless strict', async () => {
    simulator = await startTestSimulator({ autoRegister: true });
    const dir = tempDir();
    const options = {
      input: fixture('serial-length.csv'),
      out: join(dir, 'results.csv'),
      baseUrl: simulator.baseUrl,
      tokenProvider: staticTokenProvider(simulator.token),
      ...FAST,
    };
    expect((await run(options)).byOutcome).toEqual({ enabled: 2 });
    expect((await run({ ...options, rules: { strict: true } })).byOutcome).toEqual({ enabled: 1, invalid: 1 });
  });
});
