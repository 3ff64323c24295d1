import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/auth/token-cache.js';
import { exitCodeFor, run, runSession, type RunOptions } from '../../src/index.js';
import type { FaultStep, RunningSimulator, SimulatorOptions } from '../../src/simulator/index.js';
import { StateStore } from '../../src/state/state-store.js';
import type { Ds100Pair } from '../../src/types.js';
import { startHttpServer } from '../helpers/http-server.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { countBy, readResults } from '../helpers/results.js';
import { FAST_RETRY, registryOf, rowCalls, startTestSimulator, tenantOf } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

/** The enable and lookup calls a run made for its rows, as [method, fault, changed]. */
const journal = (simulator: RunningSimulator) =>
  rowCalls(simulator).map((call) => [call.method, call.fault ?? '', call.changed] as const);

async function enableWith(
  pairs: readonly Ds100Pair[],
  steps: Record<string, FaultStep[]>,
  runOptions: Partial<RunOptions> = {},
  simulatorOptions: SimulatorOptions = {},
) {
  const simulator = await startTestSimulator({
    registry: registryOf(pairs),
    faults: new Map(Object.entries(steps)),
    ...simulatorOptions,
  });
  const dir = tempDir();
  const out = join(dir, 'results.csv');
  const summary = await run({
    input: writeFile(dir, 'in.csv', pairsCsv(pairs)),
    out,
    ...tenantOf(simulator),
    rate: 1000,
    retryPolicy: FAST_RETRY,
    timeoutMs: 300,
    ...runOptions,
  });
  return { simulator, summary, results: readResults(out), dir };
}

