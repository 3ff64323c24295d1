import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FaultStep, RunningSimulator, SimulatorOptions } from '../../src/simulator/index.js';
import { loadLedger } from '../../src/state/ledger.js';
import { StateStore } from '../../src/state/state-store.js';
import type { Ds100Pair } from '../../src/types.js';
import { runCli, startCli, waitFor, type RunningCli } from '../helpers/cli.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { readResults } from '../helpers/results.js';
import { registryOf, startTestSimulator } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

let simulator: RunningSimulator;

/** A tenant with `pairs` registered, answering after `latencyMs`, so that a run can be caught half-way. */
async function tenant(pairs: readonly Ds100Pair[], latencyMs = 0, options: SimulatorOptions = {}) {
  simulator = await startTestSimulator({ registry: registryOf(pairs), latencyMs, ...options });
  return { env: { DS100_TOKEN: simulator.token }, baseUrl: simulator.baseUrl };
}

const patchedSerials = (from = 0): string[] =>
  simulator.calls
    .slice(from)
    .filter((call) => call.method === 'PATCH' && call.status === 200)
    .map((call) => call.serial!);

const untilPatches = (count: number) => waitFor(() => patchedSerials().length >= count, `${count} PATCHes`);

describe('enable --state, killed with SIGKILL at random moments, then --resume', () => {
  it('accounts for every row exactly once and never resends a row the ledger recorded as enabled', async () => {
    const pairs = somePairs(40);
    const { env, baseUrl } = await tenant(pairs, 5);
    const dir = tempDir();
    const input = writeFile(dir, 'shipment.csv', pairsCsv(pairs));
    const state = join(dir, 'shipment.state');
    const args = (out: string) => ['enable', input, '--out', join(dir, out), '--state', state, '--base-url', baseUrl];
    const common = ['--concurrency', '4', '--rate', '1000', '--log-level', 'silent'];

    let running: RunningCli = startCli([...args('run0.csv'), ...common], env);
    // Per kill: the serials the ledger held as enabled, and where the tenant's call log stood.
    const kills: Array<{ recorded: Set<string>; callsAtKill: number }> = [];
    for (const [index, random] of [Math.random(), Math.random()].entries()) {
      // Kill when a random share (10-40 %) of the remaining rows is done.
      const done = patchedSerials().length;
      await untilPatches(done + Math.ceil((0.1 + random * 0.3) * (pairs.length - done)));
      running.child.kill('SIGKILL');
      expect((await running.done).signal).toBe('SIGKILL');
      const recorded = [...loadLedger(state).entries.values()].filter((entry) => entry.tokenStatus === 'Enabled');
      expect(recorded.length).toBeGreaterThan(0);
      kills.push({
        recorded: new Set(recorded.map((entry) => entry.deviceSerialNumber)),
        callsAtKill: simulator.calls.length,
      });
      running = startCli([...args(`run${index + 1}.csv`), '--resume', ...common], env);
    }
    const final = await running.done;
    expect(final.code).toBe(0);
    const results = readResults(join(dir, 'run2.csv'));
    expect(results.map((row) => row['line'])).toEqual(pairs.map((_, index) => String(index + 2)));
    expect(results.every((row) => row['outcome'] === 'enabled')).toBe(true);
    // Every device is enabled on the tenant; only rows in flight at a kill may have gone twice.
    const patched = patchedSerials();
    expect(new Set(patched)).toEqual(new Set(pairs.map((pair) => pair.deviceSerialNumber)));
    expect(patched.length - pairs.length).toBeLessThanOrEqual(2 * 4);
    // No row the ledger had recorded as enabled at a kill was ever sent again after it.
    for (const { recorded, callsAtKill } of kills) {
      expect(patchedSerials(callsAtKill).filter((serial) => recorded.has(serial))).toEqual([]);
    }
    expect(existsSync(`${state}.lock`)).toBe(false);
  });
});

