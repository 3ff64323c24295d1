import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { readResults } from '../helpers/results.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

const FAST = ['--simulate', '--rate', '1000', '--quiet'];

describe('the command line: plan --out, enable --plan, enable --only-failed', () => {
  it('applies a reviewed plan, refuses an edited one (exit 2), and re-runs what failed', async () => {
    const dir = tempDir();
    const pairs = somePairs(4);
    const input = writeFile(dir, 'shipment.csv', pairsCsv(pairs));
    // The simulated tenant knows three of the four devices.
    const tenant = writeFile(dir, 'tenant.csv', pairsCsv(pairs.slice(0, 3)));
    const sim = [...FAST, '--simulate-tenant', tenant];

    const planned = await runCli(['plan', input, '--out', 'plan.csv', ...sim], {}, dir);
    expect(planned.code).toBe(1); // one row not registered

    const edited = join(dir, 'edited.csv');
    writeFileSync(edited, readFileSync(join(dir, 'plan.csv'), 'utf8').replace(',not-registered,', ',would-enable,'));
    const refused = await runCli(['enable', '--plan', edited, '--out', 'r.csv', ...sim], {}, dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`ds100-bulk: ${edited}: the plan was changed after it was made`);

    const applied = await runCli(['enable', '--plan', 'plan.csv', '--out', 'r.csv', ...sim], {}, dir);
    expect(applied.code).toBe(1);
    expect(readResults(join(dir, 'r.csv')).map((row) => row['outcome'])).toEqual([
      'enabled',
      'enabled',
      'enabled',
      'not-attempted',
    ]);

    // The fourth device gets registered: --only-failed sends it, and only it.
    const registered = writeFile(dir, 'tenant2.csv', pairsCsv(pairs));
    const rerun = await runCli(
      ['enable', '--only-failed', 'r.csv', '--out', 'r2.csv', ...FAST, '--simulate-tenant', registered],
      {},
      dir,
    );
    expect(rerun.code).toBe(0);
    expect(readResults(join(dir, 'r2.csv')).map((row) => [row['deviceSerialNumber'], row['outcome']])).toEqual([
      [pairs[3]!.deviceSerialNumber, 'enabled'],
    ]);

    const both = await runCli(['enable', input, '--only-failed', 'r.csv', '--out', 'r3.csv', ...FAST], {}, dir);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('Give either an input file or --only-failed RESULTS, not both');
  });
});
