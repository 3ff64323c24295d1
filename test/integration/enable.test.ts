import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { run, type RunOptions } from '../../src/index.js';
import { staticTokenProvider } from '../../src/auth/token-cache.js';
import type { FaultStep, RunningSimulator, SimulatorOptions } from '../../src/simulator/index.js';
import { Ds100Error } from '../../src/errors.js';
import type { Ds100Pair } from '../../src/types.js';
import { fakeTimers, settle } from '../helpers/fake-time.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { readResults } from '../helpers/results.js';
import { FAST_RETRY, PREFLIGHT_REQUESTS, registryOf, rowCalls, startTestSimulator } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

let simulator: RunningSimulator | undefined;

/** Starts a simulator with `registered` pairs and runs `input` against it. */
async function enable(
  input: string,
  registered: readonly Ds100Pair[],
  simulatorOptions: SimulatorOptions = {},
  runOptions: Partial<RunOptions> = {},
) {
  simulator = await startTestSimulator({ registry: registryOf(registered), ...simulatorOptions });
  const dir = tempDir();
  const inputPath = writeFile(dir, 'input.csv', input);
  const out = join(dir, 'results.csv');
  const running = run({
    input: inputPath,
    out,
    baseUrl: simulator.baseUrl,
    tokenProvider: staticTokenProvider(simulator.token),
    rate: 1000,
    retryPolicy: FAST_RETRY,
    ...runOptions,
  });
  // A test on fake time drives the run's waits itself.
  const summary = await (vi.isFakeTimers() ? settle(running) : running);
  return { summary, results: readResults(out), calls: rowCalls(simulator) };
}

const faults = (entries: Record<string, FaultStep[]>): Map<string, FaultStep[]> => new Map(Object.entries(entries));

