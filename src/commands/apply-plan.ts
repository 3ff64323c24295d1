import { Ds100Error, usageError } from '../errors.js';
import { plannedFor, type AppliedPlan } from '../input/plan-file.js';
import { inputName } from '../input/stdin.js';
import { notAttempted, type RowAction } from '../pipeline/run-rows.js';
import { resultOf, type InputRow, type PlanAction, type RowResult } from '../types.js';
import { CHANGE_KINDS } from './change-result.js';

/**
 * `enable --plan` / `disable --plan`: a run that sends exactly the rows a reviewed plan said it
 * would change (see plan-file.ts), and refuses to start on another input than the plan's.
 */

/**
 * Throws (exit 2, before anything is sent) when `plan` was not made by `plan --action <action>`
 * from exactly these input bytes. Pure.
 */
export function checkPlanApplies(plan: AppliedPlan, action: PlanAction, input: string, sha256: string): void {
  if (plan.action !== action) {
    throw usageError(
      `${plan.file} is a plan for ${plan.action}, not ${action}: apply it with \`${plan.action} --plan\``,
    );
  }
  if (sha256 !== plan.inputSha256) {
    throw new Ds100Error(
      'INPUT_FILE',
      `${inputName(input)} is not the file ${plan.file} was made from (${plan.input}): its content changed since ` +
        'the plan, or it is another file; make the plan again and have it reviewed',
    );
  }
}

/**
 * The result of a row the plan does not send, or undefined to send it: what the plan found already
 * done (`already-enabled` / `already-disabled`) is reported as such, anything else as
 * not-attempted, NOT_PLANNED, with the plan's verdict. Pure.
 */
export function unplannedResult(plan: AppliedPlan, row: InputRow): RowResult | undefined {
  const planned = plannedFor(plan, row);
  if (planned.send) return undefined;
  const done = CHANGE_KINDS[plan.action].already;
  return planned.outcome === done
    ? resultOf(row, { outcome: done, attempts: 0, errorMessage: planned.why })
    : notAttempted(row, { code: 'NOT_PLANNED', message: planned.why });
}

/**
 * The parts of a command's RowAction that apply `plan`: the input check, the rows left out, and an
 * email row sent with the user ID the plan resolved (not looked up again: what was reviewed runs).
 */
export function planSteps(
  plan: AppliedPlan,
  action: PlanAction,
  input: string,
): Required<Pick<RowAction, 'checkInput' | 'prepare'>> & { settle(row: InputRow): RowResult | undefined } {
  return {
    checkInput: ({ sha256 }) => checkPlanApplies(plan, action, input, sha256),
    prepare: (row) => {
      if (row.email === undefined || row.userId !== '') return row;
      const planned = plannedFor(plan, row);
      return planned.send ? { ...row, userId: planned.userId } : row;
    },
    settle: (row) => unplannedResult(plan, row),
  };
}
