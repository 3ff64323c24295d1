import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { parseMetrics, valueOf } from '../helpers/metrics.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

describe('ds100-bulk reconcile --metrics-file', () => {
  it('writes a file the textfile collector can read, and says on stderr when it cannot (exit 7)', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'assignments.csv', pairsCsv(somePairs(6)));
    const tenant = writeFile(dir, 'tenant.csv', pairsCsv(somePairs(4)));
    const metricsFile = join(dir, 'ds100-bulk.prom');
    const common = ['--simulate', '--simulate-tenant', tenant, '--rate', '1000', '--log-level', 'silent'];
    const args = ['reconcile', input, '--state', join(dir, 'a.state'), ...common];

    const { code } = await runCli([...args, '--metrics-file', metricsFile]);
    expect(code).toBe(0);
    const samples = parseMetrics(readFileSync(metricsFile, 'utf8'));
    expect(valueOf(samples, 'ds100_bulk_rows', { command: 'reconcile', outcome: 'enabled' })).toBe(4);
    expect(valueOf(samples, 'ds100_bulk_rows', { command: 'reconcile', outcome: 'not-registered' })).toBe(2);
    expect(valueOf(samples, 'ds100_bulk_rows', { command: 'reconcile', outcome: 'failed' })).toBe(0);
    expect(valueOf(samples, 'ds100_bulk_exit_code', { command: 'reconcile' })).toBe(0);
    expect(valueOf(samples, 'ds100_bulk_last_success_timestamp_seconds')).toBe(
      valueOf(samples, 'ds100_bulk_last_run_timestamp_seconds'),
    );

    const missing = join(dir, 'no-such-dir', 'ds100-bulk.prom');
    const failed = await runCli([...args, '--metrics-file', missing]);
    expect(failed.code).toBe(7);
    expect(failed.stderr).toContain(
      `ds100-bulk: cannot write the metrics file ${missing}: the directory does not exist`,
    );
    expect(failed.stdout).toContain('ds100-bulk reconcile: 6 rows');
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
  });
});
