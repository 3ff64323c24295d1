import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { countBy, readResults } from '../helpers/results.js';
import { registryOf, startTestSimulator } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

describe('ds100-bulk enable, then disable with its undo file (built CLI, one simulator)', () => {
  it('the summary names the undo file and the command that takes the run back; running it restores the tenant', async () => {
    const pairs = somePairs(4);
    const registry = registryOf(pairs);
    const simulator = await startTestSimulator({ registry });
    const dir = tempDir();
    const input = writeFile(dir, 'shipment.csv', pairsCsv(pairs));
    const env = { DS100_TOKEN: simulator.token };
    const common = ['--base-url', simulator.baseUrl, '--rate', '1000', '--log-level', 'warn'];

    const enabled = await runCli(['enable', input, '--out', 'results.csv', ...common], env, dir);
    expect(enabled.code).toBe(0);
    expect(enabled.stdout).toMatch(/^ {2}enabled +4$/m);
    expect(enabled.stdout).toContain(
      'undo: results.undo.csv (4 lines added by this run); to take the changes back: ' +
        'ds100-bulk disable results.undo.csv --out undo-results.csv (with your usual flags)',
    );
    expect([...registry.values()].every((credential) => credential.tokenStatus === 'Enabled')).toBe(true);

    const plan = await runCli(['plan', 'results.undo.csv', '--action', 'disable', ...common], env, dir);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('ds100-bulk plan --action disable: 4 rows from results.undo.csv');
    expect(plan.stdout).toMatch(/^ {2}would-disable +4$/m);

    const disabled = await runCli(
      ['disable', 'results.undo.csv', '--out', 'undo-results.csv', '--summary-json', 'undo.json', ...common],
      env,
      dir,
    );
    expect(disabled.stderr).toBe('');
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toMatch(/^ds100-bulk disable: 4 rows from results.undo.csv$/m);
    expect(disabled.stdout).toMatch(/^ {2}disabled +4$/m);
    expect(disabled.stdout).toContain('ds100-bulk enable undo-results.undo.csv --out undo-undo-results.csv');
    expect(countBy(readResults(join(dir, 'undo-results.csv')), 'outcome')).toEqual({ disabled: 4 });
    expect([...registry.values()].every((credential) => credential.tokenStatus === 'Disabled')).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'undo.json'), 'utf8'))).toMatchObject({
      command: 'disable',
      byOutcome: { disabled: 4 },
      undo: { file: 'undo-results.undo.csv', linesAdded: 4 },
      exitCode: 0,
    });

    // The same disable again at once: within the clock-skew allowance the tenant's dates count the
    // credentials as this run's changes, and the undo file, which lists them already, is not repeated.
    const again = await runCli(['disable', 'results.undo.csv', '--out', 'undo-results.csv', ...common], env, dir);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('undo: undo-results.undo.csv (0 lines added by this run)');
    expect(readResults(join(dir, 'undo-results.undo.csv'))).toHaveLength(4);
  });

  it('--max-changes exits 5; an undo file with other columns is refused with exit 2 before anything is sent', async () => {
    const pairs = somePairs(3);
    const registry = registryOf(pairs);
    for (const credential of registry.values()) credential.tokenStatus = 'Enabled';
    const simulator = await startTestSimulator({ registry });
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
    const env = { DS100_TOKEN: simulator.token };
    const common = ['--base-url', simulator.baseUrl, '--rate', '1000', '--log-level', 'silent'];

    const held = await runCli(['disable', input, '--out', 'r.csv', '--max-changes', '1', ...common], env, dir);
    expect(held.code).toBe(5);
    expect(held.stdout).toMatch(/^ {2}MAX_CHANGES_REACHED +2$/m);

    const other = writeFile(dir, 'other.csv', 'deviceSerialNumber,userId,note\n');
    const calls = simulator.calls.length;
    const refused = await runCli(['disable', input, '--out', 'r2.csv', '--undo-file', other, ...common], env, dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`ds100-bulk: ${other}: line 1: the undo file exists with the header`);
    expect(simulator.calls.length).toBe(calls);

    const stdout = await runCli(['disable', input, '--out', '-', '--undo-file', '-', ...common], env, dir);
    expect(stdout.code).toBe(2);
    expect(stdout.stderr).toContain('Expected --undo-file to be a file name, got "-"');
  });

  it('--simulate: the simulated tenant holds the input’s credentials enabled, so a disable disables them', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv(somePairs(3)));
    const run = await runCli(['disable', input, '--out', 'r.csv', '--simulate', '--quiet'], {}, dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ {2}disabled +3$/m);
    expect(readResults(join(dir, 'r.undo.csv'))).toHaveLength(3);
  });

  it('--help shows the examples and exit codes of disable', async () => {
    const help = await runCli(['disable', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('ds100-bulk disable results.undo.csv --out undo-results.csv');
    expect(help.stdout).toContain('--undo-file');
    expect(help.stdout).toContain('--max-changes');
    expect(help.stdout).toMatch(/\n {2}5 {3}--max-changes was reached/);
  });
});