describe('signals and time limits', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s lets requests in flight finish, marks the rest INTERRUPTED and exits %i',
    async (signal, exitCode) => {
      const pairs = somePairs(30);
      const { env, baseUrl } = await tenant(pairs, 30);
      const dir = tempDir();
      const out = join(dir, 'r.csv');
      const state = join(dir, 's.state');
      const summaryJson = join(dir, 'summary.json');
      const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
      const running = startCli(
        [
          'enable',
          input,
          '--out',
          out,
          '--state',
          state,
          '--base-url',
          baseUrl,
          '--rate',
          '1000',
          '--summary-json',
          summaryJson,
        ],
        env,
      );
      await untilPatches(5);
      // The run holds the ledger's lock while it runs.
      expect(JSON.parse(readFileSync(`${state}.lock`, 'utf8'))).toMatchObject({ pid: running.child.pid });
      running.child.kill(signal);
      const { code, stdout } = await running.done;
      expect(code).toBe(exitCode);
      expect(stdout).toContain('RUN STOPPED EARLY (INTERRUPTED)');
      const results = readResults(out);
      expect(results).toHaveLength(30);
      const enabled = results.filter((row) => row['outcome'] === 'enabled');
      const interrupted = results.filter((row) => row['errorCode'] === 'INTERRUPTED');
      expect(enabled.length + interrupted.length).toBe(30);
      expect(interrupted.length).toBeGreaterThan(0);
      expect(interrupted.every((row) => row['outcome'] === 'not-attempted' && row['attempts'] === '0')).toBe(true);
      // What the tenant enabled is exactly what the results and the ledger say.
      expect(new Set(patchedSerials())).toEqual(new Set(enabled.map((row) => row['deviceSerialNumber'])));
      expect(loadLedger(state).entries.size).toBe(enabled.length);
      expect(JSON.parse(readFileSync(summaryJson, 'utf8'))).toMatchObject({
        exitCode,
        stopped: { code: 'INTERRUPTED' },
        byOutcome: { enabled: enabled.length, 'not-attempted': interrupted.length },
      });
    },
  );

  it('a second SIGINT exits at once, leaving a consistent ledger and no lock', async () => {
    // Two devices answer at once; every other request hangs for seconds, so that after the first
    // SIGINT requests are still in flight, which only a second SIGINT does not wait for.
    const pairs = somePairs(12);
    const hang: FaultStep[] = [{ delayMs: 3000 }];
    const faults = new Map(pairs.slice(2).map((pair) => [pair.deviceSerialNumber, hang]));
    const { env, baseUrl } = await tenant(pairs, 0, { faults });
    const dir = tempDir();
    const state = join(dir, 's.state');
    const out = join(dir, 'r.csv');
    const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
    const running = startCli(
      ['enable', input, '--out', out, '--state', state, '--base-url', baseUrl, '--rate', '1000'],
      env,
    );
    await untilPatches(2);
    await waitFor(() => loadLedger(state).entries.size === 2, 'both answered rows in the ledger');
    running.child.kill('SIGINT');
    // Two signals sent back to back can reach the process as one: the second goes once the first is
    // seen to have stopped the run.
    await waitFor(() => running.output().stderr.includes('run stopping'), 'the first SIGINT to stop the run');
    running.child.kill('SIGINT');
    const { code, stdout } = await running.done;
    expect(code).toBe(130);
    // Gone before the rows in flight were answered: no summary, no results line for them.
    expect(stdout).toBe('');
    expect(readResults(out).length).toBeLessThan(pairs.length);
    const ledger = loadLedger(state);
    expect(ledger.ignoredLines).toBe(0);
    expect([...ledger.entries.values()].map((entry) => entry.deviceSerialNumber).toSorted()).toEqual(
      patchedSerials().toSorted(),
    );
    expect(existsSync(`${state}.lock`)).toBe(false);
  });

  it('--max-runtime ends the run the same way, with exit 6', async () => {
    // At 0.5 requests a second the preflight lookup goes at 0 s, the first row at 2 s and the second
    // at 4 s: the 3 s limit ends the run between them.
    const pairs = somePairs(3);
    const { env, baseUrl } = await tenant(pairs);
    const dir = tempDir();
    const out = join(dir, 'r.csv');
    const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
    const { code, stdout } = await runCli(
      ['enable', input, '--out', out, '--base-url', baseUrl, '--rate', '0.5', '--max-runtime', '3s'],
      env,
    );
    expect(code).toBe(6);
    expect(stdout).toContain('RUN STOPPED EARLY (MAX_RUNTIME)');
    const results = readResults(out);
    expect(results.map((row) => [row['outcome'], row['errorCode']])).toEqual([
      ['enabled', ''],
      ['not-attempted', 'MAX_RUNTIME'],
      ['not-attempted', 'MAX_RUNTIME'],
    ]);
  });
});

