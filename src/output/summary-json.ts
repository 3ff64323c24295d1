import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { describeWriteError, Ds100Error } from '../errors.js';
import type { RunSummary } from './summary.js';

/** The `--summary-json` document: stable field names, for monitoring checks. */
export interface SummaryDocument {
  readonly version: 1;
  readonly command: string;
  readonly input: string;
  readonly out: string;
  readonly simulated: boolean;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationSeconds: number;
  readonly rows: number;
  readonly byOutcome: RunSummary['byOutcome'];
  readonly byErrorCode: RunSummary['byErrorCode'];
  readonly requests: number;
  /** Of `requests`, those that repeated a failed attempt (a 429, a 5xx, a timeout …). */
  readonly retries: number;
  /** Answers 429 (rate limited) from the tenant; many of them mean `--rate` is above the tenant's limit. */
  readonly rateLimitedAnswers: number;
  /** Requests per second allowed at the end (below `--rate` after 429s); null when not known. */
  readonly finalRate: number | null;
  /** Pairs in the state file that the input no longer holds (0 without --state). */
  readonly removedFromInput: number;
  /** Why the run stopped early, if it did. */
  readonly stopped: { readonly code: string; readonly message: string } | null;
  /**
   * enable, reconcile, disable: the undo file (`file` null when none was written) and the lines this
   * run added to it, one per credential it changed; null for plan.
   */
  readonly undo: { readonly file: string | null; readonly linesAdded: number } | null;
  readonly exitCode: number;
}

export function toSummaryDocument(command: string, summary: RunSummary, exitCode: number): SummaryDocument {
  // Keys of a stable shape for monitoring: present even when zero or empty.
  const started = Date.parse(summary.startedAt);
  return {
    version: 1,
    command,
    input: summary.input,
    out: summary.out,
    simulated: summary.simulated,
    startedAt: summary.startedAt,
    endedAt: new Date(started + summary.elapsedMs).toISOString(),
    durationSeconds: Math.round(summary.elapsedMs) / 1000,
    rows: summary.rows,
    byOutcome: summary.byOutcome,
    byErrorCode: summary.byErrorCode,
    requests: summary.requests,
    retries: summary.retries ?? 0,
    rateLimitedAnswers: summary.rateLimitedAnswers ?? 0,
    finalRate: summary.finalRate ?? null,
    removedFromInput: summary.removedFromInput ?? 0,
    stopped: summary.stopped ? { code: summary.stopped.code, message: summary.stopped.message } : null,
    undo: summary.undo ? { file: summary.undo.file ?? null, linesAdded: summary.undo.linesAdded } : null,
    exitCode,
  };
}

/**
 * Writes the document through a temporary file and a rename, so a monitor never reads half of it.
 * Throws a Ds100Error OUTPUT_FILE naming the file and the reason in words when it cannot be
 * written, and leaves no temporary file behind.
 */
export function writeSummaryJson(path: string, document: SummaryDocument): void {
  writeFileAtomically(path, `${JSON.stringify(document, null, 2)}\n`, 'summary file');
}

/**
 * Writes `text` to `<path>.tmp-<pid>` in the same folder and renames it onto `path`: a reader (a
 * monitor, node_exporter's textfile collector) sees the old file or the new one, never half of one.
 * On failure the old file stays as it was, the temporary file is removed, and a Ds100Error
 * OUTPUT_FILE says "cannot write the <what> <path>: <reason in words>".
 */
export function writeFileAtomically(path: string, text: string, what: string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } catch (error) {
    // Never throws: a failed cleanup (say ENAMETOOLONG, where no temporary file was made) must not
    // take the place of the reason the write failed.
    removeQuietly(temporary);
    throw new Ds100Error('OUTPUT_FILE', `cannot write the ${what} ${path}: ${describeWriteError(error)}`, {
      cause: error,
    });
  }
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // Nothing there to remove, or nothing more to be done about it.
  }
}
