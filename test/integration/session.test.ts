import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Ds100Error, runSession, type SessionOptions } from '../../src/index.js';
import { encodeRecord, LEDGER_HEADER, loadLedger } from '../../src/state/ledger.js';
import { StateStore } from '../../src/state/state-store.js';
import { keyFileJson, makeApiKey, makeOAuthClient, writeSecretFile } from '../helpers/credentials.js';
import { advanceUntil, fakeTimers, settle } from '../helpers/fake-time.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { memoryLog } from '../helpers/log-sink.js';
import { countBy, readResults } from '../helpers/results.js';
import { PREFLIGHT_REQUESTS, registryOf, rowCalls, startTestSimulator } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

// runSession is the command line's run without the printing: these tests go through it in-process,
// the CLI tests through the built binary.

const PAIRS = somePairs(5);
let dir: string;
let input: string;
beforeEach(() => {
  dir = tempDir();
  input = writeFile(dir, 'in.csv', pairsCsv(PAIRS));
});

/** Rejects with a Ds100Error: its code and message. */
async function failure(options: SessionOptions): Promise<{ code: string; message: string }> {
  const error = await runSession(options).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Ds100Error);
  const { code, message } = error as Ds100Error;
  return { code, message };
}

describe('runSession with simulate', () => {
  it('runs against a built-in simulated tenant, says so, and closes it afterwards', async () => {
    const log = memoryLog();
    const out = join(dir, 'r.csv');
    const { summary, exitCode } = await runSession({
      command: 'enable',
      input,
      out,
      simulate: true,
      rate: 1000,
      logger: log.logger,
    });
    expect(exitCode).toBe(0);
    expect(summary).toMatchObject({ simulated: true, rows: 5, byOutcome: { enabled: 5 } });
    expect(countBy(readResults(out), 'outcome')).toEqual({ enabled: 5 });
    const [warning] = log.withMessage('using the built-in SIMULATED tenant; nothing real is touched');
    expect(warning).toMatchObject({ level: 40, baseUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//) });
    // The simulated tenant lived only for the run.
    await expect(fetch(String(warning!['baseUrl']))).rejects.toThrow();
  });

  it('plan and reconcile count the input pairs as registered; simulateTenant names the registered ones', async () => {
    const planned = await runSession({ command: 'plan', input, simulate: true, rate: 1000 });
    expect(planned.summary.byOutcome).toEqual({ 'would-enable': 5 });
    const tenant = writeFile(dir, 'tenant.csv', pairsCsv(PAIRS.slice(0, 2)));
    const reconciled = await runSession({
      command: 'reconcile',
      input,
      state: join(dir, 's.state'),
      simulate: true,
      simulateTenant: tenant,
      rate: 1000,
    });
    expect(reconciled.summary.byOutcome).toEqual({ enabled: 2, 'not-registered': 3 });
    expect(reconciled.exitCode).toBe(0);
  });

  it('with a key file, the simulated tenant checks the tokens minted from it', async () => {
    const key = makeApiKey();
    const keyFile = await writeSecretFile(
      join(dir, 'tenant.key'),
      keyFileJson(key, 'https://example.access.securid.com/AdminInterface/restapi/'),
      0o644,
    );
    const log = memoryLog();
    const { summary } = await runSession({
      command: 'enable',
      input,
      out: join(dir, 'r.csv'),
      simulate: true,
      credentials: { kind: 'key-file', file: keyFile },
      rate: 1000,
      logger: log.logger,
    });
    expect(summary.byOutcome).toEqual({ enabled: 5 });
    // One token, minted before the first row; the open key file is warned about.
    const issued = log.withMessage('new bearer token obtained');
    expect(issued).toHaveLength(1);
    expect(Date.parse(String(issued[0]!['expiresAt']))).toBeGreaterThan(Date.now());
    expect(log.records.find((record) => String(record.msg).includes('group/others'))).toMatchObject({ level: 40 });
  });
});

describe('runSession against a tenant', () => {
  it('uses the credentials and base URL given, and names a proxy in the log without its password', async () => {
    const simulator = await startTestSimulator({ registry: registryOf(PAIRS) });
    const log = memoryLog();
    const { summary, exitCode } = await runSession({
      command: 'enable',
      input,
      out: join(dir, 'r.csv'),
      baseUrl: simulator.baseUrl,
      credentials: { kind: 'token', token: simulator.token },
      // NO_PROXY covers the tenant, so the requests still go direct.
      proxy: { httpProxy: 'http://user:pa55word@127.0.0.1:9', noProxy: '127.0.0.1' },
      rate: 1000,
      logger: log.logger,
    });
    expect([summary.simulated, exitCode, summary.byOutcome]).toEqual([false, 0, { enabled: 5 }]);
    expect(rowCalls(simulator)).toHaveLength(5);
    expect(log.withMessage('sending through a proxy (HTTPS_PROXY / NO_PROXY)')).toEqual([
      expect.objectContaining({ proxy: 'http://127.0.0.1:9', noProxy: '127.0.0.1' }),
    ]);
    expect(JSON.stringify(log.records)).not.toContain('pa55word');
  });

  it('refuses to start without what it needs (USAGE), before anything is written', async () => {
    const out = join(dir, 'r.csv');
    expect(await failure({ command: 'reconcile', input, out, simulate: true })).toEqual({
      code: 'USAGE',
      message: 'Expected `state` (--state): reconcile keeps what it did in a state ledger',
    });
    expect(await failure({ command: 'enable', input, out, baseUrl: 'https://t.example/' })).toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(/^Expected `credentials`/),
    });
    const oauth = makeOAuthClient('ec');
    const clientFile = await writeSecretFile(
      join(dir, 'client.json'),
      JSON.stringify({ clientId: 'c', issuer: 'https://auth.example/oauth', privateKey: oauth.privateKeyPem }),
    );
    expect(
      await failure({ command: 'plan', input, credentials: { kind: 'oauth-client', file: clientFile } }),
    ).toMatchObject({ code: 'USAGE', message: expect.stringMatching(/^No tenant given: the OAuth client file/) });
    expect(existsSync(out)).toBe(false);
  });

  it('writes the summary JSON at the end, with the exit code', async () => {
    const simulator = await startTestSimulator({ registry: registryOf(PAIRS.slice(1)) });
    const summaryJson = join(dir, 'summary.json');
    const { exitCode } = await runSession({
      command: 'enable',
      input,
      out: join(dir, 'r.csv'),
      baseUrl: simulator.baseUrl,
      credentials: { kind: 'token', token: simulator.token },
      summaryJson,
      rate: 1000,
    });
    expect(exitCode).toBe(1);
    expect(JSON.parse(readFileSync(summaryJson, 'utf8'))).toMatchObject({
      version: 1,
      command: 'enable',
      rows: 5,
      byOutcome: { enabled: 4, failed: 1 },
      byErrorCode: { NOT_FOUND: 1 },
      requests: 5 + PREFLIGHT_REQUESTS,
      stopped: null,
      exitCode: 1,
    });
  });
});

