import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, faultFlagName } from '../../src/simulator/index.js';
import { runCli, startSimulateCli } from '../helpers/cli.js';

const PAIR = { deviceSerialNumber: '140100080', userId: 'ece30fe9-414c-7536-5403-0656220b3046' };

describe('ds100-bulk simulate, with faults', () => {
  it('lists every fault kind and the fault flags in --help', async () => {
    const { code, stdout } = await runCli(['simulate', '--help']);
    expect(code).toBe(0);
    for (const flag of [
      '--fault',
      '--seed',
      '--error-burst-length',
      '--throttle-retry-after',
      '--outage-after',
      '--outage-ms',
      '--error-rate',
      '--rate-limit',
    ]) {
      expect(stdout).toContain(flag);
    }
    // yargs wraps the description, so a name may be split across lines: compare without the wrapping.
    const text = stdout.replace(/\s+/g, ' ');
    for (const kind of FAULT_KINDS) expect(text).toContain(faultFlagName(kind));
  });

  it('stages a --fault share of 1 and a scheduled outage, and comes back on the same port', async () => {
    const { simulate, url, token } = await startSimulateCli([
      '--fault',
      'throttle-absurd=1',
      '--seed',
      '3',
      '--outage-after',
      '1',
      '--outage-ms',
      '50',
    ]);
    try {
      const enable = () =>
        request(new URL('v1/ds100/enable/otp', url), {
          method: 'PATCH',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(PAIR),
        }).then(
          async (response) => {
            await response.body.dump();
            return `${response.statusCode} ${String(response.headers['retry-after'])}`;
          },
          (error: { code: string }) => error.code,
        );
      expect(await enable()).toBe('429 86400');
      expect(await enable()).toBe('UND_ERR_SOCKET'); // the outage starts with the second request
      let seen = await enable();
      for (let tries = 0; seen === 'ECONNREFUSED' && tries < 400; tries++) seen = await enable();
      expect(seen).toBe('429 86400');
    } finally {
      simulate.child.kill('SIGTERM');
    }
    expect((await simulate.done).code).toBe(0);
  });

  it('refuses an unknown fault kind and shares adding up to more than 1, naming the flag', async () => {
    const [unknown, tooMuch] = await Promise.all([
      runCli(['simulate', '--fault', 'meteor-strike=0.1']),
      runCli(['simulate', '--fault', 'empty-ok=0.6', '--error-rate', '0.5']),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Expected --fault to be KIND=SHARE with KIND one of reset-before-change,');
    expect(tooMuch.code).toBe(2);
    expect(tooMuch.stderr).toContain('Expected `errorRate` and the `chaos` shares to add up to at most 1, got 1.1');
  });
});
