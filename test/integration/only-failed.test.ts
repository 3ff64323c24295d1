import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSession } from '../../src/index.js';
import { Registry, type RunningSimulator } from '../../src/simulator/index.js';
import { USER_1, USER_2, USER_3 } from '../helpers/input.js';
import { readResults } from '../helpers/results.js';
import { FAST_RETRY, rowCalls, startTestSimulator } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

const session = (simulator: RunningSimulator) =>
  ({
    command: 'enable',
    baseUrl: simulator.baseUrl,
    credentials: { kind: 'token', token: simulator.token },
    rate: 1000,
    retryPolicy: { ...FAST_RETRY, retries: 0 },
  }) as const;

describe('enable --only-failed previous-results.csv', () => {
  it('re-runs only what did not succeed, with the original columns, round after round', async () => {
    const registry = new Registry();
    registry.register({ deviceSerialNumber: '140100001', userId: USER_1 });
    registry.register({ deviceSerialNumber: '140100003', userId: USER_3 });
    // 140100003 answers 500 once: failed the first time (no retries), fine the second.
    const simulator = await startTestSimulator({ registry, faults: new Map([['140100003', [{ status: 500 }]]]) });
    const dir = tempDir();
    // A column named like a results column ("outcome") is carried as input.outcome in the results.
    const input = writeFile(
      dir,
      'shipment.csv',
      [
        'deviceSerialNumber,userId,outcome,note',
        `140100001,${USER_1},first,"a, quoted"`,
        `140100002,${USER_2},second,not registered yet`,
        `140100003,${USER_3},third,500 once`,
        `1401,${USER_3},fourth,too short`,
        '',
      ].join('\n'),
    );
    const first = join(dir, 'r1.csv');
    const ran = await runSession({ ...session(simulator), input, out: first, rules: { strict: true } });
    expect(ran.summary.byOutcome).toEqual({ enabled: 1, failed: 2, invalid: 1 });

    // Between the runs the user registers their DS100.
    registry.register({ deviceSerialNumber: '140100002', userId: USER_2 });
    const callsBefore = rowCalls(simulator).length;
    const second = join(dir, 'r2.csv');
    const rerun = await runSession({ ...session(simulator), onlyFailed: first, out: second, rules: { strict: true } });

    // The row enabled the first time is not sent again.
    expect(
      rowCalls(simulator)
        .slice(callsBefore)
        .map((call) => call.serial)
        .sort(),
    ).toEqual(['140100002', '140100003']);
    expect(rerun.summary).toMatchObject({ input: first, rows: 3, byOutcome: { enabled: 2, invalid: 1 } });
    // The same columns as the first results, carried under their first names (not input.input.outcome).
    expect(readFileSync(second, 'utf8').split('\n')[0]).toBe(readFileSync(first, 'utf8').split('\n')[0]);
    const rows = readResults(second);
    expect(rows.map((row) => [row['deviceSerialNumber'], row['outcome'], row['input.outcome'], row['note']])).toEqual(
      expect.arrayContaining([
        ['140100002', 'enabled', 'second', 'not registered yet'],
        ['140100003', 'enabled', 'third', '500 once'],
        ['1401', 'invalid', 'fourth', 'too short'],
      ]),
    );
    // Each row's line is its line in the results file it came from.
    const firstLines = readFileSync(first, 'utf8').split('\n');
    for (const row of rows) {
      expect(firstLines[Number(row['line']) - 1]).toContain(`,${row['deviceSerialNumber']},`);
    }

    // Round two: only the invalid row is left; a run where every row succeeded has nothing left at all.
    const third = join(dir, 'r3.csv');
    const again = await runSession({ ...session(simulator), onlyFailed: second, out: third, rules: { strict: true } });
    expect(again.summary.byOutcome).toEqual({ invalid: 1 });
    const allGood = writeFile(dir, 'good.csv', readFileSync(second, 'utf8').replace(/\n.*,1401,.*\n/, '\n'));
    const nothing = await runSession({ ...session(simulator), onlyFailed: allGood, out: join(dir, 'r4.csv') });
    expect(nothing).toMatchObject({ exitCode: 0, summary: { rows: 0 } });
    expect(readResults(join(dir, 'r4.csv'))).toEqual([]);
  });

  it('refuses a file that is not a results file, naming it, before anything is sent', async () => {
    const simulator = await startTestSimulator();
    const dir = tempDir();
    const notResults = writeFile(dir, 'shipment.csv', `deviceSerialNumber,userId\n140100001,${USER_1}\n`);
    await expect(
      runSession({ ...session(simulator), onlyFailed: notResults, out: join(dir, 'r.csv') }),
    ).rejects.toMatchObject({
      code: 'INPUT_FILE',
      message: expect.stringContaining(`${notResults}: line 1: not a results file of ds100-bulk`),
    });
    await expect(
      runSession({ ...session(simulator), input: notResults, onlyFailed: notResults, out: join(dir, 'r.csv') }),
    ).rejects.toMatchObject({ code: 'USAGE' });
    expect(rowCalls(simulator)).toEqual([]);
  });
});

