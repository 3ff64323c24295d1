import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { Ds100Error, runSession } from '../../src/index.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { memoryLog } from '../helpers/log-sink.js';
import { parseMetrics, valueOf } from '../helpers/metrics.js';
import { simulatedEnable } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

// --metrics-file through runSession, the command line's run without the printing.

const PAIRS = somePairs(5);
let dir: string;
let input: string;
beforeEach(() => {
  dir = tempDir();
  input = writeFile(dir, 'in.csv', pairsCsv(PAIRS));
});

const readMetrics = (path: string) => parseMetrics(readFileSync(path, 'utf8'));

describe('runSession with metricsFile', () => {
  it('writes the run in Prometheus text format, and a later failed run keeps the last success', async () => {
    const metricsFile = join(dir, 'ds100-bulk.prom');
    const summaryJson = join(dir, 'summary.json');
    const first = await runSession({
      command: 'reconcile',
      input,
      state: join(dir, 'first.state'),
      simulate: true,
      rate: 1000,
      summaryJson,
      metricsFile,
    });
    expect(first.exitCode).toBe(0);
    const samples = readMetrics(metricsFile);
    const rows = samples.filter((sample) => sample.name === 'ds100_bulk_rows');
    expect(rows.map((sample) => sample.labels['outcome'])).toEqual([
      'enabled',
      'unchanged',
      'not-registered',
      'conflict',
      'failed',
      'unknown',
      'invalid',
      'not-attempted',
    ]);
    expect(valueOf(samples, 'ds100_bulk_rows', { outcome: 'enabled' })).toBe(5);
    expect(valueOf(samples, 'ds100_bulk_rows', { outcome: 'conflict' })).toBe(0);
    expect(samples.every((sample) => sample.labels['command'] === 'reconcile')).toBe(true);
    const document = JSON.parse(readFileSync(summaryJson, 'utf8')) as Record<string, unknown>;
    expect(valueOf(samples, 'ds100_bulk_requests')).toBe(document['requests']);
    expect(valueOf(samples, 'ds100_bulk_duration_seconds')).toBe(document['durationSeconds']);
    expect(valueOf(samples, 'ds100_bulk_exit_code')).toBe(0);
    const endedAt = Date.parse(String(document['endedAt'])) / 1000;
    expect(valueOf(samples, 'ds100_bulk_last_run_timestamp_seconds')).toBe(endedAt);
    expect(valueOf(samples, 'ds100_bulk_last_success_timestamp_seconds')).toBe(endedAt);

    // A fresh ledger and --max-changes 1: four changes held back, exit 5, not a success.
    const second = await runSession({
      command: 'reconcile',
      input,
      state: join(dir, 'second.state'),
      simulate: true,
      rate: 1000,
      maxChanges: 1,
      metricsFile,
    });
    expect(second.exitCode).toBe(5);
    const after = readMetrics(metricsFile);
    expect(valueOf(after, 'ds100_bulk_exit_code')).toBe(5);
    expect(valueOf(after, 'ds100_bulk_rows', { outcome: 'not-attempted' })).toBe(4);
    expect(valueOf(after, 'ds100_bulk_last_run_timestamp_seconds')).toBeGreaterThanOrEqual(endedAt);
    expect(valueOf(after, 'ds100_bulk_last_success_timestamp_seconds')).toBe(endedAt);
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('a metrics file that cannot be written: logged and returned as the summary JSON is, exit 7, the old file kept', async () => {
    const log = memoryLog();
    const name = `${'m'.repeat(250)}.prom`;
    // The file itself may exist; its temporary `<name>.tmp-<pid>` is a name too long for any user.
    const metricsFile = writeFile(dir, name, 'previous\n');
    const summaryJson = join(dir, 'summary.json');
    const result = await runSession({
      ...simulatedEnable(input, join(dir, 'r.csv')),
      summaryJson,
      metricsFile,
      logger: log.logger,
    });
    const message = `cannot write the metrics file ${metricsFile}: the system refused the write (ENAMETOOLONG)`;
    expect(result).toMatchObject({ exitCode: 7, summaryJsonFailure: message, summary: { byOutcome: { enabled: 5 } } });
    expect(log.withMessage('the metrics file cannot be written')).toEqual([
      expect.objectContaining({ level: 50, file: metricsFile, reason: message }),
    ]);
    expect(readFileSync(metricsFile, 'utf8')).toBe('previous\n');
    // The summary JSON, written first, still says how the rows went.
    expect(JSON.parse(readFileSync(summaryJson, 'utf8'))).toMatchObject({ exitCode: 0, rows: 5 });
    expect(readdirSync(dir).toSorted()).toEqual(['in.csv', name, 'r.csv', 'r.undo.csv', 'summary.json']);
  });

  it('both files failing: both messages, the run exit code kept when it was not 0', async () => {
    const summaryJson = join(dir, 'summary.json');
    mkdirSync(summaryJson);
    const metricsFile = join(dir, 'no-such-dir', 'm.prom');
    const result = await runSession({
      command: 'plan',
      input,
      simulateTenant: writeFile(dir, 'tenant.csv', pairsCsv(PAIRS.slice(1))),
      simulate: true,
      rate: 1000,
      summaryJson,
      metricsFile,
    });
    expect(result.exitCode).toBe(1);
    expect(result.summaryJsonFailure).toBe(
      `cannot write the summary file ${summaryJson}: it is a directory; and ` +
        `cannot write the metrics file ${metricsFile}: the directory does not exist`,
    );
  });

  it('refuses a metrics file that is another output, before anything is written', async () => {
    const same = join(dir, 'same');
    const error = await runSession({
      command: 'plan',
      input,
      simulate: true,
      summaryJson: same,
      metricsFile: same,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Ds100Error);
    expect(error).toMatchObject({
      code: 'USAGE',
      message: `--metrics-file (${same}) and --summary-json (${same}) are the same file: one would overwrite the other; give another --metrics-file`,
    });
    expect(readdirSync(dir)).toEqual(['in.csv']);
  });
});
