import { runRows, type SentRow } from '../pipeline/run-rows.js';
import type { RunOptions } from '../pipeline/run-options.js';
import type { RunSummary } from '../output/summary.js';
import { usageError } from '../errors.js';
import { resultOf, type InputRow, type RowResult } from '../types.js';

/** Options of `enable()`: a run's options, with the results file required. */
export interface EnableOptions extends RunOptions {
  /** Results CSV path, or `-` for stdout. Overwritten. */
  readonly out: string;
  /** With `state`: rows the ledger records as enabled are not sent again (`enable --resume`). */
  readonly resume?: boolean | undefined;
}

/** The result of an enable request's outcome. Pure. */
export function enableResult(row: InputRow, { outcome, attempts }: SentRow): RowResult {
  return outcome.ok
    ? resultOf(row, { attempts, httpStatus: outcome.httpStatus, outcome: 'enabled', token: outcome.token })
    : resultOf(row, {
        attempts,
        httpStatus: outcome.httpStatus,
        outcome: 'failed',
        errorCode: outcome.code,
        errorMessage: outcome.message,
      });
}

/**
 * Enables every valid pair of the input file (`PATCH v1/ds100/enable/otp`) and writes one result
 * per data row. Prints nothing; returns the summary.
 */
export async function enable(options: EnableOptions): Promise<RunSummary> {
  const { state } = options;
  if (options.resume && !state)
    throw usageError('Expected `state` (--state) with `resume`: the ledger of the run to continue');
  if (typeof options.out !== 'string' || options.out === '')
    throw usageError('Expected `out` (--out) to be a file name, or - for stdout');
  return runRows(options, {
    command: 'enable',
    settle:
      options.resume && state
        ? (row) => state.enabledResult(row, 'enabled', 'enabled by an earlier run; not sent again')
        : undefined,
    send: (client, row) => client.enableOtp(row),
    toResult: enableResult,
  });
}