describe('runSession and the state file', () => {
  it('is LOCKED while another run holds the state file: nothing read, sent or written', async () => {
    const simulator = await startTestSimulator({ registry: registryOf(PAIRS) });
    const state = join(dir, 's.state');
    const other = StateStore.open(state);
    try {
      const out = join(dir, 'r.csv');
      const { code, message } = await failure({
        command: 'reconcile',
        input,
        out,
        state,
        baseUrl: simulator.baseUrl,
        credentials: { kind: 'token', token: simulator.token },
      });
      expect(code).toBe('LOCKED');
      expect(message).toContain(`another run holds the lock (process ${process.pid} on ${hostname()}`);
      expect(simulator.calls).toEqual([]);
      expect(existsSync(out)).toBe(false);
    } finally {
      other.close();
    }
  });

  it("takes over a dead run's lock, skips torn ledger lines and reports pairs that left the input", async () => {
    const state = join(dir, 's.state');
    const previous = { pid: 2 ** 30, hostname: hostname(), startedAt: '2026-11-21T02:00:00.000Z' };
    writeFileSync(`${state}.lock`, JSON.stringify(previous));
    const enabledBefore = { ...PAIRS[0]!, outcome: 'enabled', tokenStatus: 'Enabled', at: '2026-11-21T02:00:01.000Z' };
    writeFileSync(state, `${LEDGER_HEADER}\n${encodeRecord(enabledBefore)}{"torn":`);
    const log = memoryLog();
    const options = { command: 'reconcile', state, simulate: true, rate: 1000 } as const;
    const first = await runSession({ ...options, input, logger: log.logger });
    expect(first.summary.byOutcome).toEqual({ unchanged: 1, enabled: 4 });
    expect(log.withMessage('took over the lock of a run that died')).toEqual([
      expect.objectContaining({ level: 40, previous }),
    ]);
    expect(log.withMessage('ignored torn or corrupt lines in the state file')).toEqual([
      expect.objectContaining({ level: 40, lines: 1 }),
    ]);

    const fewer = writeFile(dir, 'fewer.csv', pairsCsv(PAIRS.slice(0, 2)));
    const second = await runSession({ ...options, input: fewer, logger: log.logger });
    expect(second.summary).toMatchObject({ byOutcome: { unchanged: 2 }, removedFromInput: 3 });
    const [drift] = log.withMessage('pairs in the state file are no longer in the input (not acted on)');
    expect(drift).toMatchObject({ level: 40, count: 3 });
    expect(drift!['first']).toEqual(
      PAIRS.slice(2).map((pair) => `${pair.deviceSerialNumber} ${pair.userId} (enabled)`),
    );
    expect(existsSync(`${state}.lock`)).toBe(false);
  });
});

