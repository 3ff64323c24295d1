import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ds100Error, runSession } from '../../src/index.js';
import { Registry, type RunningSimulator } from '../../src/simulator/index.js';
import { USER_1, USER_2, USER_3 } from '../helpers/input.js';
import { readResults } from '../helpers/results.js';
import { FAST_RETRY, rowCalls, startTestSimulator } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

const INPUT = [
  'deviceSerialNumber,userId,site',
  `140100001,${USER_1},to enable`,
  `140100002,${USER_2},already enabled`,
  `140100003,${USER_2},not registered when planned`,
  `140100004,${USER_1},registered to USER_3`,
  `140100005,${USER_3},to enable too`,
  `14010000X,${USER_3},invalid`,
  '',
].join('\n');

function tenantForPlan(): Registry {
  const registry = new Registry();
  registry.register({ deviceSerialNumber: '140100001', userId: USER_1 });
  registry.register({ deviceSerialNumber: '140100002', userId: USER_2 }).tokenStatus = 'Enabled';
  registry.register({ deviceSerialNumber: '140100004', userId: USER_3 });
  registry.register({ deviceSerialNumber: '140100005', userId: USER_3 });
  return registry;
}

const session = (simulator: RunningSimulator) =>
  ({
    baseUrl: simulator.baseUrl,
    credentials: { kind: 'token', token: simulator.token },
    rate: 1000,
    retryPolicy: { ...FAST_RETRY, retries: 0 },
  }) as const;

/** A plan of INPUT made against the tenant, and the tenant it was made against. */
async function madePlan(): Promise<{ dir: string; input: string; planFile: string; simulator: RunningSimulator }> {
  const simulator = await startTestSimulator({ registry: tenantForPlan() });
  const dir = tempDir();
  const input = writeFile(dir, 'shipment.csv', INPUT);
  const planFile = join(dir, 'plan.csv');
  const planned = await runSession({ ...session(simulator), command: 'plan', input, out: planFile });
  expect(planned.summary.byOutcome).toEqual({
    'would-enable': 2,
    'already-enabled': 1,
    'not-registered': 1,
    'registered-to-other-user': 1,
    invalid: 1,
  });
  return { dir, input, planFile, simulator };
}

describe('plan --out plan.csv, then enable --plan plan.csv', () => {
  it('sends exactly the would-enable rows, even when the tenant changed since, and says why the others were not sent', async () => {
    const { dir, planFile, simulator } = await madePlan();
    const lastLine = readFileSync(planFile, 'utf8').trimEnd().split('\n').at(-1)!;
    expect(lastLine).toMatch(
      /^# ds100-bulk plan; action=enable; rows=6; input-sha256=[0-9a-f]{64}; plan-sha256=[0-9a-f]{64}; input=/,
    );
    // Registered after the plan was reviewed: the plan said not-registered, so it is not sent now.
    simulator.registry.register({ deviceSerialNumber: '140100003', userId: USER_2 });
    const callsBefore = rowCalls(simulator).length;
    const out = join(dir, 'r.csv');

    // No input named: the plan names it.
    const applied = await runSession({ ...session(simulator), command: 'enable', plan: planFile, out });

    const sent = rowCalls(simulator).slice(callsBefore);
    expect(sent.map((call) => `${call.method} ${call.path.replace(/.*restapi\//, '')} ${call.serial}`).sort()).toEqual([
      'PATCH v1/ds100/enable/otp 140100001',
      'PATCH v1/ds100/enable/otp 140100005',
    ]);
    expect(applied.summary.byOutcome).toEqual({ enabled: 2, 'already-enabled': 1, 'not-attempted': 2, invalid: 1 });
    expect(applied.exitCode).toBe(1);
    const rows = readResults(out);
    expect(rows.map((row) => [row['line'], row['outcome'], row['errorCode']])).toEqual([
      ['2', 'enabled', ''],
      ['3', 'already-enabled', ''],
      ['4', 'not-attempted', 'NOT_PLANNED'],
      ['5', 'not-attempted', 'NOT_PLANNED'],
      ['6', 'enabled', ''],
      ['7', 'invalid', 'INVALID_SERIAL'],
    ]);
    // Plan rows are written as they finish: find each row's own line in the plan file.
    const planLineOf = (serial: string): number =>
      readFileSync(planFile, 'utf8')
        .split('\n')
        .findIndex((line) => line.includes(`,${serial},`)) + 1;
    expect(rows[2]!['errorMessage']).toBe(
      `the plan said not-registered (${planFile} line ${planLineOf('140100003')}); not sent`,
    );
    expect(rows[3]!['errorMessage']).toBe(
      `the plan said registered-to-other-user (${planFile} line ${planLineOf('140100004')}); not sent`,
    );
    expect(simulator.registry.get('140100003')?.tokenStatus).toBe('Disabled');
  });

  it('refuses (exit 2, nothing sent, no results file) when the input changed since the plan', async () => {
    const { dir, input, planFile, simulator } = await madePlan();
    appendFileSync(input, `140100009,${USER_1},added after the review\n`);
    const callsBefore = rowCalls(simulator).length;
    const out = join(dir, 'r.csv');

    const applying = runSession({ ...session(simulator), command: 'enable', input, plan: planFile, out });

    await expect(applying).rejects.toThrow(Ds100Error);
    await expect(applying).rejects.toThrow(`${input} is not the file ${planFile} was made from (${input})`);
    expect(rowCalls(simulator).length).toBe(callsBefore);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a plan whose rows were edited, and one cut short, before anything is sent', async () => {
    const { dir, input, planFile, simulator } = await madePlan();
    const text = readFileSync(planFile, 'utf8');
    const edited = join(dir, 'edited.csv');
    // A reviewer's "fix": the row registered to another user turned into would-enable.
    writeFileSync(edited, text.replace(',registered-to-other-user,', ',would-enable,'));
    const cut = join(dir, 'cut.csv');
    writeFileSync(cut, text.split('\n').slice(0, -2).join('\n'));
    const callsBefore = rowCalls(simulator).length;

    for (const [plan, message] of [
      [edited, 'the plan was changed after it was made'],
      [cut, 'not a complete plan'],
    ] as const) {
      const applying = runSession({ ...session(simulator), command: 'enable', input, plan, out: join(dir, 'r.csv') });
      await expect(applying).rejects.toMatchObject({ code: 'INPUT_FILE', message: expect.stringContaining(message) });
    }
    expect(rowCalls(simulator).length).toBe(callsBefore);
  });
});

