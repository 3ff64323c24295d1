import { join } from 'node:path';
import { expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/auth/token-cache.js';
import { run } from '../../src/index.js';
import { fakeTimers, settle } from '../helpers/fake-time.js';
import { readResults } from '../helpers/results.js';
import { startTestSimulator } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

it('ends an attempt that outlives --timeout as TIMEOUT, settles it by a lookup, and retries it', async () => {
  // The slow serial answers after 5 s the first time, at once after that; the run allows 100 ms. The
  // deadline runs on fake time, the simulator holds its answer in real time. The timed-out enable may
  // have been made, so a lookup asks first: not made (yet), so the row is failed or sent again.
  fakeTimers();
  const dir = tempDir();
  let simulator = await startTestSimulator({
    autoRegister: true,
    faults: new Map([['140100001', [{ delayMs: 5000 }]]]),
  });
  const input = writeFile(
    dir,
    'in.csv',
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
  const once = await settle(run({ ...options, rate: 1000, retryPolicy: { retries: 0 } }));
  expect(once.byErrorCode).toEqual({ TIMEOUT: 1 });
  const rows = readResults(out);
  expect(rows.find((row) => row['deviceSerialNumber'] === '140100001')).toMatchObject({
    outcome: 'failed',
    errorCode: 'TIMEOUT',
    attempts: '2', // the enable and the lookup that found it not made
    errorMessage: 'no complete response within the timeout; a lookup found the change not made',
  });

  // Same fault again, now with a retry: the second attempt is answered at once.
  await simulator.close();
  simulator = await startTestSimulator({
    autoRegister: true,
    faults: new Map([['140100001', [{ delayMs: 5000 }]]]),
  });
  const retried = await settle(
    run({
      ...options,
      baseUrl: simulator.baseUrl,
      tokenProvider: staticTokenProvider(simulator.token),
      rate: 1000,
      retryPolicy: { retries: 1, baseDelayMs: 10 },
    }),
  );
  expect(retried.byOutcome).toEqual({ enabled: 2 });
});
