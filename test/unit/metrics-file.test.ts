import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  escapeLabelValue,
  readLastSuccess,
  toMetricsText,
  writeMetricsFile,
  type MetricsSummary,
} from '../../src/output/metrics-file.js';
import type { Outcome } from '../../src/types.js';
import { parseMetrics, valueOf } from '../helpers/metrics.js';
import { tempDir } from '../helpers/temp-dir.js';

const reconcile: MetricsSummary = {
  command: 'reconcile',
  input: 'assignments.csv',
  out: 'last-run.csv',
  rows: 5000,
  byOutcome: { unchanged: 4210, enabled: 112, 'not-registered': 671, conflict: 2, failed: 5 },
  byErrorCode: { SERVER_ERROR: 5 },
  requests: 1573,
  startedAt: '2026-11-22T01:30:04.112Z',
  elapsedMs: 675_758,
  simulated: false,
  removedFromInput: 3,
};
// startedAt + elapsedMs, in Unix seconds.
const ENDED_AT = 1_795_311_679.87;

describe('toMetricsText', () => {
  it('writes every family with HELP and TYPE, a command label on each sample, a line feed at the end', () => {
    expect(toMetricsText(reconcile, 1)).toBe(
      [
        '# HELP ds100_bulk_rows Rows of the last run, by outcome (every outcome of the command; 0 when none).',
        '# TYPE ds100_bulk_rows gauge',
        'ds100_bulk_rows{command="reconcile",outcome="enabled"} 112',
        'ds100_bulk_rows{command="reconcile",outcome="unchanged"} 4210',
        'ds100_bulk_rows{command="reconcile",outcome="not-registered"} 671',
        'ds100_bulk_rows{command="reconcile",outcome="conflict"} 2',
        'ds100_bulk_rows{command="reconcile",outcome="failed"} 5',
        'ds100_bulk_rows{command="reconcile",outcome="unknown"} 0',
        'ds100_bulk_rows{command="reconcile",outcome="invalid"} 0',
        'ds100_bulk_rows{command="reconcile",outcome="not-attempted"} 0',
        '# HELP ds100_bulk_requests HTTP requests the last run started, retries included.',
        '# TYPE ds100_bulk_requests gauge',
        'ds100_bulk_requests{command="reconcile"} 1573',
        '# HELP ds100_bulk_removed_from_input Pairs in the state file that the input of the last run no longer holds (never acted on).',
        '# TYPE ds100_bulk_removed_from_input gauge',
        'ds100_bulk_removed_from_input{command="reconcile"} 3',
        '# HELP ds100_bulk_duration_seconds How long the last run took.',
        '# TYPE ds100_bulk_duration_seconds gauge',
        'ds100_bulk_duration_seconds{command="reconcile"} 675.758',
        '# HELP ds100_bulk_exit_code Exit code of the last run: 0 all rows fine, 1 some rows need attention, 2 or more the run failed or stopped.',
        '# TYPE ds100_bulk_exit_code gauge',
        'ds100_bulk_exit_code{command="reconcile"} 1',
        '# HELP ds100_bulk_last_run_timestamp_seconds When the last run ended, in Unix seconds.',
        '# TYPE ds100_bulk_last_run_timestamp_seconds gauge',
        `ds100_bulk_last_run_timestamp_seconds{command="reconcile"} ${ENDED_AT}`,
        '# HELP ds100_bulk_last_success_timestamp_seconds When a run last finished (exit code 0 or 1), in Unix seconds.',
        '# TYPE ds100_bulk_last_success_timestamp_seconds gauge',
        `ds100_bulk_last_success_timestamp_seconds{command="reconcile"} ${ENDED_AT}`,
        '',
      ].join('\n'),
    );
  });

  it("lists every outcome of the command with 0 when no row had it, and only the command's", () => {
    const plan: MetricsSummary = { ...reconcile, command: 'plan', rows: 4, byOutcome: { 'would-enable': 4 } };
    const samples = parseMetrics(toMetricsText(plan, 0)).filter((sample) => sample.name === 'ds100_bulk_rows');
    expect(Object.fromEntries(samples.map((sample) => [sample.labels['outcome'], sample.value]))).toEqual({
      'would-enable': 4,
      'already-enabled': 0,
      'not-registered': 0,
      'registered-to-other-user': 0,
      failed: 0,
      invalid: 0,
      'not-attempted': 0,
    });
    expect(samples.every((sample) => sample.labels['command'] === 'plan')).toBe(true);
    // A disable plan's own outcomes, not an enable plan's.
    const disablePlan: MetricsSummary = { ...plan, action: 'disable', byOutcome: { 'would-disable': 4 } };
    const disableSamples = parseMetrics(toMetricsText(disablePlan, 0)).filter((s) => s.name === 'ds100_bulk_rows');
    expect(disableSamples.map((sample) => sample.labels['outcome'])).toEqual(
      expect.arrayContaining(['would-disable', 'already-disabled']),
    );
    expect(disableSamples.map((sample) => sample.labels['outcome'])).not.toContain('would-enable');
  });

  it('escapes backslash, double quote and line feed in label values', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    // An outcome this version does not know still gets its series, escaped, so the rows add up.
    const odd = 'we\\ird "one"\nnext' as Outcome;
    const text = toMetricsText({ ...reconcile, byOutcome: { ...reconcile.byOutcome, [odd]: 7 } }, 1);
    expect(text).toContain('ds100_bulk_rows{command="reconcile",outcome="we\\\\ird \\"one\\"\\nnext"} 7\n');
    expect(valueOf(parseMetrics(text), 'ds100_bulk_rows', { outcome: odd })).toBe(7);
  });

  it('gives the rate-limited answers only when the summary counts them', () => {
    expect(toMetricsText(reconcile, 1)).not.toContain('ds100_bulk_rate_limited_answers');
    const samples = parseMetrics(toMetricsText({ ...reconcile, rateLimitedAnswers: 3 }, 1));
    expect(valueOf(samples, 'ds100_bulk_rate_limited_answers', { command: 'reconcile' })).toBe(3);
  });

  it('says 0 removed from input without a state file', () => {
    const { removedFromInput: _, ...withoutState } = reconcile;
    expect(valueOf(parseMetrics(toMetricsText(withoutState, 1)), 'ds100_bulk_removed_from_input')).toBe(0);
  });

  it.each([0, 1])('exit %i is a success: the last success is this run', (exitCode) => {
    const samples = parseMetrics(toMetricsText(reconcile, exitCode, 1_700_000_000));
    expect(valueOf(samples, 'ds100_bulk_last_success_timestamp_seconds')).toBe(ENDED_AT);
  });

  it.each([3, 5, 6, 7, 130, 143])(
    'exit %i keeps the previous last success, and leaves it out when there was none',
    (exitCode) => {
      const carried = parseMetrics(toMetricsText(reconcile, exitCode, 1_700_000_000));
      expect(valueOf(carried, 'ds100_bulk_last_success_timestamp_seconds')).toBe(1_700_000_000);
      expect(valueOf(carried, 'ds100_bulk_exit_code')).toBe(exitCode);
      expect(valueOf(carried, 'ds100_bulk_last_run_timestamp_seconds')).toBe(ENDED_AT);
      expect(toMetricsText(reconcile, exitCode)).not.toContain('ds100_bulk_last_success_timestamp_seconds');
    },
  );
});

