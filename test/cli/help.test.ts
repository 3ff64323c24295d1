import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

// One binary start per --help page, every check of that page on it.
describe('--help', () => {
  it('enable documents the credentials, the pacing, the circuit breakers and every exit code', async () => {
    const { code, stdout } = await runCli(['enable', '--help']);
    expect(code).toBe(0);
    for (const text of [
      'DS100_TOKEN',
      '--key-file',
      '--oauth-client',
      '--adaptive-rate',
      '--max-consecutive-forbidden',
      '--max-failure-rate',
      '--failure-rate-min-rows',
      'HTTPS_PROXY',
      'NODE_EXTRA_CA_CERTS',
    ]) {
      expect(stdout).toContain(text);
    }
    expect(stdout).toMatch(/Exit codes:\n {2}0 +every row was enabled/);
    expect(stdout).toMatch(/\n {2}3 {3}the run was stopped early/);
    for (const exitCode of ['1', '2', '3', '4', '6', '70', '130 / 143']) {
      expect(stdout).toMatch(new RegExp(`\\n {2}${exitCode} +\\S`));
    }
  });

  it('reconcile documents exit code 5, and simulate documents --burst', async () => {
    const [reconcile, simulate] = await Promise.all([runCli(['reconcile', '--help']), runCli(['simulate', '--help'])]);
    expect(reconcile.code).toBe(0);
    expect(reconcile.stdout).toMatch(/\n {2}5 +--max-changes was reached/);
    expect(simulate.code).toBe(0);
    expect(simulate.stdout).toContain('--burst');
  });
});
