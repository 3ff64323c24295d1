import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCredentials, plan, reconcile, run, StateStore } from '../../src/index.js';
import { derivedUserId, Registry, type FaultStep, type RunningSimulator } from '../../src/simulator/index.js';
import { makeOAuthClient, writeSecretFile } from '../helpers/credentials.js';
import { USER_1, USER_2 } from '../helpers/input.js';
import { memoryLog } from '../helpers/log-sink.js';
import { readResults } from '../helpers/results.js';
import { FAST_RETRY, PREFLIGHT_REQUESTS, registryOf, startTestSimulator, tenantOf } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

/** Files that name users by email: each address resolved once through `POST v1/users/lookup`. */

const FAST = { rate: 1000, retryPolicy: { ...FAST_RETRY, retries: 3 } };
const DIRECTORY = new Map([
  ['user.one@example.com', USER_1],
  ['user.two@example.com', USER_2],
]);

const userLookups = (simulator: RunningSimulator) =>
  simulator.calls.filter((call) => call.path.endsWith('/v1/users/lookup'));
const enables = (simulator: RunningSimulator) => simulator.calls.filter((call) => call.method === 'PATCH');

function inputFile(lines: readonly string[]): { input: string; out: string } {
  const dir = tempDir();
  return { input: writeFile(dir, 'emails.csv', `${lines.join('\n')}\n`), out: join(dir, 'results.csv') };
}

