import type { AppliedPlan } from '../input/plan-file.js';
import type { RunSummary } from '../output/summary.js';
import { undoFileOf } from '../output/undo-writer.js';
import { checkChangeRun, type RunOptions } from '../pipeline/run-options.js';
import { runRows } from '../pipeline/run-rows.js';
import type { InputRow, PlanAction, RowResult } from '../types.js';
import { planSteps } from './apply-plan.js';
import { CHANGE_KINDS, changeResult, isStatusFor } from './change-result.js';

/** What `enable()` and `disable()` share of their options (see EnableOptions, DisableOptions). */
export interface ChangeRunOptions extends RunOptions {
  readonly out: string;
  readonly resume?: boolean | undefined;
  readonly undoFile?: string | undefined;
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
