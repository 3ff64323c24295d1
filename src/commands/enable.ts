import type { AttemptSuccess } from '../client/response.js';
import { runRows, type SentRow } from '../pipeline/run-rows.js';
import type { RunOptions } from '../pipeline/run-options.js';
import type { RunSummary } from '../output/summary.js';
import { usageError } from '../errors.js';
import { isSameUser, resultOf, type InputRow, type RowResult } from '../types.js';

/** Options of `enable()`: a run's options, with the results file required. */
export interface EnableOptions extends RunOptions {
  /** Results CSV path, or `-` for stdout. Overwritten. */
  readonly out: string;
  /** With `state`: rows the ledger records as enabled are not sent again (`enable --resume`). */
  readonly resume?: boolean | undefined;
}

/** Whether a lookup shows the row's credential enabled for the row's user: an enable took effect. Pure. */
export const isEnabledFor = (row: InputRow, found: AttemptSuccess): boolean =>
  isSameUser(found.userId ?? '', row.userId) && found.token.tokenStatus === 'Enabled';

/**
 * The result of an enable request's outcome. Pure. An enable whose answer was lost but which a
 * lookup found done is `enabled`, and says so; one nobody could settle is `unknown`.
 */
export function enableResult(row: InputRow, { outcome, attempts }: SentRow): RowResult {
  if (outcome.ok) {
    const { httpStatus, token, lostAnswer } = outcome;
    const errorMessage =
      lostAnswer === undefined
        ? undefined
        : `the answer was lost (${lostAnswer}); a lookup confirmed the credential is enabled`;
    return resultOf(row, { attempts, httpStatus, outcome: 'enabled', token, errorMessage });
  }
  return resultOf(row, {
    attempts,
    httpStatus: outcome.httpStatus,
    outcome: outcome.code === 'UNKNOWN_OUTCOME' ? 'unknown' : 'failed',
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
    isChangeVisible: isEnabledFor,
    toResult: enableResult,
  });
}
