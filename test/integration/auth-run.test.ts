import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { apiKeyTokenProvider } from '../../src/auth/api-key-token-provider.js';
import type { ApiKey } from '../../src/auth/key-file.js';
import { staticTokenProvider, type TokenProvider } from '../../src/auth/token-cache.js';
import { exitCodeFor } from '../../src/index.js';
import { run, type RunOptions } from '../../src/index.js';
import { Registry, type RunningSimulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { makeApiKey } from '../helpers/credentials.js';
import { fakeClock, ticking } from '../helpers/fake-time.js';
import { shipmentCsv } from '../helpers/input.js';
import { countBy, readResults } from '../helpers/results.js';
import { FAST_RETRY, startTestSimulator } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

// The key file's adminRestApiUrl, deliberately without the trailing slash: the JWT's aud must carry
// it verbatim even though the run is pointed at the simulator's own URL.
const AUD = 'https://example.access.securid.com/AdminInterface/restapi';
const testKey = makeApiKey();
const apiKey: ApiKey = { accessID: testKey.accessID, accessKey: testKey.privateKey, adminRestApiUrl: AUD };

let dir: string;
beforeEach(() => {
  dir = tempDir();
});

const startWithKey = (options: SimulatorOptions = {}): Promise<RunningSimulator> =>
  startTestSimulator({
    autoRegister: true,
    apiKeys: [{ accessID: apiKey.accessID, publicKey: testKey.publicKey, adminRestApiUrl: AUD }],
    ...options,
  });

async function runRows(
  count: number,
  sim: RunningSimulator,
  tokenProvider: TokenProvider,
  options: Partial<RunOptions> = {},
  extraLines = '',
) {
  const input = writeFile(dir, 'in.csv', shipmentCsv(count) + extraLines);
  const out = join(dir, 'out.csv');
  const summary = await run({
    input,
    out,
    baseUrl: sim.baseUrl,
    tokenProvider,
    rate: 1000,
    concurrency: 2,
    retryPolicy: FAST_RETRY,
    ...options,
  });
  return { summary, results: readResults(out) };
}

describe('API key authentication through run()', () => {
  it('renews the token before it expires: several tokens, no 403 at all', async () => {
    // No clock skew allowed and 3-second tokens renewed with 2 s left: a run of 30 requests 250 ms
    // apart (7.5 s of fake time) needs several.
    const clock = fakeClock();
    const sim = await startWithKey({ auth: { clockSkewSeconds: 0 } });
    const provider = ticking(clock, apiKeyTokenProvider(apiKey, { lifetimeSeconds: 3, renewBeforeSeconds: 2 }), 250);
    const { summary, results } = await runRows(30, sim, provider);
    expect(summary.byOutcome.enabled).toBe(30);
    expect(sim.countsByStatus.get(403)).toBeUndefined();
    expect(sim.bearerTokensSeen.size).toBeGreaterThanOrEqual(2);
    // One token serves many calls: far fewer tokens than requests.
    expect(sim.bearerTokensSeen.size).toBeLessThan(30);
    expect(results.every((row) => row['attempts'] === '1')).toBe(true);
  });

  it('a token the server calls expired mid-run is renewed once and the row retried', async () => {
    // The server refuses tokens older than 1 s while the client believes they live 55 minutes; the
    // requests are 250 ms apart on the fake clock.
    const clock = fakeClock();
    const sim = await startWithKey({ auth: { maxTokenAgeSeconds: 1 } });
    const { summary, results } = await runRows(30, sim, ticking(clock, apiKeyTokenProvider(apiKey), 250));
    expect(summary.byOutcome.enabled).toBe(30);
    expect(sim.countsByStatus.get(403)).toBeGreaterThan(0);
    expect(sim.calls.filter((call) => call.status === 403).every((call) => call.authError === 'token too old')).toBe(
      true,
    );
    expect(results.some((row) => row['attempts'] === '2')).toBe(true);
    expect(countBy(results, 'errorCode')).toEqual({ '': 30 });
    expect(exitCodeFor(summary)).toBe(0);
  });

  it('a fixed token refused with 403 is not retried (it cannot be renewed): the preflight stops the run', async () => {
    const sim = await startWithKey();
    await expect(runRows(5, sim, staticTokenProvider('not-the-token'))).rejects.toMatchObject({
      code: 'TENANT',
      message: expect.stringMatching(/refused the credentials/),
    });
    // One lookup, no renewal retry, and no row sent.
    expect(sim.calls.map((call) => [call.method, call.status])).toEqual([['POST', 403]]);
  });

  it('a key revoked mid-run stops the run: every row accounted for, exit 3', async () => {
    const sim = await startWithKey();
    const inner = apiKeyTokenProvider(apiKey);
    let asked = 0;
    // Revoke the key in the "console" once the run is under way.
    const provider: TokenProvider = {
      getToken: async () => {
        if (++asked === 9) sim.revokeApiKey(apiKey.accessID); // the 1st is the start's, the 2nd the preflight's
        return inner.getToken();
      },
      invalidate: (token) => inner.invalidate!(token),
    };
    const { summary, results } = await runRows(40, sim, provider);
    expect(exitCodeFor(summary)).toBe(3);
    expect(summary.stopped).toMatchObject({ code: 'RUN_ABORTED', message: expect.stringMatching(/refused/) });
    expect(results.map((row) => Number(row['line'])).toSorted((a, b) => a - b)).toEqual(
      Array.from({ length: 40 }, (_, index) => index + 2),
    );
    const outcomes = countBy(results, 'outcome');
    expect(outcomes['enabled']).toBeGreaterThanOrEqual(5);
    expect(summary.byErrorCode.FORBIDDEN).toBeGreaterThanOrEqual(3);
    expect(outcomes['not-attempted']).toBeGreaterThanOrEqual(1);
    for (const row of results.filter((result) => result['outcome'] === 'not-attempted')) {
      expect(row).toMatchObject({ errorCode: 'RUN_ABORTED', attempts: '0', httpStatus: '' });
      expect(row['errorMessage']).toMatch(/revoked or wrong/);
    }
    // 3 refused rows x 2 attempts (one renewal retry each), plus at most the 2 rows in flight when
    // the breaker tripped; without the breaker the ~33 remaining rows would each have cost two 403s.
    expect(sim.countsByStatus.get(403)).toBeLessThanOrEqual(10);
    expect(summary.rows).toBe(40);
  });

  it('--max-failure-rate stops the run once enough rows were sent; later invalid rows stay invalid', async () => {
    // The tenant knows only the first 3 devices: every other row is a 404.
    const registry = await Registry.fromCsv(writeFile(dir, 'tenant.csv', shipmentCsv(3)));
    const simulator = await startTestSimulator({ registry, autoRegister: false });
    const { summary, results } = await runRows(
      40,
      simulator,
      staticTokenProvider(simulator.token),
      { maxFailureRate: 50, failureRateMinRows: 10 },
      'not-a-serial,aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee,late bad row\n',
    );
    expect(exitCodeFor(summary)).toBe(3);
    expect(summary.stopped?.message).toMatch(/rows sent so far failed .* more than the maximum failure rate of 50%/);
    expect(summary.rows).toBe(41);
    expect(summary.byOutcome['not-attempted']).toBeGreaterThan(0);
    expect(summary.byOutcome.enabled).toBe(3);
    expect(results.find((row) => row['line'] === '42')).toMatchObject({
      outcome: 'invalid',
      errorCode: 'INVALID_SERIAL',
    });
    // Stopped soon after the minimum: not every row was sent.
    expect(summary.requests).toBeLessThan(40);
  });

  it("the caller's signal stops a run the same way, with the caller's reason", async () => {
    const simulator = await startTestSimulator({ autoRegister: true });
    const controller = new AbortController();
    controller.abort({ code: 'RUN_ABORTED', message: 'stopped by the test' });
    const { summary, results } = await runRows(10, simulator, staticTokenProvider(simulator.token), {
      signal: controller.signal,
    });
    expect(summary.requests).toBe(0);
    expect(summary.stopped).toEqual({ code: 'RUN_ABORTED', message: 'stopped by the test' });
    expect(countBy(results, 'outcome')).toEqual({ 'not-attempted': 10 });
    expect(countBy(results, 'errorMessage')).toEqual({ 'stopped by the test': 10 });
    expect(exitCodeFor(summary)).toBe(3);
  });

  it('rows that cannot get a token fail with TOKEN_ERROR and trip the breaker', async () => {
    const simulator = await startTestSimulator({ autoRegister: true });
    const token = simulator.token;
    let calls = 0;
    // The run's first token and the preflight's work; every row's fails.
    const flaky: TokenProvider = {
      getToken: async () => {
        if (++calls > 2) throw new Error('the OAuth token endpoint https://auth.example/token answered HTTP 503');
        return token;
      },
    };
    const { summary, results } = await runRows(20, simulator, flaky);
    expect(summary.byErrorCode.TOKEN_ERROR).toBeGreaterThanOrEqual(3);
    expect(results.find((row) => row['errorCode'] === 'TOKEN_ERROR')?.['errorMessage']).toMatch(/answered HTTP 503/);
    expect(exitCodeFor(summary)).toBe(3);
    expect(summary.rows).toBe(20);
  });
});
