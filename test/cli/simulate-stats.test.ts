import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/ds100-bulk.js', import.meta.url).pathname;
const env = { PATH: process.env['PATH'] ?? '' };

describe('ds100-bulk simulate', () => {
  it('prints its URL, token and stats address; the stats count answers by status; --burst sizes the bucket', async () => {
    const child = spawn(process.execPath, [BIN, 'simulate', '--port', '0', '--rate-limit', '1', '--burst', '2'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const found: Record<string, string> = {};
      for await (const line of createInterface({ input: child.stdout })) {
        const url = /listening at (\S+)/.exec(line)?.[1];
        const token = /token it accepts: (\S+)/.exec(line)?.[1];
        const stats = /answers so far: GET (\S+)/.exec(line)?.[1];
        if (url) found['url'] = url;
        if (token) found['token'] = token;
        if (stats) found['stats'] = stats;
        if (found['url'] && found['token'] && found['stats']) break;
      }
      expect(found['stats']).toBe(new URL('/__simulator/stats', found['url']).href);

      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await fetch(new URL('v1/ds100/enable/otp', found['url']), {
          method: 'PATCH',
          headers: { authorization: `Bearer ${found['token']}`, 'content-type': 'application/json' },
          body: JSON.stringify({ deviceSerialNumber: '140100080', userId: 'ece30fe9-414c-7536-5403-0656220b3046' }),
        });
        statuses.push(response.status);
        if (response.status === 429) expect(response.headers.get('retry-after')).toBe('1');
      }
      // A burst of 2, then the 1/s limit bites.
      expect(statuses).toEqual([200, 200, 429]);

      const stats = (await (await fetch(found['stats']!)).json()) as Record<string, unknown>;
      expect(stats).toMatchObject({ requests: 3, countsByStatus: { 200: 2, 429: 1 } });
      expect(stats['spanMs']).toBeGreaterThanOrEqual(0);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('documents --burst, and enable documents --adaptive-rate', () => {
    const simulate = spawnSync(process.execPath, [BIN, 'simulate', '--help'], { env, encoding: 'utf8' });
    expect(simulate.stdout).toContain('--burst');
    const enable = spawnSync(process.execPath, [BIN, 'enable', '--help'], { env, encoding: 'utf8' });
    expect(enable.stdout).toContain('--adaptive-rate');
  });
});
