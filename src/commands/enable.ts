import type { AttemptSuccess } from '../client/response.js';
import type { SentRow } from '../pipeline/run-rows.js';
import type { RunOptions } from '../pipeline/run-options.js';
import type { RunSummary } from '../output/summary.js';
import type { AppliedPlan } from '../input/plan-file.js';
import type { InputRow, RowResult } from '../types.js';
import { CHANGE_KINDS, changeResult, isStatusFor } from './change-result.js';
import { runChange } from './run-change.js';

/** Options of `enable()`: a run's options, with the results file required. */
export interface EnableOptions extends RunOptions {
  /** Results CSV path, or `-` for stdout. Overwritten. */
  readonly out: string;
  /** With `state`: rows the ledger records as enabled are not sent again (`enable --resume`). */
  readonly resume?: boolean | undefined;
  /**
   * The undo file: one line per credential this run enabled, in the input format (an input for
   * `disable`); appended to when it exists with the same header. Default: `<out>.undo.csv` (`.csv`
   * or `.xlsx` dropped from `out`); none when `out` is `-`.
   */
  readonly undoFile?: string | undefined;
  /**
   * A plan file read with `readPlanFile` (`--plan`): only its `would-enable` rows are sent, and the
   * run refuses to start when the input is not the one the plan was made from.
   */
  readonly plan?: AppliedPlan | undefined;
}

/** Whether a lookup shows the row's credential enabled for the row's user: an enable took effect. Pure. */
export const isEnabledFor: (row: InputRow, found: AttemptSuccess) => boolean = isStatusFor(CHANGE_KINDS.enable);

/**
 * The result of an enable request's outcome. Pure. `enabled` when this run enabled the credential
 * (see isChangedByRun; `runStartedAt` in epoch ms), `already-enabled` when it was so before. An
 * enable whose answer was lost but which a lookup settled says so; one nobody could settle is `unknown`.
 */
export const enableResult = (row: InputRow, sent: SentRow, runStartedAt: number): RowResult =>
  changeResult(row, sent, runStartedAt, CHANGE_KINDS.enable);

/**
 * Enables every valid pair of the input file (`PATCH v1/ds100/enable/otp`) and writes one result
 * per data row, and the credentials it enabled to the undo file. Prints nothing; returns the summary.
 */
export async function enable(options: EnableOptions): Promise<RunSummary> {
  return runChange(options, 'enable');
}
