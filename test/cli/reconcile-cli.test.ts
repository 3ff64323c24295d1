import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { loadLedger } from '../../src/state/ledger.js';
import type { Ds100Pair } from '../../src/types.js';
import { pairsCsv, readResults, somePairs, tempDir, writeFile } from '../helpers.js';
import { runCli, startCli, type RunningCli } from '../helpers/cli.js';

let simulator: RunningSimulator | undefined;
afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
});

/** A tenant that answers slowly, so that a run can be interrupted half-way. */
async function slowTenant(pairs: readonly Ds100Pair[], latencyMs = 40) {
  const registry = new Registry();
  for (const pair of pairs) registry.register(pair);
  simulator = await startSimulator({ registry, latencyMs });
  return { env: { DS100_TOKEN: simulator.token }, baseUrl: simulator.baseUrl };
}

const patchedSerials = (from = 0): string[] =>
  simulator!.calls
    .slice(from)
    .filter((call) => call.method === 'PATCH' && call.status === 200)
    .map((call) => call.serial!);

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const untilPatches = (count: number) => waitFor(() => patchedSerials().length >= count, `${count} PATCHes`);

describe('enable --state, killed with SIGKILL at random moments, then --resume', () => {
  it('accounts for every row exactly once and never resends a row the ledger recorded as enabled', async () => {
    const pairs = somePairs(60);
    const { env, baseUrl } = await slowTenant(pairs, 15);
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
        callsAtKill: simulator!.calls.length,
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
      const pairs = somePairs(40);
      const { env, baseUrl } = await slowTenant(pairs, 50);
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
      running.child.kill(signal);
      const { code, stdout } = await running.done;
      expect(code).toBe(exitCode);
      expect(stdout).toContain('RUN STOPPED EARLY (INTERRUPTED)');
      const results = readResults(out);
      expect(results).toHaveLength(40);
      const enabled = results.filter((row) => row['outcome'] === 'enabled');
      const interrupted = results.filter((row) => row['errorCode'] === 'INTERRUPTED');
      expect(enabled.length + interrupted.length).toBe(40);
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
    const pairs = somePairs(40);
    const { env, baseUrl } = await slowTenant(pairs, 400);
    const dir = tempDir();
    const state = join(dir, 's.state');
    const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
    const running = startCli(
      ['enable', input, '--out', join(dir, 'r.csv'), '--state', state, '--base-url', baseUrl, '--rate', '1000'],
      env,
    );
    await untilPatches(4);
    running.child.kill('SIGINT');
    running.child.kill('SIGINT');
    expect((await running.done).code).toBe(130);
    const ledger = loadLedger(state);
    expect(ledger.ignoredLines).toBe(0);
    for (const entry of ledger.entries.values()) expect(patchedSerials()).toContain(entry.deviceSerialNumber);
    expect(existsSync(`${state}.lock`)).toBe(false);
  });

  it('--max-runtime ends the run the same way, with exit 6', async () => {
    const pairs = somePairs(30);
    const { env, baseUrl } = await slowTenant(pairs, 50);
    const dir = tempDir();
    const out = join(dir, 'r.csv');
    const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
    const { code, stdout } = await runCli(
      [
        'enable',
        input,
        '--out',
        out,
        '--base-url',
        baseUrl,
        '--rate',
        '10',
        '--max-runtime',
        '1s',
        '--log-level',
        'silent',
      ],
      env,
    );
    expect(code).toBe(6);
    expect(stdout).toContain('RUN STOPPED EARLY (MAX_RUNTIME)');
    const results = readResults(out);
    expect(results).toHaveLength(30);
    expect(results.filter((row) => row['errorCode'] === 'MAX_RUNTIME').length).toBeGreaterThan(10);
  });
});

describe('the state lock', () => {
  it('keeps a second run out while the first is running (exit 4), then lets the next one in', async () => {
    const pairs = somePairs(20);
    const { env, baseUrl } = await slowTenant(pairs, 50);
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
    ];
    const first = startCli([...args('1.csv'), '--rate', '20'], env);
    await waitFor(() => existsSync(`${state}.lock`), 'the lock');
    const second = await runCli(args('2.csv'), env);
    expect(second.code).toBe(4);
    expect(second.stderr).toMatch(/s\.state\.lock: another run holds the lock \(process \d+ on /);
    expect(existsSync(join(dir, '2.csv'))).toBe(false);
    expect((await first.done).code).toBe(0);
    const third = await runCli([...args('3.csv'), '--log-level', 'silent'], env);
    expect(third.code).toBe(0);
    expect(third.stdout).toMatch(/unchanged +20/);
  });

  it('takes over a lock left by a process that died, and says so', async () => {
    const pairs = somePairs(3);
    const { env, baseUrl } = await slowTenant(pairs, 0);
    const dir = tempDir();
    const state = join(dir, 's.state');
    // A pid far above any pid_max: certainly not running.
    writeFileSync(
      `${state}.lock`,
      JSON.stringify({ pid: 2 ** 30, hostname: hostname(), startedAt: '2026-11-21T02:00:00Z' }),
    );
    const { code, stderr } = await runCli(
      ['reconcile', writeFile(dir, 'in.csv', pairsCsv(pairs)), '--state', state, '--base-url', baseUrl],
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
    const { env, baseUrl } = await slowTenant(pairs, 0);
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