describe('run() against the simulator', () => {
  it('enables every registered pair and reports the token the service returned', async () => {
    const pairs = somePairs(25);
    const { summary, results, calls } = await enable(pairsCsv(pairs), pairs);
    expect(summary.rows).toBe(25);
    expect(summary.byOutcome).toEqual({ enabled: 25 });
    expect(summary.requests).toBe(25 + PREFLIGHT_REQUESTS);
    expect(calls.every((call) => call.method === 'PATCH' && call.path.endsWith('/v1/ds100/enable/otp'))).toBe(true);
    expect(results.map((row) => row['line'])).toEqual(pairs.map((_, index) => String(index + 2)));
    for (const [index, row] of results.entries()) {
      const credential = simulator!.registry.get(pairs[index]!.deviceSerialNumber)!;
      expect(row).toMatchObject({
        deviceSerialNumber: pairs[index]!.deviceSerialNumber,
        outcome: 'enabled',
        tokenSerialNumber: credential.tokenSerialNumber,
        tokenStatus: 'Enabled',
        httpStatus: '200',
        errorCode: '',
        attempts: '1',
      });
      expect(credential.tokenStatus).toBe('Enabled');
    }
  });

  it('carries other columns through and copes with BOM, CRLF, quotes and blank lines', async () => {
    const [a, b] = somePairs(2);
    const input = `\ufeffSite,Serial Number,"User ID",Ticket\r\n"Berlin, HQ",${a!.deviceSerialNumber},${a!.userId},"CHG-1\r\nsecond line"\r\n\r\nOslo,${b!.deviceSerialNumber},${b!.userId},CHG-2\r\n`;
    const { results } = await enable(input, [a!, b!]);
    expect(results.map((row) => [row['line'], row['outcome'], row['Site'], row['Ticket']])).toEqual([
      ['2', 'enabled', 'Berlin, HQ', 'CHG-1\r\nsecond line'],
      ['5', 'enabled', 'Oslo', 'CHG-2'],
    ]);
  });

  it('retries a 429 after the Retry-After the server sent, then succeeds', async () => {
    fakeTimers();
    const [pair] = somePairs(1);
    const { results, calls } = await enable(pairsCsv([pair!]), [pair!], {
      faults: faults({ [pair!.deviceSerialNumber]: [{ status: 429, retryAfter: '1' }] }),
    });
    expect(results[0]).toMatchObject({ outcome: 'enabled', attempts: '2', httpStatus: '200' });
    expect(calls.map((call) => call.status)).toEqual([429, 200]);
    // The jittered backoff would be a few milliseconds here; only Retry-After explains a 1 s gap
    // (fake time, which the simulator's clock reads too), and it was waited out once.
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(calls[1]!.at - calls[0]!.at).toBeLessThan(1500);
  });

  it('does not hold a concurrency slot while a row waits out its backoff', async () => {
    fakeTimers();
    const [slow, other] = somePairs(2);
    const { results, calls } = await enable(
      pairsCsv([slow!, other!]),
      [slow!, other!],
      { faults: faults({ [slow!.deviceSerialNumber]: [{ status: 429, retryAfter: '1' }] }) },
      { concurrency: 1 },
    );
    expect(results.map((row) => row['outcome'])).toEqual(['enabled', 'enabled']);
    // With one slot, the second row could only go while the first was backing off.
    expect(calls.map((call) => [call.serial, call.status])).toEqual([
      [slow!.deviceSerialNumber, 429],
      [other!.deviceSerialNumber, 200],
      [slow!.deviceSerialNumber, 200],
    ]);
  });

  it('retries 500s and gives up as SERVER_ERROR after the last retry', async () => {
    const [pair] = somePairs(1);
    const fiveHundreds = Array.from({ length: 3 }, () => ({ status: 500 }));
    const { summary, results, calls } = await enable(
      pairsCsv([pair!]),
      [pair!],
      { faults: faults({ [pair!.deviceSerialNumber]: fiveHundreds }) },
      { retryPolicy: { ...FAST_RETRY, retries: 2 } },
    );
    expect(calls).toHaveLength(3);
    expect(results[0]).toMatchObject({
      outcome: 'failed',
      errorCode: 'SERVER_ERROR',
      httpStatus: '500',
      errorMessage: 'An internal error occurred.',
      attempts: '3',
    });
    expect(summary.byErrorCode).toEqual({ SERVER_ERROR: 1 });
    expect(summary.requests).toBe(3 + PREFLIGHT_REQUESTS);
  });

  it('recovers when a 5xx passes before the retries run out; a gateway 502 is settled by a lookup first', async () => {
    const [pair] = somePairs(1);
    const { results, calls } = await enable(pairsCsv([pair!]), [pair!], {
      faults: faults({
        [pair!.deviceSerialNumber]: [{ status: 503 }, { status: 502, body: '<html>Bad Gateway</html>' }],
      }),
    });
    // A 502 may hide an enable the service behind the gateway made: the lookup shows it was not.
    expect(calls.map((call) => [call.method, call.status])).toEqual([
      ['PATCH', 503],
      ['PATCH', 502],
      ['POST', 200],
      ['PATCH', 200],
    ]);
    expect(results[0]).toMatchObject({ outcome: 'enabled', attempts: '4' });
  });

  it('does not retry a 404 or a 400', async () => {
    const [unknown, malformed] = somePairs(2);
    const { results, calls } = await enable(pairsCsv([unknown!, malformed!]), [malformed!], {
      faults: faults({ [malformed!.deviceSerialNumber]: [{ status: 400 }] }),
    });
    expect(calls).toHaveLength(2);
    expect(results.map((row) => [row['outcome'], row['errorCode'], row['httpStatus'], row['attempts']])).toEqual([
      ['failed', 'NOT_FOUND', '404', '1'],
      ['failed', 'BAD_REQUEST', '400', '1'],
    ]);
    expect(results[0]!['errorMessage']).toBe(`DS100 with serial number ${unknown!.deviceSerialNumber} not found`);
  });

  it('reports a device registered to another user as NOT_FOUND without touching it', async () => {
    const [pair, other] = somePairs(2);
    const { results } = await enable(pairsCsv([{ ...pair!, userId: other!.userId }]), [pair!]);
    expect(results[0]).toMatchObject({ outcome: 'failed', errorCode: 'NOT_FOUND' });
    expect(simulator!.registry.get(pair!.deviceSerialNumber)!.tokenStatus).toBe('Disabled');
  });

  it('times out an attempt that takes too long, settles it by a lookup, retries it, and reports TIMEOUT', async () => {
    fakeTimers(); // the attempt deadline runs on fake time; the simulator holds its answers in real time
    const [pair] = somePairs(1);
    const { results, calls } = await enable(
      pairsCsv([pair!]),
      [pair!],
      // Steps are per serial, lookups included: each held enable is followed by a lookup answered at once.
      { faults: faults({ [pair!.deviceSerialNumber]: [{ delayMs: 5000 }, {}, { delayMs: 5000 }, {}] }) },
      { timeoutMs: 150, retryPolicy: { ...FAST_RETRY, retries: 1 } },
    );
    expect(results[0]).toMatchObject({
      outcome: 'failed',
      errorCode: 'TIMEOUT',
      httpStatus: '',
      attempts: '4', // two enables, each followed by the lookup that found it not made
      errorMessage: 'no complete response within the timeout; a lookup found the change not made',
    });
    // The simulator never got to answer either enable; it answered both lookups.
    expect(calls.map((call) => [call.method, call.status])).toEqual([
      ['POST', 200],
      ['POST', 200],
    ]);
  });

  it('settles a 200 with a malformed body by a lookup instead of calling it failed', async () => {
    const [pair] = somePairs(1);
    const { results, calls } = await enable(pairsCsv([pair!]), [pair!], {
      faults: faults({ [pair!.deviceSerialNumber]: [{ status: 200, body: '{"tokenSerialNumber":"x"}' }] }),
    });
    // The scripted 200 stood in for the enable, so the lookup finds it not made: it is sent again.
    expect(calls.map((call) => [call.method, call.status])).toEqual([
      ['PATCH', 200],
      ['POST', 200],
      ['PATCH', 200],
    ]);
    expect(results[0]).toMatchObject({ outcome: 'enabled', attempts: '3', errorCode: '' });
  });

  it('never sends an invalid row, and still reports every row', async () => {
    const [good, dup, other, contested] = somePairs(4);
    const input = [
      'deviceSerialNumber,userId,note',
      `${good!.deviceSerialNumber},${good!.userId},ok`,
      `1.40100E+08,${other!.userId},sci`,
      `${dup!.deviceSerialNumber},jane@example.com,email`,
      `${good!.deviceSerialNumber},${good!.userId},again`,
      `${contested!.deviceSerialNumber},${other!.userId},conflict`,
      `${other!.deviceSerialNumber},${other!.userId}`,
      `,${other!.userId},no serial`,
      `${other!.deviceSerialNumber},,no user`,
      `${contested!.deviceSerialNumber},${contested!.userId},conflict`,
    ].join('\n');
    const { summary, results, calls } = await enable(input, [good!, dup!, other!, contested!]);
    expect(calls.map((call) => call.serial)).toEqual([good!.deviceSerialNumber]);
    expect(results.map((row) => [row['line'], row['outcome'], row['errorCode'], row['attempts']])).toEqual([
      ['2', 'enabled', '', '1'],
      ['3', 'invalid', 'SERIAL_SCIENTIFIC_NOTATION', '0'],
      ['4', 'invalid', 'INVALID_USER_ID', '0'],
      ['5', 'invalid', 'DUPLICATE_ROW', '0'],
      ['6', 'invalid', 'CONFLICTING_ROW', '0'],
      ['7', 'invalid', 'WRONG_FIELD_COUNT', '0'],
      ['8', 'invalid', 'MISSING_SERIAL', '0'],
      ['9', 'invalid', 'MISSING_USER_ID', '0'],
      ['10', 'invalid', 'CONFLICTING_ROW', '0'],
    ]);
    expect(summary.byOutcome).toEqual({ enabled: 1, invalid: 8 });
  });

  it('stops before any row when the preflight lookup is refused with 403, and writes no results', async () => {
    const [pair] = somePairs(1);
    simulator = await startTestSimulator({ registry: registryOf([pair!]), token: 'the-right-one' });
    const dir = tempDir();
    const out = join(dir, 'results.csv');
    const running = run({
      input: writeFile(dir, 'in.csv', pairsCsv([pair!])),
      out,
      baseUrl: simulator.baseUrl,
      tokenProvider: staticTokenProvider('a-wrong-one'),
      retryPolicy: FAST_RETRY,
    });
    await expect(running).rejects.toMatchObject({
      code: 'TENANT',
      message: expect.stringMatching(/refused the credentials for the read-only lookup \(403/),
    });
    expect(simulator.calls.map((call) => [call.method, call.status])).toEqual([['POST', 403]]);
    expect(existsSync(out)).toBe(false);
  });

  it('stops before any row when nothing listens, after retrying the preflight lookup', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const dir = tempDir();
    const [pair] = somePairs(1);
    const out = join(dir, 'results.csv');
    const running = run({
      input: writeFile(dir, 'in.csv', pairsCsv([pair!])),
      out,
      baseUrl: `http://127.0.0.1:${port}/AdminInterface/restapi`,
      tokenProvider: staticTokenProvider('t'),
      rate: 1000,
      retryPolicy: { ...FAST_RETRY, retries: 2 },
    });
    await expect(running).rejects.toMatchObject({
      code: 'TENANT',
      message: expect.stringMatching(/cannot be reached \(ECONNREFUSED\) after every retry/),
    });
    expect(existsSync(out)).toBe(false);
  });

  it('fails before any request when the header is unusable, and writes no results', async () => {
    simulator = await startTestSimulator({ autoRegister: true });
    const dir = tempDir();
    const out = join(dir, 'results.csv');
    const options = { out, baseUrl: simulator.baseUrl, tokenProvider: staticTokenProvider(simulator.token) };
    await expect(run({ ...options, input: writeFile(dir, 'a.csv', 'serial,name\n1,x\n') })).rejects.toThrow(
      /a\.csv: line 1: the header has no user ID or email column/,
    );
    await expect(run({ ...options, input: writeFile(dir, 'b.csv', '') })).rejects.toThrow(/b\.csv: the file is empty/);
    await expect(run({ ...options, input: join(dir, 'missing.csv') })).rejects.toThrow(Ds100Error);
    expect(rowCalls(simulator)).toHaveLength(0); // the read-only preflight lookup aside
    expect(() => readResults(out)).toThrow(/ENOENT/);
  });

  it('accepts the base URL with or without the trailing slash', async () => {
    const [pair] = somePairs(1);
    simulator = await startTestSimulator({ registry: registryOf([pair!]) });
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv([pair!]));
    for (const baseUrl of [simulator.baseUrl, simulator.baseUrl.replace(/\/$/, '')]) {
      const summary = await run({
        input,
        out: join(dir, 'r.csv'),
        baseUrl,
        tokenProvider: staticTokenProvider(simulator.token),
      });
      expect(summary.byOutcome).toEqual({ enabled: 1 });
    }
  });

  it.skipIf(!existsSync('/dev/full'))(
    'refuses a results file that cannot take a line (disk full) before any request',
    async () => {
      const pairs = somePairs(200);
      simulator = await startTestSimulator({ registry: registryOf(pairs) });
      const dir = tempDir();
      const error = await run({
        input: writeFile(dir, 'in.csv', pairsCsv(pairs)),
        out: '/dev/full',
        baseUrl: simulator.baseUrl,
        tokenProvider: staticTokenProvider(simulator.token),
        rate: 1000,
      }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({
        code: 'OUTPUT_FILE',
        message: 'cannot write the results file /dev/full: the disk is full',
      });
      expect(rowCalls(simulator)).toHaveLength(0); // the read-only preflight lookup aside
    },
  );
});