describe('plans with email addresses, and plans of a disable', () => {
  const userLookups = (simulator: RunningSimulator) =>
    simulator.calls.filter((call) => call.path.endsWith('/v1/users/lookup'));

  it('enable --plan sends an email row with the user ID the plan resolved, without looking the address up again', async () => {
    const registry = new Registry();
    registry.register({ deviceSerialNumber: '140100001', userId: USER_1 });
    registry.register({ deviceSerialNumber: '140100002', userId: USER_2 });
    const users = new Map([
      ['one@example.com', USER_1],
      ['two@example.com', USER_2],
    ]);
    const simulator = await startTestSimulator({ registry, users });
    const dir = tempDir();
    const input = writeFile(
      dir,
      'emails.csv',
      'deviceSerialNumber,email\n140100001,one@example.com\n140100002,two@example.com\n140100003,nobody@example.com\n',
    );
    const planFile = join(dir, 'plan.csv');
    const planned = await runSession({ ...session(simulator), command: 'plan', input, out: planFile });
    expect(planned.summary.byOutcome).toEqual({ 'would-enable': 2, invalid: 1 });
    const lookupsBefore = userLookups(simulator).length;
    const callsBefore = rowCalls(simulator).length;

    const out = join(dir, 'r.csv');
    const applied = await runSession({ ...session(simulator), command: 'enable', plan: planFile, out });

    expect(userLookups(simulator).length).toBe(lookupsBefore);
    const sent = rowCalls(simulator).slice(callsBefore);
    expect(sent.map((call) => [call.serial, call.userId]).sort()).toEqual([
      ['140100001', USER_1],
      ['140100002', USER_2],
    ]);
    expect(applied.summary.byOutcome).toEqual({ enabled: 2, 'not-attempted': 1 });
    expect(readResults(out).map((row) => [row['email'], row['userId'], row['outcome']])).toEqual([
      ['one@example.com', USER_1, 'enabled'],
      ['two@example.com', USER_2, 'enabled'],
      ['nobody@example.com', '', 'not-attempted'],
    ]);
  });

  it('plan --action disable, then disable --plan: only the would-disable rows are sent; an enable plan is refused', async () => {
    const registry = new Registry();
    registry.register({ deviceSerialNumber: '140100001', userId: USER_1 }).tokenStatus = 'Enabled';
    registry.register({ deviceSerialNumber: '140100002', userId: USER_2 }).tokenStatus = 'Enabled';
    registry.register({ deviceSerialNumber: '140100003', userId: USER_1 });
    const simulator = await startTestSimulator({ registry });
    const dir = tempDir();
    const input = writeFile(
      dir,
      'undo.csv',
      `deviceSerialNumber,userId\n140100001,${USER_1}\n140100002,${USER_3}\n140100003,${USER_1}\n`,
    );
    const planFile = join(dir, 'plan.csv');
    const planned = await runSession({
      ...session(simulator),
      command: 'plan',
      action: 'disable',
      input,
      out: planFile,
    });
    expect(planned.summary.byOutcome).toEqual({
      'would-disable': 1,
      'registered-to-other-user': 1,
      'already-disabled': 1,
    });
    const callsBefore = rowCalls(simulator).length;

    const refused = runSession({ ...session(simulator), command: 'enable', plan: planFile, out: join(dir, 'e.csv') });
    await expect(refused).rejects.toThrow(`${planFile} is a plan for disable, not enable`);
    const out = join(dir, 'r.csv');
    const applied = await runSession({ ...session(simulator), command: 'disable', plan: planFile, out });

    expect(
      rowCalls(simulator)
        .slice(callsBefore)
        .map((call) => `${call.method} ${call.serial}`),
    ).toEqual(['PATCH 140100001']);
    expect(applied.summary.byOutcome).toEqual({ disabled: 1, 'already-disabled': 1, 'not-attempted': 1 });
    expect(registry.get('140100002')?.tokenStatus).toBe('Enabled');
  });

  it('disable --max-changes counts an email row once, after its address is looked up', async () => {
    const registry = new Registry();
    for (const serial of ['140100001', '140100002', '140100003']) {
      registry.register({ deviceSerialNumber: serial, userId: USER_1 }).tokenStatus = 'Enabled';
    }
    const simulator = await startTestSimulator({ registry, users: new Map([['one@example.com', USER_1]]) });
    const dir = tempDir();
    const input = writeFile(
      dir,
      'emails.csv',
      'deviceSerialNumber,email\n140100001,one@example.com\n140100002,one@example.com\n140100003,one@example.com\n',
    );
    const done = await runSession({
      ...session(simulator),
      command: 'disable',
      input,
      out: join(dir, 'r.csv'),
      maxChanges: 2,
    });
    expect(rowCalls(simulator).filter((call) => call.method === 'PATCH')).toHaveLength(2);
    expect(done.summary.byOutcome).toEqual({ disabled: 2, 'not-attempted': 1 });
    expect(done.exitCode).toBe(5);
  });
});
