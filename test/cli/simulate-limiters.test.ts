import { describe, expect, it } from 'vitest';
import { runCli, startSimulateCli } from '../helpers/cli.js';

describe('ds100-bulk simulate, with a limiter', () => {
  it('lists the limiter flags and kinds in --help', async () => {
    const { code, stdout } = await runCli(['simulate', '--help']);
    expect(code).toBe(0);
    for (const flag of ['--limiter', '--limit', '--window', '--limit-schedule', '--random-429', '--rate-limit']) {
      expect(stdout).toContain(flag);
    }
    expect(stdout.replace(/\s+/g, ' ')).toContain('"bucket", "sliding", "fixed", "concurrency"');
  });

  it('refuses an unknown --limiter, a bad --limit-schedule and conflicting flags with exit 2', async () => {
    // The checks of each value are unit-tested (simulator-limiters.test.ts); here, that the CLI exits 2 with them.
    const [kind, schedule, conflict] = await Promise.all([
      runCli(['simulate', '--limiter', 'leaky', '--limit', '5']),
      runCli(['simulate', '--limiter', 'fixed', '--limit-schedule', '0:50;10:100']),
      runCli(['simulate', '--rate-limit', '5', '--limiter', 'sliding']),
    ]);
    for (const result of [kind, schedule, conflict]) expect(result.code).toBe(2);
    expect(kind.stderr).toContain('Invalid values:');
    expect(kind.stderr).toContain('"leaky"');
    expect(schedule.stderr).toContain('Expected --limit-schedule to be SECONDS:LIMIT pairs');
    expect(conflict.stderr).toContain('--rate-limit conflicts with --limiter');
  });

  it('limits with the kind asked for: a fixed window of 2 asks to wait for the next window', async () => {
    const { simulate, url, token } = await startSimulateCli(['--limiter', 'fixed', '--limit', '2', '--window', '60']);
    try {
      const answers: string[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await fetch(new URL('v1/ds100/enable/otp', url), {
          method: 'PATCH',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ deviceSerialNumber: '140100080', userId: 'ece30fe9-414c-7536-5403-0656220b3046' }),
        });
        await response.text();
        answers.push(`${response.status} ${response.headers.get('retry-after') ?? '-'}`);
      }
      expect(answers.slice(0, 2)).toEqual(['200 -', '200 -']);
      // 60 s to the next window, less the moments the first answers took.
      expect(answers[2]).toMatch(/^429 (59|60)$/);
    } finally {
      simulate.child.kill('SIGTERM');
    }
    expect((await simulate.done).code).toBe(0);
  });
});
