import type { AppliedPlan } from '../input/plan-file.js';
import type { RunSummary } from '../output/summary.js';
import { undoFileOf } from '../output/undo-writer.js';
import { checkChangeRun, type RunOptions } from '../pipeline/run-options.js';
import { runRows } from '../pipeline/run-rows.js';
import type { InputRow, PlanAction, RowResult } from '../types.js';
import { planSteps } from './apply-plan.js';
import { CHANGE_KINDS, changeResult, isStatusFor } from './change-result.js';

/** The options of `enable()` and `disable()`: a run's options, with the results file required. */
export interface ChangeRunOptions extends RunOptions {
  /** Results CSV path, or `-` for stdout. Overwritten. */
  readonly out: string;
  /** With `state`: rows the ledger records as done by an earlier run of the command are not sent again. */
  readonly resume?: boolean | undefined;
  /**
   * The undo file: one line per credential this run changed, in the input format (the input of the
   * other command, which takes the run back); appended to when it exists with the same header.
   * Default: `<out>.undo.csv` (`.csv` or `.xlsx` dropped from `out`); none when `out` is `-`.
   */
  readonly undoFile?: string | undefined;
  /**
   * A plan file read with `readPlanFile` (`plan [--action disable] --out plan.csv`, applied with
   * `--plan`): only its `would-enable` (`would-disable`) rows are sent, and the run refuses to start
   * when the input is not the one the plan was made from.
   */
  readonly plan?: AppliedPlan | undefined;
}

/** A row's result without a request, or undefined to send it. */
type Settle = (row: InputRow) => RowResult | undefined;

/**
 * Runs an enable or a disable: the options checked, then every valid row sent unless the ledger
 * (`resume`), the plan (`plan`) or `makeLimit`'s settle, in that order, decides it first.
 * `makeLimit` is called once the options are checked (disable's --max-changes).
 */
export async function runChange(
  options: ChangeRunOptions,
  action: PlanAction,
  makeLimit?: () => Settle,
): Promise<RunSummary> {
  checkChangeRun(options);
  const { state } = options;
  const kind = CHANGE_KINDS[action];
  const limit = makeLimit?.();
  const runStartedAt = Date.now();
  const planned = options.plan && planSteps(options.plan, action, options.input);
  const message = `${kind.changed} by an earlier run; not sent again`;
  const byLedger: Settle | undefined =
    options.resume && state
      ? action === 'enable'
        ? (row) => state.enabledResult(row, kind.changed, message)
        : (row) => state.disabledResult(row, kind.changed, message)
      : undefined;
  return runRows(options, {
    command: action,
    undo: { file: undoFileOf({ ...options, command: action, state: undefined }), outcome: kind.changed },
    checkInput: planned?.checkInput,
    prepare: planned?.prepare,
    settle: (row) => byLedger?.(row) ?? planned?.settle(row) ?? limit?.(row),
    send: (client, row) => (action === 'enable' ? client.enableOtp(row) : client.disableOtp(row)),
    isChangeVisible: isStatusFor(kind),
    toResult: (row, sent) => changeResult(row, sent, runStartedAt, kind),
  });
}
