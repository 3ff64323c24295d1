import { join } from 'node:path';
import { expect, it } from 'vitest';
import { run } from '../../src/index.js';
import { FAULT_KINDS, type ChaosShares } from '../../src/simulator/index.js';
import { StateStore } from '../../src/state/state-store.js';
import { isSameUser } from '../../src/types.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { readResults } from '../helpers/results.js';
import { registryOf, rowCalls, startTestSimulator, tenantOf } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

// Fixed, so that a failure can be replayed; SOAK_SEED=<n> (and SOAK_ROWS) explore other runs.
const ROWS = Number(process.env['SOAK_ROWS'] ?? 2000);
const SEED = Number(process.env['SOAK_SEED'] ?? 20261204);
// Every kind of fault the simulator has, each on 1% of requests, with random 500s besides.
const EVERY_FAULT: ChaosShares = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0.01]));

/**
 * The promise an administrator is given, held against what the simulated tenant really did: every
 * input row is in the results exactly once; a row reported `enabled` is enabled on the tenant for
 * its user; a credential the tenant enabled is reported `enabled` or `unknown`, never `failed` or
 * `not-attempted`; and every change in the tenant's journal belongs to such a row.
 */
it(`a ${ROWS}-row run through every fault, seed ${SEED}: the results match the tenant, row for row`, async () => {
  const pairs = somePairs(ROWS, 5);
  // A tenth of the devices are not registered yet: honest NOT_FOUND failures among the faults.
  const registered = pairs.filter((_, index) => index % 10 !== 0);
  const simulator = await startTestSimulator({
    registry: registryOf(registered),
    chaos: EVERY_FAULT,
    errorRate: 0.01,
    errorBurstLength: 4,
    seed: SEED,
    // The tenant goes away twice and comes back.
    outages: [
      { afterRequests: 700, durationMs: 150 },
      { afterRequests: 1600, durationMs: 150 },
    ],
  });
  const dir = tempDir();
  const out = join(dir, 'results.csv');
  const state = StateStore.open(join(dir, 's.state'));
  const summary = await run({
    input: writeFile(dir, 'in.csv', pairsCsv(pairs)),
    out,
    ...tenantOf(simulator),
    state,
    rate: 5000,
    concurrency: 16,
    // Random 429s are noise here, not a limit to adapt to (telling them apart is another piece of work).
    adaptiveRate: false,
    timeoutMs: 250,
    // Enough retries to outlast an outage; a Retry-After (a day, at worst) is capped to 20 ms.
    retryPolicy: { retries: 8, baseDelayMs: 10, maxDelayMs: 80, maxRetryAfterMs: 20 },
    maxConsecutiveForbidden: 0,
  }).finally(() => state.close());

  const results = readResults(out);
  // Every row once.
  expect(results.map((row) => Number(row['line']))).toEqual(pairs.map((_, index) => index + 2));
  expect(summary.rows).toBe(ROWS);

  const mismatches: string[] = [];
  for (const row of results) {
    const serial = row['deviceSerialNumber']!;
    const credential = simulator.registry.get(serial);
    const isEnabledOnTenant = credential?.tokenStatus === 'Enabled' && isSameUser(credential.userId, row['userId']!);
    const outcome = row['outcome']!;
    if (outcome === 'enabled' && !isEnabledOnTenant)
      mismatches.push(`line ${row['line']}: enabled, but not on the tenant`);
    if (isEnabledOnTenant && outcome !== 'enabled' && outcome !== 'unknown') {
      mismatches.push(`line ${row['line']}: ${outcome} (${row['errorCode']}), but enabled on the tenant`);
    }
  }
  // Every change the tenant made belongs to a row reported enabled or unknown.
  const reported = new Map(results.map((row) => [row['deviceSerialNumber']!, row['outcome']!]));
  for (const call of rowCalls(simulator).filter((entry) => entry.changed)) {
    const outcome = reported.get(call.serial!);
    if (outcome !== 'enabled' && outcome !== 'unknown')
      mismatches.push(`journal: ${call.serial} changed, reported ${outcome}`);
  }
  expect(mismatches).toEqual([]);

  // The faults really happened, lost answers among them, and were settled by lookups.
  const faults = new Set(rowCalls(simulator).map((call) => call.fault));
  for (const kind of [...FAULT_KINDS, 'errorRate', 'outage'] as const) expect(faults).toContain(kind);
  const confirmed = results.filter((row) => /a lookup confirmed the credential is enabled/.test(row['errorMessage']!));
  expect(confirmed.length).toBeGreaterThan(20);
  // Most of the run still got through: every registered device enabled or honestly unknown.
  expect(summary.byOutcome.enabled! + (summary.byOutcome.unknown ?? 0)).toBeGreaterThan(registered.length * 0.98);
  // The unregistered devices are failures, nearly all NOT_FOUND (a few may end on a fault instead).
  expect(summary.byErrorCode.NOT_FOUND).toBeGreaterThan((ROWS - registered.length) * 0.95);
}, 60_000);
