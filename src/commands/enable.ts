import type { AttemptSuccess } from '../client/response.js';
import { runRows, type SentRow } from '../pipeline/run-rows.js';
import { checkChangeRun, type RunOptions } from '../pipeline/run-options.js';
import type { RunSummary } from '../output/summary.js';
import { undoFileOf } from '../output/undo-writer.js';
import type { AppliedPlan } from '../input/plan-file.js';
import { planSteps } from './apply-plan.js';
import type { InputRow, RowResult } from '../types.js';
import { changeResult, ENABLE_CHANGE, isStatusFor } from './change-result.js';

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
export const isEnabledFor: (row: InputRow, found: AttemptSuccess) => boolean = isStatusFor(ENABLE_CHANGE);

/**
 * The result of an enable request's outcome. Pure. `enabled` when this run enabled the credential
 * (see isChangedByRun; `runStartedAt` in epoch ms), `already-enabled` when it was so before. An
 * enable whose answer was lost but which a lookup settled says so; one nobody could settle is `unknown`.
 */
export const enableResult = (row: InputRow, sent: SentRow, runStartedAt: number): RowResult =>
  changeResult(row, sent, runStartedAt, ENABLE_CHANGE);

/**
 * Enables every valid pair of the input file (`PATCH v1/ds100/enable/otp`) and writes one result
 * per data row, and the credentials it enabled to the undo file. Prints nothing; returns the summary.
 */
export async function enable(options: EnableOptions): Promise<RunSummary> {
  checkChangeRun(options);
  const { state } = options;
  const runStartedAt = Date.now();
  const planned = options.plan && planSteps(options.plan, 'enable', options.input);
  const settleByLedger =
    options.resume && state
      ? (row: InputRow) => state.enabledResult(row, 'enabled', 'enabled by an earlier run; not sent again')
      : undefined;
  return runRows(options, {
    command: 'enable',
    undo: { file: undoFileOf({ ...options, command: 'enable', state: undefined }), outcome: 'enabled' },
    checkInput: planned?.checkInput,
    prepare: planned?.prepare,
    settle:
      settleByLedger && planned
        ? (row) => settleByLedger(row) ?? planned.settle(row)
        : (settleByLedger ?? planned?.settle),
    send: (client, row) => client.enableOtp(row),
    isChangeVisible: isEnabledFor,
    toResult: (row, sent) => enableResult(row, sent, runStartedAt),
  });
}
