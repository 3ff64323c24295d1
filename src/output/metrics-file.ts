import { readFileSync } from 'node:fs';
import type { Outcome } from '../types.js';
import { outcomeOrderOf, type RunSummary } from './summary.js';
import { writeFileAtomically } from './summary-json.js';

/**
 * `--metrics-file`: the last run in Prometheus' text exposition format, for node_exporter's textfile
 * collector (https://prometheus.io/docs/instrumenting/exposition_formats/). Every series carries a
 * `command` label, so that one collector directory can hold the files of several jobs.
 *
 * The metrics (all gauges; they describe the last run, not a running total):
 * - `ds100_bulk_rows{command,outcome}`: rows by outcome, every outcome of the command (0 when none:
 *   an alert on a series that is absent would otherwise misfire, or never fire)
 * - `ds100_bulk_requests{command}`: HTTP requests started, retries included
 * - `ds100_bulk_rate_limited_answers{command}`: 429 answers (only when the summary counts them)
 * - `ds100_bulk_removed_from_input{command}`: pairs in the state file the input no longer holds
 * - `ds100_bulk_duration_seconds{command}`: how long the run took
 * - `ds100_bulk_exit_code{command}`: the exit code the run ended with
 * - `ds100_bulk_last_run_timestamp_seconds{command}`: when the run ended (Unix seconds)
 * - `ds100_bulk_last_success_timestamp_seconds{command}`: when a run last finished (exit 0 or 1);
 *   carried over from the previous file by runs that did not, left out when none ever did
 */

/** What the metrics are made from: a run's summary. */
export type MetricsSummary = RunSummary;

/** Exit codes of a run that finished (1: some rows need attention, which is the data's problem, not the job's). */
const SUCCESS_EXIT_CODES: ReadonlySet<number> = new Set([0, 1]);

const LAST_SUCCESS = 'ds100_bulk_last_success_timestamp_seconds';

/** A label value as the format wants it: backslash, double quote and line feed escaped. */
export const escapeLabelValue = (value: string): string =>
  value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');

// HELP text escapes backslash and line feed only.
const escapeHelp = (text: string): string => text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');

const labelsOf = (labels: Readonly<Record<string, string>>): string =>
  `{${Object.entries(labels)
    .map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
    .join(',')}}`;

// Go's ParseFloat, which Prometheus' text parser uses, reads what String() gives (NaN and Infinity too).
const formatValue = (value: number): string => String(value);

interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const family = (name: string, help: string, samples: readonly Sample[]): string[] => [
  `# HELP ${name} ${escapeHelp(help)}`,
  `# TYPE ${name} gauge`,
  ...samples.map((sample) => `${name}${labelsOf(sample.labels)} ${formatValue(sample.value)}`),
];

/**
 * The run as Prometheus text: one gauge family per metric, each with its HELP and TYPE lines, every
 * line ending in a line feed. Pure. `previousLastSuccess` (Unix seconds) is kept as the last success
 * when this run's exit code is not 0 or 1.
 */
export function toMetricsText(summary: MetricsSummary, exitCode: number, previousLastSuccess?: number): string {
  const command = { command: summary.command };
  const one = (value: number): Sample[] => [{ labels: command, value }];
  const endedAt = (Date.parse(summary.startedAt) + summary.elapsedMs) / 1000;
  // The command's own outcomes first, then any other the rows had, so the series always add up to rows.
  const outcomes = new Set<Outcome>([...outcomeOrderOf(summary), ...(Object.keys(summary.byOutcome) as Outcome[])]);
  const lastSuccess = SUCCESS_EXIT_CODES.has(exitCode) ? endedAt : previousLastSuccess;
  const lines = [
    ...family(
      'ds100_bulk_rows',
      'Rows of the last run, by outcome (every outcome of the command; 0 when none).',
      [...outcomes].map((outcome) => ({
        labels: { ...command, outcome },
        value: summary.byOutcome[outcome] ?? 0,
      })),
    ),
    ...family('ds100_bulk_requests', 'HTTP requests the last run started, retries included.', one(summary.requests)),
    ...(summary.rateLimitedAnswers === undefined
      ? []
      : family(
          'ds100_bulk_rate_limited_answers',
          'Answers of the last run that were 429 (rate limited).',
          one(summary.rateLimitedAnswers),
        )),
    ...family(
      'ds100_bulk_removed_from_input',
      'Pairs in the state file that the input of the last run no longer holds (never acted on).',
      one(summary.removedFromInput ?? 0),
    ),
    ...family('ds100_bulk_duration_seconds', 'How long the last run took.', one(Math.round(summary.elapsedMs) / 1000)),
    ...family(
      'ds100_bulk_exit_code',
      'Exit code of the last run: 0 all rows fine, 1 some rows need attention, 2 or more the run failed or stopped.',
      one(exitCode),
    ),
    ...family('ds100_bulk_last_run_timestamp_seconds', 'When the last run ended, in Unix seconds.', one(endedAt)),
    ...(lastSuccess === undefined
      ? []
      : family(LAST_SUCCESS, 'When a run last finished (exit code 0 or 1), in Unix seconds.', one(lastSuccess))),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The last-success time an earlier metrics file holds for `command`, or undefined when there is no
 * such file or line (a file this tool did not write is read the same way, and most likely yields none).
 */
export function readLastSuccess(path: string, command: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const prefix = `${LAST_SUCCESS}${labelsOf({ command })} `;
  const line = text.split('\n').find((candidate) => candidate.startsWith(prefix));
  const value = line === undefined ? Number.NaN : Number(line.slice(prefix.length).trim());
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Writes the run's metrics to `path` atomically (`<path>.tmp-<pid>`, then a rename), carrying the
 * last success over from the file already there. Throws a Ds100Error OUTPUT_FILE naming the file and
 * the reason when it cannot; the earlier file is then left as it was.
 */
export function writeMetricsFile(path: string, summary: MetricsSummary, exitCode: number): void {
  const text = toMetricsText(summary, exitCode, readLastSuccess(path, summary.command));
  writeFileAtomically(path, text, 'metrics file');
}