describe('email resolution', () => {
  it('looks each address up once (a cache hit for its second row, in another case), and an unknown one is invalid', async () => {
    const simulator = await startTestSimulator({ autoRegister: true, users: DIRECTORY });
    const { input, out } = inputFile([
      'deviceSerialNumber,email,site',
      '140100001,User.One@example.com,Berlin',
      '140100002,user.one@EXAMPLE.com,Lisbon',
      '140100003,nobody@example.com,Oslo',
    ]);
    const log = memoryLog('debug');
    const summary = await run({ input, out, ...tenantOf(simulator), ...FAST, logger: log.logger });

    expect(userLookups(simulator).map((call) => [call.email, call.status])).toEqual([
      ['User.One@example.com', 200],
      ['nobody@example.com', 404],
    ]);
    expect(
      enables(simulator)
        .map((call) => [call.serial, call.userId])
        .sort(),
    ).toEqual([
      ['140100001', USER_1],
      ['140100002', USER_1],
    ]);
    expect(summary).toMatchObject({
      rows: 3,
      byOutcome: { enabled: 2, invalid: 1 },
      byErrorCode: { UNKNOWN_EMAIL: 1 },
      requests: 4 + PREFLIGHT_REQUESTS,
    });
    const rows = readResults(out);
    expect(rows.map((row) => [row['line'], row['userId'], row['email'], row['outcome'], row['errorCode']])).toEqual([
      ['2', USER_1, 'User.One@example.com', 'enabled', ''],
      ['3', USER_1, 'user.one@EXAMPLE.com', 'enabled', ''],
      ['4', '', 'nobody@example.com', 'invalid', 'UNKNOWN_EMAIL'],
    ]);
    // The lookup is counted for the row that sent it only.
    expect(
      rows
        .slice(0, 2)
        .map((row) => Number(row['attempts']))
        .sort(),
    ).toEqual([1, 2]);
    expect(rows[2]).toMatchObject({
      attempts: '1',
      httpStatus: '404',
      errorMessage:
        'no user on the tenant has the email address nobody@example.com (POST v1/users/lookup answered 404); nothing was sent for this row',
    });
    expect(log.withMessage('email address resolved')).toHaveLength(1);
    expect(log.withMessage('email addresses looked up: 1 resolved, 1 unknown')).toEqual([
      expect.objectContaining({ resolved: 1, unknown: 1 }),
    ]);
  });

  it('gives every row of an unknown address UNKNOWN_EMAIL from one lookup, and sends none of them', async () => {
    const simulator = await startTestSimulator({ autoRegister: true, users: DIRECTORY });
    const rows = Array.from({ length: 5 }, (_, index) => `14010000${index},Gone@Example.com`);
    const { input, out } = inputFile(['serial,mail', ...rows]);
    await run({ input, out, ...tenantOf(simulator), ...FAST });
    expect(userLookups(simulator)).toHaveLength(1);
    expect(enables(simulator)).toHaveLength(0);
    const results = readResults(out);
    expect(results.map((row) => row['errorCode'])).toEqual(Array(5).fill('UNKNOWN_EMAIL'));
    expect(results.map((row) => Number(row['attempts'])).sort()).toEqual([0, 0, 0, 0, 1]);
  });

  it('retries a 429 and a 500 on the users lookup, paced and counted like any request', async () => {
    const faults = new Map<string, FaultStep[]>([
      ['user.two@example.com', [{ status: 429, retryAfter: '0' }, { status: 500 }]],
    ]);
    const simulator = await startTestSimulator({ autoRegister: true, users: DIRECTORY, faults });
    const { input, out } = inputFile(['deviceSerialNumber,userPrincipalName', '140100001,user.two@example.com']);
    const summary = await run({ input, out, ...tenantOf(simulator), ...FAST });
    expect(userLookups(simulator).map((call) => call.status)).toEqual([429, 500, 200]);
    expect(summary).toMatchObject({ byOutcome: { enabled: 1 }, retries: 2, rateLimitedAnswers: 1 });
    expect(readResults(out)[0]).toMatchObject({ userId: USER_2, outcome: 'enabled', attempts: '4' });
  });

  it('fails the row with the code of a lookup that keeps failing, and sends nothing for it', async () => {
    const faults = new Map<string, FaultStep[]>([['user.two@example.com', Array(4).fill({ status: 503 })]]);
    const simulator = await startTestSimulator({ autoRegister: true, users: DIRECTORY, faults });
    const { input, out } = inputFile(['deviceSerialNumber,email', '140100001,user.two@example.com']);
    const summary = await run({ input, out, ...tenantOf(simulator), ...FAST });
    expect(summary.byOutcome).toMatchObject({ failed: 1 });
    expect(enables(simulator)).toHaveLength(0);
    expect(readResults(out)[0]).toMatchObject({
      userId: '',
      outcome: 'failed',
      errorCode: 'SERVER_ERROR',
      httpStatus: '503',
      attempts: '4',
    });
    expect(readResults(out)[0]!['errorMessage']).toMatch(/^the user lookup for user.two@example.com failed/);
  });

  it('plan resolves too, and looks the device up for the resolved user', async () => {
    const registry = registryOf([
      { deviceSerialNumber: '140100001', userId: USER_1 },
      { deviceSerialNumber: '140100002', userId: USER_1 },
    ]);
    const simulator = await startTestSimulator({ registry, users: DIRECTORY });
    const { input, out } = inputFile([
      'deviceSerialNumber,email',
      '140100001,user.one@example.com',
      '140100002,user.two@example.com',
    ]);
    const summary = await plan({ input, out, ...tenantOf(simulator), ...FAST });
    expect(summary.byOutcome).toMatchObject({ 'would-enable': 1, 'registered-to-other-user': 1 });
    expect(readResults(out).map((row) => [row['userId'], row['outcome']])).toEqual([
      [USER_1, 'would-enable'],
      [USER_2, 'registered-to-other-user'],
    ]);
    expect(userLookups(simulator)).toHaveLength(2);
    expect(enables(simulator)).toHaveLength(0);
  });

  it('reconcile checks the ledger with the resolved user ID, so an enabled pair is not looked up again', async () => {
    const userId = derivedUserId('user.three@example.com');
    const simulator = await startTestSimulator({ registry: registryOf([{ deviceSerialNumber: '140100001', userId }]) });
    const { input, out } = inputFile(['deviceSerialNumber,email', '140100001,user.three@example.com']);
    const stateFile = join(tempDir(), 'state.jsonl');
    const first = StateStore.open(stateFile);
    try {
      await reconcile({ input, out, ...tenantOf(simulator), ...FAST, state: first });
    } finally {
      first.close();
    }
    const again = StateStore.open(stateFile);
    try {
      await reconcile({ input, out, ...tenantOf(simulator), ...FAST, state: again });
    } finally {
      again.close();
    }
    expect(readResults(out)[0]).toMatchObject({
      userId,
      outcome: 'unchanged',
      attempts: '1',
    });
    // Twice the user lookup (once per run), once the DS100 lookup and the enable (the first run).
    expect(simulator.calls.filter((call) => call.serial === '140100001').map((call) => call.method)).toEqual([
      'POST',
      'PATCH',
    ]);
    expect(userLookups(simulator)).toHaveLength(2);
  });

  it("registers a file's email rows under the simulator's user IDs (plan and reconcile under --simulate)", async () => {
    const file = writeFile(
      tempDir(),
      'tenant.csv',
      'serial,email\n140100001,User.One@example.com\n140100002,stranger@example.com\n',
    );
    const withDirectory = await Registry.fromCsv(file, undefined, DIRECTORY);
    expect([...withDirectory].map((credential) => [credential.deviceSerialNumber, credential.userId])).toEqual([
      ['140100001', USER_1],
    ]);
    const derived = await Registry.fromCsv(file);
    expect(derived.get('140100002')?.userId).toBe(derivedUserId('stranger@example.com'));
  });

  it('needs the OAuth scope rsa.user.read: without it the lookup is refused and the row fails, saying so', async () => {
    const client = makeOAuthClient('rsa');
    const simulator = await startTestSimulator({
      autoRegister: true,
      users: DIRECTORY,
      oauthClients: [{ clientId: client.clientId, publicKey: client.publicKey, keyId: client.keyId }],
    });
    const dir = tempDir();
    const withScope = async (scope: string) => {
      const file = await writeSecretFile(
        join(dir, 'client.json'),
        JSON.stringify({
          clientId: client.clientId,
          issuer: simulator.oauthIssuer,
          privateKey: client.privateKeyPem,
          keyId: client.keyId,
          scope,
        }),
      );
      const { tokenProvider } = await loadCredentials({ kind: 'oauth-client', file });
      const input = writeFile(dir, 'in.csv', 'deviceSerialNumber,email\n140100001,user.one@example.com\n');
      const out = join(dir, 'out.csv');
      await run({ input, out, baseUrl: simulator.baseUrl, tokenProvider, ...FAST });
      return readResults(out)[0];
    };
    const refused = await withScope('rsa.authenticator.ds100.manage rsa.authenticator.ds100.read');
    expect(refused).toMatchObject({ outcome: 'failed', errorCode: 'FORBIDDEN' });
    expect(refused!['errorMessage']).toMatch(/needs the scope rsa.user.read/);
    expect(simulator.calls.some((call) => call.authError === 'access token lacks scope rsa.user.read')).toBe(true);
    const allowed = await withScope('rsa.authenticator.ds100.manage rsa.authenticator.ds100.read rsa.user.read');
    expect(allowed).toMatchObject({ outcome: 'enabled', userId: USER_1 });
  });

  it("the simulator's users/lookup takes only the documented body; an empty 200 is asked again, an array fails", async () => {
    const faults = new Map<string, FaultStep[]>([
      ['user.one@example.com', [{ kind: 'emptyOk' }, { kind: 'otherDeviceOk' }]],
    ]);
    const simulator = await startTestSimulator({ autoRegister: true, users: DIRECTORY, faults });
    const post = (body: string) =>
      fetch(new URL('v1/users/lookup', simulator.baseUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${simulator.token}`, 'content-type': 'application/json' },
        body,
      });
    for (const body of [
      'not json',
      '[]',
      '{}',
      '{"email":"a@example.com","other":1}',
      '{"email":"a@example.com","searchUnsynched":"no"}',
    ]) {
      expect((await post(body)).status).toBe(400);
    }
    expect((await post('{"email":"user.two@example.com"}')).status).toBe(200);

    const { input, out } = inputFile(['deviceSerialNumber,email', '140100001,user.one@example.com']);
    await run({ input, out, ...tenantOf(simulator), ...FAST });
    // The empty 200 is an answer lost on the way, asked again; an array is no user object: BAD_RESPONSE.
    const lookups = userLookups(simulator).slice(-2);
    expect(lookups.map((call) => [call.status, call.fault])).toEqual([
      [200, 'emptyOk'],
      [200, 'otherDeviceOk'],
    ]);
    expect(readResults(out)[0]).toMatchObject({ outcome: 'failed', errorCode: 'BAD_RESPONSE', attempts: '2' });
    expect(enables(simulator)).toHaveLength(0);
  });

  it('a run stopped by refused lookups leaves the rows still waiting for theirs not-attempted', async () => {
    const addresses = Array.from({ length: 6 }, (_, index) => `user${index}@example.com`);
    const faults = new Map<string, FaultStep[]>(addresses.map((email) => [email, [{ status: 403 }]]));
    const simulator = await startTestSimulator({ autoRegister: true, faults });
    const { input, out } = inputFile([
      'deviceSerialNumber,email',
      ...addresses.map((email, index) => `14010000${index},${email}`),
    ]);
    const summary = await run({
      input,
      out,
      ...tenantOf(simulator),
      ...FAST,
      concurrency: 1,
      maxConsecutiveForbidden: 2,
    });
    expect(summary.stopped?.code).toBe('RUN_ABORTED');
    // A lookup already on the wire when the breaker tripped still finishes: at least two fail.
    const rows = readResults(out);
    const failed = rows.filter((row) => row['outcome'] === 'failed');
    const stopped = rows.filter((row) => row['outcome'] === 'not-attempted');
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(stopped.length).toBeGreaterThanOrEqual(1);
    expect(failed.length + stopped.length).toBe(6);
    expect(new Set(failed.map((row) => row['errorCode']))).toEqual(new Set(['FORBIDDEN']));
    expect(new Set(stopped.map((row) => `${row['userId']}|${row['errorCode']}|${row['attempts']}`))).toEqual(
      new Set(['|RUN_ABORTED|0']),
    );
    expect(enables(simulator)).toHaveLength(0);
  });
});