describe('the state lock', () => {
  it('keeps a second run out while the first holds it (exit 4), then lets the next one in', async () => {
    const pairs = somePairs(5);
    const { env, baseUrl } = await tenant(pairs);
    const dir = tempDir();
    const state = join(dir, 's.state');
    const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
    const args = (out: string) => [
      'reconcile',
      input,
      '--state',
      state,
      '--out',
      join(dir, out),
      '--base-url',
      baseUrl,
      '--rate',
      '1000',
      '--log-level',
      'silent',
    ];
    // The first run is this test process, holding the ledger through the library as a run does.
    const first = StateStore.open(state);
    const second = await runCli(args('2.csv'), env);
    expect(second.code).toBe(4);
    expect(second.stderr).toMatch(
      new RegExp(`s\\.state\\.lock: another run holds the lock \\(process ${process.pid} on `),
    );
    expect(existsSync(join(dir, '2.csv'))).toBe(false);
    expect(simulator.calls).toEqual([]);
    first.close();
    expect(existsSync(`${state}.lock`)).toBe(false);
    const third = await runCli(args('3.csv'), env);
    expect(third.code).toBe(0);
    expect(third.stdout).toMatch(/enabled +5/);
    expect(existsSync(`${state}.lock`)).toBe(false);
  });

  it('takes over a lock left by a process that died, and says so', async () => {
    const pairs = somePairs(3);
    const { env, baseUrl } = await tenant(pairs);
    const dir = tempDir();
    const state = join(dir, 's.state');
    // A pid far above any pid_max: certainly not running.
    writeFileSync(
      `${state}.lock`,
      JSON.stringify({ pid: 2 ** 30, hostname: hostname(), startedAt: '2026-11-21T02:00:00Z' }),
    );
    const { code, stderr } = await runCli(
      [
        'reconcile',
        writeFile(dir, 'in.csv', pairsCsv(pairs)),
        '--state',
        state,
        '--base-url',
        baseUrl,
        '--rate',
        '1000',
      ],
      env,
    );
    expect(code).toBe(0);
    expect(stderr).toContain('took over the lock of a run that died');
    expect(existsSync(`${state}.lock`)).toBe(false);
  });
});

describe('reconcile --max-changes (built CLI)', () => {
  it('changes at most N tokens and exits 5', async () => {
    const pairs = somePairs(8);
    const { env, baseUrl } = await tenant(pairs);
    const dir = tempDir();
    const { code, stdout } = await runCli(
      [
        'reconcile',
        writeFile(dir, 'in.csv', pairsCsv(pairs)),
        '--state',
        join(dir, 's.state'),
        '--base-url',
        baseUrl,
        '--max-changes',
        '2',
        '--rate',
        '1000',
        '--log-level',
        'silent',
      ],
      env,
    );
    expect(code).toBe(5);
    expect(patchedSerials()).toHaveLength(2);
    expect(stdout).toMatch(/MAX_CHANGES_REACHED +6/);
  });
});
