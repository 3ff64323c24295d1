import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ds100Error } from '../../src/errors.js';
import { staticTokenProvider } from '../../src/auth/token-cache.js';
import { exitCodeFor } from '../../src/index.js';
import { reconcile, type ReconcileOptions } from '../../src/commands/reconcile.js';
import { run } from '../../src/index.js';
import { Registry, type RunningSimulator } from '../../src/simulator/index.js';
import { loadLedger, pairKey } from '../../src/state/ledger.js';
import { StateStore } from '../../src/state/state-store.js';
import { advanceUntil, fakeTimers, settle } from '../helpers/fake-time.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { readResults } from '../helpers/results.js';
import { FAST_RETRY, PREFLIGHT_REQUESTS, registryOf, rowCalls, startTestSimulator } from '../helpers/simulator.js';
import { PREFLIGHT_SERIAL } from '../../src/pipeline/preflight.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

let simulator: RunningSimulator | undefined;

/** One reconcile run with its own lock and ledger handle, as a nightly job would have. */
async function night(options: Omit<ReconcileOptions, 'state' | 'baseUrl' | 'tokenProvider'>, stateFile: string) {
  const state = StateStore.open(stateFile);
  const callsBefore = simulator!.calls.length;
  try {
    const summary = await reconcile({
      ...options,
      state,
      baseUrl: simulator!.baseUrl,
      tokenProvider: staticTokenProvider(simulator!.token),
      rate: 1000,
      retryPolicy: FAST_RETRY,
    });
    const calls = simulator!.calls.slice(callsBefore).filter((call) => call.serial !== PREFLIGHT_SERIAL);
    return {
      summary,
      results: options.out ? readResults(options.out) : [],
      lookups: calls.filter((call) => call.method === 'POST').length,
      patches: calls.filter((call) => call.method === 'PATCH').map((call) => call.serial),
    };
  } finally {
    state.close();
  }
}

