import { describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { startTestSimulator } from '../helpers/simulator.js';

// The limiter kinds as a client meets them: a real server on port 0, plain fetch.

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';

async function enable(sim: RunningSimulator, serial: string): Promise<string> {
  const response = await fetch(new URL('v1/ds100/enable/otp', sim.baseUrl), {
    method: 'PATCH',
    headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ deviceSerialNumber: serial, userId: USER }),
  });
  await response.text();
  return `${response.status} ${response.headers.get('retry-after') ?? '-'}`;
}

describe('the simulator with a limiter, over HTTP', () => {
  it('holds a concurrency slot while the answer is delayed, refuses the request over the limit without Retry-After, and frees the slots', async () => {
    const sim = await startTestSimulator({
      autoRegister: true,
      latencyMs: 150,
      limiter: { kind: 'concurrency', limit: 2 },
    });
    const answers = await Promise.all(['140100001', '140100002', '140100003'].map((serial) => enable(sim, serial)));
    expect(answers.toSorted()).toEqual(['200 -', '200 -', '429 -']);
    expect(sim.calls.filter((call) => call.status === 429).map((call) => call.fault)).toEqual(['rateLimit']);
    // Both slots were given back once answered.
    expect(await Promise.all(['140100004', '140100005'].map((serial) => enable(sim, serial)))).toEqual([
      '200 -',
      '200 -',
    ]);
  });

  it('answers a sliding window over its limit 429 with the seconds until the oldest leaves', async () => {
    const sim = await startTestSimulator({
      autoRegister: true,
      limiter: { kind: 'sliding', limit: 2, windowSeconds: 30 },
    });
    expect([await enable(sim, '140100001'), await enable(sim, '140100002')]).toEqual(['200 -', '200 -']);
    expect(await enable(sim, '140100003')).toBe('429 30');
  });

  it('answers random 429s with Retry-After 1, journaled as random429, behind the limit', async () => {
    const sim = await startTestSimulator({
      autoRegister: true,
      random429: 1,
      limiter: { kind: 'fixed', limit: 1, windowSeconds: 60 },
    });
    expect(await enable(sim, '140100001')).toBe('429 1');
    expect(await enable(sim, '140100002')).toBe('429 60');
    expect(sim.calls.map((call) => call.fault)).toEqual(['random429', 'rateLimit']);
    expect([...sim.registry].map((credential) => credential.tokenStatus)).toEqual([]);
  });
});