describe('an enable whose answer was lost is settled by a lookup, never reported on a guess', () => {
  it.each([
    ['a reset after the change', 'resetAfterChange', /ECONNRESET|other side closed|socket/i],
    ['an answer that never comes', 'hangAfterChange', /no complete response within the timeout/],
    ['a 200 with an empty body', 'emptyOk', /not JSON/],
    ['a 200 with an object', 'objectOk', /not the documented JSON array/],
    ['a 200 for another device', 'otherDeviceOk', /describes other devices/],
  ] as const)('%s: enabled, confirmed by the lookup, sent once', async (_, kind, lost) => {
    const [pair] = somePairs(1);
    const { simulator, results } = await enableWith([pair!], { [pair!.deviceSerialNumber]: [{ kind }] });
    expect(results[0]).toMatchObject({ outcome: 'enabled', errorCode: '', tokenStatus: 'Enabled', attempts: '2' });
    expect(results[0]!['errorMessage']).toMatch(
      /^the answer was lost \(.*\); a lookup confirmed the credential is enabled$/,
    );
    expect(results[0]!['errorMessage']).toMatch(lost);
    expect(journal(simulator)).toEqual([
      ['PATCH', kind, true],
      ['POST', '', false],
    ]);
    expect(simulator.registry.get(pair!.deviceSerialNumber)!.tokenStatus).toBe('Enabled');
  });

  it.each([
    ['a reset before the change', 'resetBeforeChange'],
    ["a proxy's HTML 502", 'proxyHtml502'],
  ] as const)('%s: the lookup finds it not made, so it is sent again and enabled', async (_, kind) => {
    const [pair] = somePairs(1);
    const { simulator, results } = await enableWith([pair!], { [pair!.deviceSerialNumber]: [{ kind }] });
    expect(results[0]).toMatchObject({ outcome: 'enabled', errorMessage: '', attempts: '3' });
    expect(journal(simulator)).toEqual([
      ['PATCH', kind, false],
      ['POST', '', false],
      ['PATCH', '', true],
    ]);
  });

  it('unknown when the lookup cannot tell either; reconcile and --resume settle it on their next run', async () => {
    const [pair, other] = somePairs(2);
    const dir = tempDir();
    const state = join(dir, 's.state');
    // The enable is made and its answer lost; every lookup after it is answered 500.
    const lookupsFail = Array.from({ length: 6 }, () => ({ status: 500 }));
    const ledger = StateStore.open(state);
    const first = await enableWith(
      [pair!, other!],
      { [pair!.deviceSerialNumber]: [{ kind: 'resetAfterChange' }, ...lookupsFail] },
      { state: ledger },
    );
    ledger.close();
    const row = first.results.find((result) => result['deviceSerialNumber'] === pair!.deviceSerialNumber);
    expect(row).toMatchObject({ outcome: 'unknown', errorCode: 'UNKNOWN_OUTCOME', attempts: '7' });
    expect(row!['errorMessage']).toMatch(
      /^the answer was lost \(.*\) and the lookup that would tell failed too \(SERVER_ERROR/,
    );
    expect(first.summary.byOutcome).toEqual({ enabled: 1, unknown: 1 });
    expect(exitCodeFor(first.summary)).toBe(1);
    // It really was enabled: "failed" would have been false, "enabled" a guess.
    expect(first.simulator.registry.get(pair!.deviceSerialNumber)!.tokenStatus).toBe('Enabled');

    // The nightly reconcile looks it up and finds it done; nothing is sent twice.
    const reconciled = await runSession({
      command: 'reconcile',
      input: join(first.dir, 'in.csv'),
      state,
      baseUrl: first.simulator.baseUrl,
      credentials: { kind: 'token', token: first.simulator.token },
    });
    expect(reconciled.summary.byOutcome).toEqual({ unchanged: 2 });
    expect(first.simulator.calls.filter((call) => call.method === 'PATCH')).toHaveLength(2);

    // enable --resume with the first run's ledger sends the unknown row again (an enable is idempotent).
    const resumeState = join(dir, 'resume.state');
    const resumeLedger = StateStore.open(resumeState);
    const firstAgain = await enableWith(
      [pair!, other!],
      { [pair!.deviceSerialNumber]: [{ kind: 'resetAfterChange' }, ...lookupsFail] },
      { state: resumeLedger },
    );
    resumeLedger.close();
    expect(countBy(firstAgain.results, 'outcome')).toEqual({ enabled: 1, unknown: 1 });
    const resumed = await runSession({
      command: 'enable',
      input: join(firstAgain.dir, 'in.csv'),
      out: join(dir, 'resumed.csv'),
      state: resumeState,
      resume: true,
      baseUrl: firstAgain.simulator.baseUrl,
      credentials: { kind: 'token', token: firstAgain.simulator.token },
    });
    expect(resumed.exitCode).toBe(0);
    const again = readResults(join(dir, 'resumed.csv'));
    expect(again.map((result) => [result['outcome'], result['attempts']])).toEqual(
      [pair, other].map((p) => (p === pair ? ['enabled', '1'] : ['enabled', '0'])),
    );
  });
});

describe('reconcile settles a lost enable the same way', () => {
  it('the enable after the lookup is reset after the change: enabled, confirmed, sent once', async () => {
    const [pair] = somePairs(1);
    const simulator = await startTestSimulator({
      registry: registryOf([pair!]),
      // Steps are per serial: the lookup, the enable (reset after the change), the lookup that settles it.
      faults: new Map([[pair!.deviceSerialNumber, [{}, { kind: 'resetAfterChange' }, {}]]]),
    });
    const dir = tempDir();
    const out = join(dir, 'r.csv');
    const { summary } = await runSession({
      command: 'reconcile',
      input: writeFile(dir, 'in.csv', pairsCsv([pair!])),
      out,
      state: join(dir, 's.state'),
      baseUrl: simulator.baseUrl,
      credentials: { kind: 'token', token: simulator.token },
      retryPolicy: FAST_RETRY,
    });
    expect(summary.byOutcome).toEqual({ enabled: 1 });
    expect(readResults(out)[0]).toMatchObject({ outcome: 'enabled', attempts: '3' });
    expect(readResults(out)[0]!['errorMessage']).toMatch(/a lookup confirmed the credential is enabled/);
    expect(journal(simulator)).toEqual([
      ['POST', '', false],
      ['PATCH', 'resetAfterChange', true],
      ['POST', '', false],
    ]);
  });
});

describe('a run that cannot succeed stops early', () => {
  it('a wrong base URL: exit 2 before any row, the sentence says what is probably wrong', async () => {
    const simulator = await startTestSimulator({ autoRegister: true });
    const dir = tempDir();
    const out = join(dir, 'r.csv');
    const wrong = new URL('/AdminInterface/v1/', simulator.baseUrl).href;
    await expect(
      run({
        input: writeFile(dir, 'in.csv', pairsCsv(somePairs(5))),
        out,
        baseUrl: wrong,
        tokenProvider: staticTokenProvider(simulator.token),
      }),
    ).rejects.toMatchObject({
      code: 'TENANT',
      message: expect.stringMatching(
        /has no DS100 API: POST v1\/ds100\/lookup was answered 404 without the API's error body \(Not Found\)\. Check --base-url .*\/AdminInterface\/restapi\//,
      ),
    });
    expect(simulator.calls.map((call) => call.method)).toEqual(['POST']);
    expect(existsSync(out)).toBe(false);
  });

  it('an HTML login page: exit 2 at once, without retrying it', async () => {
    let requests = 0;
    const login = await startHttpServer(
      createServer((request, response) => {
        requests++;
        request.resume();
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end('<html><title>Sign in</title><body><form>Password</form></body></html>');
      }),
    );
    const dir = tempDir();
    await expect(
      run({
        input: writeFile(dir, 'in.csv', pairsCsv(somePairs(5))),
        out: join(dir, 'r.csv'),
        baseUrl: `${login}/AdminInterface/restapi/`,
        tokenProvider: staticTokenProvider('t'),
        retryPolicy: FAST_RETRY,
      }),
    ).rejects.toMatchObject({
      code: 'TENANT',
      message: expect.stringMatching(/not the API's JSON \(.*Sign in.*\)\. An HTML login page or a proxy page/),
    });
    expect(requests).toBe(1);
  });

  it('a tenant that goes away mid-run trips the breaker: exit 3, the rest not-attempted, nothing hidden', async () => {
    const pairs = somePairs(60);
    const simulator = await startTestSimulator({
      registry: registryOf(pairs),
      outages: [{ afterRequests: 10, durationMs: 60_000 }],
    });
    const dir = tempDir();
    const out = join(dir, 'r.csv');
    const summary = await run({
      input: writeFile(dir, 'in.csv', pairsCsv(pairs)),
      out,
      ...tenantOf(simulator),
      rate: 1000,
      concurrency: 2,
      retryPolicy: { ...FAST_RETRY, retries: 2 },
    });
    expect(exitCodeFor(summary)).toBe(3);
    expect(summary.stopped?.message).toMatch(/rows in a row (could not reach the tenant|lost their answers)/);
    const results = readResults(out);
    expect(results).toHaveLength(60);
    const outcomes = countBy(results, 'outcome');
    expect(outcomes['not-attempted']).toBeGreaterThan(30);
    // Whatever the tenant enabled before it went is reported enabled (or unknown), never failed.
    for (const result of results) {
      const isEnabled = simulator.registry.get(result['deviceSerialNumber']!)!.tokenStatus === 'Enabled';
      if (isEnabled) expect(['enabled', 'unknown']).toContain(result['outcome']);
      if (result['outcome'] === 'enabled') expect(isEnabled).toBe(true);
    }
  });

  it("404s without the API's body mid-run trip the breaker as ENDPOINT_NOT_FOUND", async () => {
    // A gateway that routes lookups to the API but has no route for the enable call.
    const gateway = await startHttpServer(
      createServer((request, response) => {
        request.resume();
        const isLookup = request.method === 'POST';
        response.writeHead(404, { 'content-type': isLookup ? 'application/json' : 'text/html' });
        response.end(isLookup ? '{"code":"404 NOT_FOUND","description":"DS100 not found"}' : '<h1>No route</h1>');
      }),
    );
    const dir = tempDir();
    const out = join(dir, 'r.csv');
    const summary = await run({
      input: writeFile(dir, 'in.csv', pairsCsv(somePairs(20))),
      out,
      baseUrl: `${gateway}/AdminInterface/restapi/`,
      tokenProvider: staticTokenProvider('t'),
      concurrency: 1,
      rate: 1000,
    });
    expect(exitCodeFor(summary)).toBe(3);
    expect(summary.stopped?.message).toMatch(/404 without the API's error body: the base URL is probably not/);
    // Three trip it; a row that went out while the third was being recorded may add one more.
    const failed = summary.byErrorCode.ENDPOINT_NOT_FOUND ?? 0;
    expect(failed).toBeGreaterThanOrEqual(3);
    expect(failed).toBeLessThanOrEqual(4);
    expect(countBy(readResults(out), 'outcome')).toEqual({ failed, 'not-attempted': 20 - failed });
  });
});

describe('many rows backing off at once', () => {
  it('add no listener warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      // Every row is refused once with 429 and backs off at the same time as the others.
      const pairs = somePairs(80);
      const refusedOnce = Object.fromEntries(pairs.map((pair) => [pair.deviceSerialNumber, [{ status: 429 }]]));
      const { summary } = await enableWith(pairs, refusedOnce, {
        concurrency: 32,
        adaptiveRate: false,
        retryPolicy: { ...FAST_RETRY, baseDelayMs: 50, maxDelayMs: 50 },
      });
      expect(summary.byOutcome.enabled).toBe(80);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });
});