describe('reconcile over three simulated nights', () => {
  it('enables what became registered, skips what is done, and reports conflicts untouched', async () => {
    const pairs = somePairs(9);
    const [intruder] = somePairs(1, 99);
    const registry = new Registry();
    simulator = await startTestSimulator({ registry });
    const dir = tempDir();
    const input = writeFile(dir, 'assignments.csv', pairsCsv(pairs));
    const stateFile = join(dir, 'assignments.state');
    const out = join(dir, 'results.csv');

    // Night 1: three users have registered their DS100.
    for (const pair of pairs.slice(0, 3)) registry.register(pair);
    const first = await night({ input, out }, stateFile);
    expect(first.summary.byOutcome).toEqual({ enabled: 3, 'not-registered': 6 });
    // Sent concurrently: which PATCHes, not in what order.
    expect(first.patches.toSorted()).toEqual(pairs.slice(0, 3).map((pair) => pair.deviceSerialNumber));
    expect(exitCodeFor(first.summary)).toBe(0); // not registered yet is not an error

    // Night 2: three more; one device turns up registered to somebody else.
    for (const pair of pairs.slice(3, 6)) registry.register(pair);
    registry.register({ deviceSerialNumber: pairs[6]!.deviceSerialNumber, userId: intruder!.userId });
    const second = await night({ input, out }, stateFile);
    expect(second.summary.byOutcome).toEqual({ unchanged: 3, enabled: 3, conflict: 1, 'not-registered': 2 });
    expect(second.lookups).toBe(6); // the three enabled on night 1 are not even looked up
    expect(second.patches.toSorted()).toEqual(pairs.slice(3, 6).map((pair) => pair.deviceSerialNumber));
    const conflict = second.results.find((row) => row['outcome'] === 'conflict')!;
    expect(conflict['errorMessage']).toContain(`registered to user ${intruder!.userId}`);
    expect(registry.get(pairs[6]!.deviceSerialNumber)!.tokenStatus).toBe('Disabled');
    expect(exitCodeFor(second.summary)).toBe(1); // a conflict needs a human

    // Night 3: the rest register; one was already enabled by hand in the console meanwhile.
    for (const pair of pairs.slice(7)) registry.register(pair);
    registry.get(pairs[8]!.deviceSerialNumber)!.tokenStatus = 'Enabled';
    const third = await night({ input, out }, stateFile);
    expect(third.summary.byOutcome).toEqual({ unchanged: 7, enabled: 1, conflict: 1 });
    expect(third.patches).toEqual([pairs[7]!.deviceSerialNumber]);
    expect(third.results).toHaveLength(9);

    // Every PATCH over the three nights went to a different device: nothing was enabled twice.
    const allPatches = simulator.calls.filter((call) => call.method === 'PATCH').map((call) => call.serial);
    expect(new Set(allPatches).size).toBe(allPatches.length);
    const ledger = loadLedger(stateFile);
    expect(ledger.entries.get(pairKey(pairs[6]!))?.outcome).toBe('conflict');
    expect(ledger.entries.get(pairKey(pairs[8]!))?.tokenStatus).toBe('Enabled');
  });

  it('--recheck looks enabled pairs up again instead of trusting the ledger', async () => {
    const pairs = somePairs(3);
    const registry = registryOf(pairs);
    simulator = await startTestSimulator({ registry });
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
    const stateFile = join(dir, 'in.state');
    await night({ input }, stateFile);
    // Someone disabled one credential in the console since.
    registry.get(pairs[0]!.deviceSerialNumber)!.tokenStatus = 'Disabled';
    const trusting = await night({ input }, stateFile);
    expect(trusting.lookups + trusting.patches.length).toBe(0);
    const rechecked = await night({ input, recheck: true }, stateFile);
    expect(rechecked.lookups).toBe(3);
    expect(rechecked.patches).toEqual([pairs[0]!.deviceSerialNumber]);
    expect(rechecked.summary.byOutcome).toEqual({ enabled: 1, unchanged: 2 });
  });

  it('--max-changes enables no more than N and leaves the rest not-attempted (exit 5)', async () => {
    const pairs = somePairs(10);
    const registry = registryOf(pairs);
    simulator = await startTestSimulator({ registry });
    const dir = tempDir();
    const out = join(dir, 'r.csv');
    const { summary, patches, results } = await night(
      { input: writeFile(dir, 'in.csv', pairsCsv(pairs)), out, maxChanges: 3, concurrency: 8 },
      join(dir, 's.state'),
    );
    expect(patches).toHaveLength(3);
    expect(summary.byOutcome).toEqual({ enabled: 3, 'not-attempted': 7 });
    expect(summary.byErrorCode).toEqual({ MAX_CHANGES_REACHED: 7 });
    const held = results.filter((row) => row['outcome'] === 'not-attempted');
    expect(held.map((row) => [row['attempts'], row['errorMessage']])).toEqual(
      held.map(() => ['1', 'would be enabled, but --max-changes 3 was reached in this run']),
    );
    expect(exitCodeFor(summary)).toBe(5);
  });

  it('reports pairs that left the input as drift and does nothing to them', async () => {
    const pairs = somePairs(4);
    const registry = registryOf(pairs);
    simulator = await startTestSimulator({ registry });
    const dir = tempDir();
    const stateFile = join(dir, 's.state');
    await night({ input: writeFile(dir, 'all.csv', pairsCsv(pairs)) }, stateFile);
    const later = await night({ input: writeFile(dir, 'fewer.csv', pairsCsv(pairs.slice(0, 1))) }, stateFile);
    expect(later.summary.removedFromInput).toBe(3);
    expect(later.lookups + later.patches.length).toBe(0);
    expect(pairs.every((pair) => registry.get(pair.deviceSerialNumber)!.tokenStatus === 'Enabled')).toBe(true);
  });
});