describe('the README example', () => {
  it('is what the summary JSON example of the README gives, line for line', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const example = /```\n(# HELP ds100_bulk_rows[^`]*)```/.exec(readme)?.[1];
    const lines = example?.split('\n').filter((line) => line !== '' && line !== '...');
    expect(lines?.length).toBeGreaterThan(10);
    const text = toMetricsText(reconcile, 1);
    for (const line of lines ?? []) expect(text).toContain(`${line}\n`);
  });
});

describe('writeMetricsFile', () => {
  it('writes the text atomically, leaves no temporary file, and carries the last success over', () => {
    const dir = tempDir();
    const path = join(dir, 'ds100-bulk.prom');
    writeMetricsFile(path, reconcile, 0);
    expect(readFileSync(path, 'utf8')).toBe(toMetricsText(reconcile, 0));
    expect(readdirSync(dir)).toEqual(['ds100-bulk.prom']);

    const nextNight = { ...reconcile, startedAt: '2026-11-23T01:30:00.000Z', elapsedMs: 1000 };
    writeMetricsFile(path, nextNight, 3);
    const samples = parseMetrics(readFileSync(path, 'utf8'));
    expect(valueOf(samples, 'ds100_bulk_exit_code')).toBe(3);
    expect(valueOf(samples, 'ds100_bulk_last_run_timestamp_seconds')).toBe(Date.parse('2026-11-23T01:30:01Z') / 1000);
    expect(valueOf(samples, 'ds100_bulk_last_success_timestamp_seconds')).toBe(ENDED_AT);
  });

  it("reads only its own command's last success, and none from a missing or foreign file", () => {
    const dir = tempDir();
    const path = join(dir, 'm.prom');
    expect(readLastSuccess(path, 'reconcile')).toBeUndefined();
    writeFileSync(path, 'ds100_bulk_last_success_timestamp_seconds{command="plan"} 5\nsomething_else 1\n');
    expect(readLastSuccess(path, 'reconcile')).toBeUndefined();
    expect(readLastSuccess(path, 'plan')).toBe(5);
    writeFileSync(path, 'ds100_bulk_last_success_timestamp_seconds{command="plan"} soon\n');
    expect(readLastSuccess(path, 'plan')).toBeUndefined();
  });

  it('keeps the previous file and leaves no temporary file when the temporary file cannot be created', () => {
    const dir = tempDir();
    // The longest name a file may have: the file itself can exist, `<name>.tmp-<pid>` cannot (even as root).
    const path = join(dir, `${'m'.repeat(250)}.prom`);
    writeFileSync(path, 'previous\n');
    expect(() => writeMetricsFile(path, reconcile, 0)).toThrow(
      `cannot write the metrics file ${path}: the system refused the write (ENAMETOOLONG)`,
    );
    expect(readFileSync(path, 'utf8')).toBe('previous\n');
    expect(readdirSync(dir)).toEqual([`${'m'.repeat(250)}.prom`]);
  });

  it('removes the temporary file when the rename fails', () => {
    const dir = tempDir();
    const path = join(dir, 'm.prom');
    mkdirSync(path);
    expect(() => writeMetricsFile(path, reconcile, 0)).toThrow(
      `cannot write the metrics file ${path}: it is a directory`,
    );
    expect(readdirSync(dir)).toEqual(['m.prom']);
    expect(existsSync(`${path}.tmp-${process.pid}`)).toBe(false);
  });
});