describe('enable --only-failed and the user column', () => {
  const userLookups = (simulator: RunningSimulator) =>
    simulator.calls.filter((call) => call.path.endsWith('/v1/users/lookup'));

  it('keeps the user IDs of a file that only carries addresses, even where they disagree', async () => {
    const registry = new Registry();
    registry.register({ deviceSerialNumber: '140100001', userId: USER_1 });
    // The address points at another user: the file's user ID is what the administrator gave.
    const simulator = await startTestSimulator({ registry, users: new Map([['one@example.com', USER_2]]) });
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', `deviceSerialNumber,userId,email\n140100001,${USER_1},one@example.com\n`);
    const first = join(dir, 'r1.csv');
    const failing = await startTestSimulator({ registry: new Registry() });
    expect((await runSession({ ...session(failing), input, out: first })).summary.byOutcome).toEqual({ failed: 1 });

    const rerun = await runSession({ ...session(simulator), onlyFailed: first, out: join(dir, 'r2.csv') });
    expect(rerun.summary.byOutcome).toEqual({ enabled: 1 });
    expect(userLookups(simulator)).toEqual([]);
    expect(rowCalls(simulator).map((call) => call.userId)).toEqual([USER_1]);
  });

  it('looks the addresses of an email file up again when one was unknown the first time', async () => {
    const registry = (): Registry => {
      const tenant = new Registry();
      tenant.register({ deviceSerialNumber: '140100001', userId: USER_1 });
      tenant.register({ deviceSerialNumber: '140100002', userId: USER_2 });
      return tenant;
    };
    const before = await startTestSimulator({ registry: registry(), users: new Map([['one@example.com', USER_1]]) });
    const dir = tempDir();
    const input = writeFile(
      dir,
      'emails.csv',
      'deviceSerialNumber,email\n140100001,one@example.com\n140100002,two@example.com\n',
    );
    const first = join(dir, 'r1.csv');
    const ran = await runSession({ ...session(before), input, out: first });
    expect(ran.summary.byErrorCode).toEqual({ UNKNOWN_EMAIL: 1 });

    // The second user exists now.
    const users = new Map([
      ['one@example.com', USER_1],
      ['two@example.com', USER_2],
    ]);
    const after = await startTestSimulator({ registry: registry(), users });
    const rerun = await runSession({ ...session(after), onlyFailed: first, out: join(dir, 'r2.csv') });
    expect(rerun.summary.byOutcome).toEqual({ enabled: 1 });
    expect(userLookups(after).map((call) => call.email)).toEqual(['two@example.com']);
    expect(
      rowCalls(after)
        .filter((call) => call.method === 'PATCH')
        .map((call) => call.userId),
    ).toEqual([USER_2]);
  });
});