describe('reconcile at its edges', () => {
  it('needs a state ledger (USAGE)', async () => {
    const dir = tempDir();
    const error = await reconcile({
      input: writeFile(dir, 'in.csv', pairsCsv(somePairs(1))),
      baseUrl: 'https://t.example/AdminInterface/restapi/',
      tokenProvider: staticTokenProvider('t'),
    } as ReconcileOptions).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Ds100Error);
    expect(error).toMatchObject({ code: 'USAGE', message: expect.stringMatching(/^Expected `state` \(--state\)/) });
  });

  it('a stop between the lookup and the enable leaves the row not-attempted and the device untouched', async () => {
    // On fake time at one request a second: the lookup goes at once, the enable would wait its turn.
    fakeTimers();
    const [pair] = somePairs(1);
    const registry = registryOf([pair!]);
    simulator = await startTestSimulator({ registry });
    const dir = tempDir();
    const state = StateStore.open(join(dir, 's.state'));
    const stop = new AbortController();
    try {
      const running = reconcile({
        input: writeFile(dir, 'in.csv', pairsCsv([pair!])),
        out: join(dir, 'r.csv'),
        state,
        baseUrl: simulator.baseUrl,
        tokenProvider: staticTokenProvider(simulator.token),
        rate: 1,
        signal: stop.signal,
      });
      await advanceUntil(() => rowCalls(simulator!).length === 1); // the lookup was answered
      stop.abort({ code: 'INTERRUPTED', message: 'stopped by the test' });
      const summary = await settle(running);
      expect(summary).toMatchObject({ requests: 1 + PREFLIGHT_REQUESTS, byOutcome: { 'not-attempted': 1 } });
      expect(readResults(join(dir, 'r.csv'))[0]).toMatchObject({
        outcome: 'not-attempted',
        errorCode: 'INTERRUPTED',
        errorMessage: 'stopped by the test',
      });
      expect(rowCalls(simulator).map((call) => call.method)).toEqual(['POST']);
      expect(registry.get(pair!.deviceSerialNumber)!.tokenStatus).toBe('Disabled');
    } finally {
      state.close();
    }
  });
});

describe('enable with --state and --resume', () => {
  it('does not send again what the ledger records as enabled, and still reports every row', async () => {
    const pairs = somePairs(6);
    const registry = registryOf(pairs);
    simulator = await startTestSimulator({ registry });
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
    const stateFile = join(dir, 'in.state');
    // An earlier, interrupted run got through the first two rows.
    const earlier = StateStore.open(stateFile);
    await run({
      input: writeFile(dir, 'first-two.csv', pairsCsv(pairs.slice(0, 2))),
      out: join(dir, 'r0.csv'),
      baseUrl: simulator.baseUrl,
      tokenProvider: staticTokenProvider(simulator.token),
      rate: 1000,
      state: earlier,
    });
    earlier.close();
    const callsBefore = simulator.calls.length;
    const state = StateStore.open(stateFile);
    const out = join(dir, 'r1.csv');
    const summary = await run({
      input,
      out,
      baseUrl: simulator.baseUrl,
      tokenProvider: staticTokenProvider(simulator.token),
      rate: 1000,
      state,
      resume: true,
    });
    state.close();
    const sent = simulator.calls
      .slice(callsBefore)
      .map((call) => call.serial)
      .filter((serial) => serial !== PREFLIGHT_SERIAL);
    expect(sent).toEqual(pairs.slice(2).map((pair) => pair.deviceSerialNumber));
    expect(summary.byOutcome).toEqual({ enabled: 6 });
    const results = readResults(out);
    expect(results.map((row) => [row['outcome'], row['attempts']])).toEqual([
      ['enabled', '0'],
      ['enabled', '0'],
      ['enabled', '1'],
      ['enabled', '1'],
      ['enabled', '1'],
      ['enabled', '1'],
    ]);
    expect(results[0]!['tokenSerialNumber']).toBe(registry.get(pairs[0]!.deviceSerialNumber)!.tokenSerialNumber);
  });
});

describe('reconcile stopped between a lookup and its enable', () => {
  it('reports the row not-attempted with the lookup it sent, and sends no enable', async () => {
    fakeTimers();
    const [pair] = somePairs(1);
    simulator = await startTestSimulator({ registry: registryOf([pair!]) });
    const dir = tempDir();
    const out = join(dir, 'results.csv');
    const state = StateStore.open(join(dir, 'assignments.state'));
    const stop = new AbortController();
    try {
      const running = reconcile({
        input: writeFile(dir, 'assignments.csv', pairsCsv([pair!])),
        out,
        state,
        baseUrl: simulator.baseUrl,
        tokenProvider: staticTokenProvider(simulator.token),
        // One start every 2 s: the enable waits in the queue after the lookup is answered.
        rate: 0.5,
        signal: stop.signal,
      });
      await advanceUntil(() => rowCalls(simulator!).length === 1);
      stop.abort({ code: 'INTERRUPTED', message: 'SIGINT received' });
      const summary = await settle(running);
      expect(summary.byOutcome).toEqual({ 'not-attempted': 1 });
      expect(readResults(out)[0]).toMatchObject({
        outcome: 'not-attempted',
        errorCode: 'INTERRUPTED',
        attempts: '1',
        httpStatus: '200',
      });
      expect(rowCalls(simulator).map((call) => call.method)).toEqual(['POST']);
    } finally {
      state.close();
    }
  });
});
