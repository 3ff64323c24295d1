import { describe, expect, it } from 'vitest';
import { startSimulateCli } from '../helpers/cli.js';

describe('ds100-bulk simulate', () => {
  it('prints its URL, token and stats address; the stats count answers by status; --burst sizes the bucket', async () => {
    const {
      simulate,
      url,
      token,
      statsUrl: stats,
    } = await startSimulateCli(['--port', '0', '--rate-limit', '1', '--burst', '2']);
    try {
      expect(stats).toBe(new URL('/__simulator/stats', url).href);

      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await fetch(new URL('v1/ds100/enable/otp', url), {
          method: 'PATCH',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ deviceSerialNumber: '140100080', userId: 'ece30fe9-414c-7536-5403-0656220b3046' }),
        });
        statuses.push(response.status);
        if (response.status === 429) expect(response.headers.get('retry-after')).toBe('1');
      }
      // A burst of 2, then the 1/s limit bites.
      expect(statuses).toEqual([200, 200, 429]);

      const counts = (await (await fetch(stats!)).json()) as Record<string, unknown>;
      expect(counts).toMatchObject({ requests: 3, countsByStatus: { 200: 2, 429: 1 } });
      expect(counts['spanMs']).toBeGreaterThanOrEqual(0);
    } finally {
      simulate.child.kill('SIGTERM');
    }
    expect((await simulate.done).code).toBe(0);
  });
});