describe('runSession stops the way Ctrl-C does', () => {
  // On fake time, one request every 10 s: the preflight lookup at about 0 s, the rows at 10 s, 20 s …
  const slowly = (): SessionOptions => ({
    command: 'enable',
    input,
    out: join(dir, 'r.csv'),
    state: join(dir, 's.state'),
    simulate: true,
    rate: 0.1,
    adaptiveRate: false,
  });
  const outcomes = () => readResults(join(dir, 'r.csv')).map((row) => row['errorCode'] || row['outcome']);
  const recorded = () => loadLedger(join(dir, 's.state')).entries.size;

  it('maxRuntimeMs ends the run: rows not sent are MAX_RUNTIME, exit 6', async () => {
    fakeTimers();
    const session = runSession({ ...slowly(), maxRuntimeMs: 25_000 });
    const { summary, exitCode } = await settle(session, 20);
    expect(exitCode).toBe(6);
    expect(summary.stopped).toEqual({ code: 'MAX_RUNTIME', message: '--max-runtime ran out before this row was sent' });
    expect(outcomes()).toEqual(['enabled', 'enabled', 'MAX_RUNTIME', 'MAX_RUNTIME', 'MAX_RUNTIME']);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s stops the run with stopOnSignals (exit %i); without it no signal is listened to',
    async (signal, code) => {
      fakeTimers();
      const listening = process.listenerCount(signal);
      const onSecondSignal = vi.fn();
      const session = runSession({ ...slowly(), stopOnSignals: { onSecondSignal } });
      await advanceUntil(() => recorded() === 2);
      process.emit(signal, signal);
      const { summary, exitCode } = await settle(session);
      expect(exitCode).toBe(code);
      expect(summary.stopped).toEqual({
        code: 'INTERRUPTED',
        message: `${signal} received: the run was ended before this row was sent`,
      });
      expect(outcomes()).toEqual(['enabled', 'enabled', 'INTERRUPTED', 'INTERRUPTED', 'INTERRUPTED']);
      expect(onSecondSignal).not.toHaveBeenCalled();
      expect(process.listenerCount(signal)).toBe(listening);

      const unlistened = runSession({ ...slowly(), input: writeFile(dir, 'two.csv', pairsCsv(PAIRS.slice(0, 2))) });
      await advanceUntil(() => existsSync(join(dir, 's.state.lock')));
      expect(process.listenerCount(signal)).toBe(listening);
      expect((await settle(unlistened)).exitCode).toBe(0);
    },
  );

  it('a second signal closes the ledger, releases the lock and calls onSecondSignal', async () => {
    fakeTimers();
    const state = join(dir, 's.state');
    const seen: Array<{ signal: string; isLocked: boolean; ledger: ReturnType<typeof loadLedger> }> = [];
    const onSecondSignal = (signal: NodeJS.Signals) =>
      seen.push({ signal, isLocked: existsSync(`${state}.lock`), ledger: loadLedger(state) });
    const session = runSession({ ...slowly(), stopOnSignals: { onSecondSignal } });
    await advanceUntil(() => recorded() === 2);
    // Two signals, as two events; nothing is on the wire (the next row is not due for seconds).
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGINT', 'SIGINT');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ signal: 'SIGINT', isLocked: false, ledger: { ignoredLines: 0 } });
    expect([...seen[0]!.ledger.entries.values()].map((entry) => entry.deviceSerialNumber)).toEqual(
      PAIRS.slice(0, 2).map((pair) => pair.deviceSerialNumber),
    );
    // The command line ends the process in onSecondSignal; what a process that stays up gets from
    // the run afterwards is the known bug below.
    await settle(session).catch(() => undefined);
  });

  // Known bug (src/session.ts with src/state/state-store.ts): after a second signal the ledger is
  // closed, and when the process does not end, runSession's `finally` closes it again: fdatasync on a
  // closed descriptor, EBADF. Make this `it` once StateStore.close() may be called twice.
  it('after a second signal in a process that stays up, runSession still returns its summary', async () => {
    fakeTimers();
    const session = runSession({ ...slowly(), stopOnSignals: { onSecondSignal: () => {} } });
    await advanceUntil(() => recorded() === 2);
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGINT', 'SIGINT');
    expect((await settle(session)).exitCode).toBe(130);
  });
});
