import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/auth/token-cache.js';
import { run } from '../../src/index.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';

let dir: string;
let simulator: RunningSimulator | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds100-deadline-'));
});
afterEach(async () => {
  await simulator?.close();
  await rm(dir, { recursive: true, force: true });
});

it('ends an attempt that outlives --timeout as TIMEOUT, and retries it like any other', async () => {
  // The slow serial answers after 2 s the first time, at once the second; the run allows 100 ms.
  simulator = await startSimulator({
    autoRegister: true,
    faults: new Map([['140100001', [{ delayMs: 2000 }]]]),
  });
  const input = join(dir, 'in.csv');
  await writeFile(
    input,
    'deviceSerialNumber,userId\n140100001,ece30fe9-414c-7536-5403-0656220b3046\n140100002,ece30fe9-414c-7536-5403-0656220b3047\n',
  );
  const out = join(dir, 'out.csv');
  const options = {
    input,
    out,
    baseUrl: simulator.baseUrl,
    tokenProvider: staticTokenProvider(simulator.token),
    timeoutMs: 100,
  };
  const once = await run({ ...options, retryPolicy: { retries: 0 } });
  expect(once.byErrorCode).toEqual({ TIMEOUT: 1 });
  const rows = parse(await readFile(out), { columns: true }) as Array<Record<string, string>>;
  expect(rows.find((row) => row['deviceSerialNumber'] === '140100001')).toMatchObject({
    outcome: 'failed',
    errorCode: 'TIMEOUT',
    attempts: '1',
  });

  // Same fault again, now with a retry: the second attempt is answered at once.
  await simulator.close();
  simulator = await startSimulator({
    autoRegister: true,
    faults: new Map([['140100001', [{ delayMs: 2000 }]]]),
  });
  const retried = await run({
    ...options,
    baseUrl: simulator.baseUrl,
    tokenProvider: staticTokenProvider(simulator.token),
    retryPolicy: { retries: 1, baseDelayMs: 10 },
  });
  expect(retried.byOutcome).toEqual({ enabled: 2 });
});
