import { Ds100Error } from '../errors.js';
import type { Logger } from '../log.js';
import { EXIT_CODES } from './exit-codes.js';

/** One file a run leaves behind at the end for people or monitors: the summary JSON, the HTML report … */
export interface ReportFile {
  /** Its path; undefined or '' when not asked for. */
  readonly file: string | undefined;
  /** How messages name it, e.g. "the summary JSON". */
  readonly what: string;
  /** Writes it, given the exit code so far; throws a Ds100Error (OUTPUT_FILE) when it cannot. */
  readonly write: (file: string, exitCode: number) => void;
}

/**
 * Writes the files in order. A file that cannot be written must not hide how the run went: the
 * failure is logged and returned, and the exit code becomes 7 only where it would have been 0. Put
 * last the file that should carry the exit code the process ends with.
 */
export function writeReportFiles(
  files: readonly ReportFile[],
  runExitCode: number,
  logger: Logger,
): { readonly exitCode: number; readonly failure: string | undefined } {
  let exitCode = runExitCode;
  const failures: string[] = [];
  for (const { file, what, write } of files) {
    if (!file) continue;
    try {
      write(file, exitCode);
    } catch (error) {
      if (!(error instanceof Ds100Error)) throw error;
      logger.error({ file, reason: error.message }, `${what} cannot be written`);
      failures.push(error.message);
      if (exitCode === EXIT_CODES.ok) exitCode = EXIT_CODES.outputFailed;
    }
  }
  return { exitCode, failure: failures.length > 0 ? failures.join('; and ') : undefined };
}
