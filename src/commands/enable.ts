import type { AttemptSuccess } from '../client/response.js';
import { runRows, type SentRow } from '../pipeline/run-rows.js';
import type { RunOptions } from '../pipeline/run-options.js';
import type { RunSummary } from '../output/summary.js';
import { Ds100Error, usageError } from '../errors.js';
import { plannedFor, type AppliedPlan } from '../input/plan-file.js';
import { inputName } from '../input/stdin.js';
import { isSameUser, resultOf, type InputRow, type Outcome, type RowResult } from '../types.js';

/** Options of `enable()`: a run's options, with the results file required. */
export interface EnableOptions extends RunOptions {
  /** Results CSV path, or `-` for stdout. Overwritten. */
  readonly out: string;
  /** With `state`: rows the ledger records as enabled are not sent again (`enable --resume`). */
  readonly resume?: boolean | undefined;
  /**
   * A plan file read with `readPlanFile` (`--plan`): only its `would-enable` rows are sent, and the
   * run refuses to start when the input is not the one the plan was made from.
   */
  readonly plan?: AppliedPlan | undefined;
}

/**
 * Throws (exit 2, before anything is sent) when `plan` was not made by `plan --action <action>`
 * from exactly these input bytes. Pure.
 */
export function checkPlanApplies(
  plan: AppliedPlan,
  action: AppliedPlan['action'],
  input: string,
  sha256: string,
): void {
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
 * The result of a row the plan being applied does not send, or undefined to send it: what the plan
 * found already done is reported as such, anything else as not-attempted, NOT_PLANNED. Pure.
 */
export function unplannedResult(plan: AppliedPlan, row: InputRow, done: Outcome): RowResult | undefined {
  const planned = plannedFor(plan, row);
  if (planned.send) return undefined;
  return planned.outcome === done
    ? resultOf(row, { outcome: done, attempts: 0, errorMessage: planned.why })
    : resultOf(row, { outcome: 'not-attempted', attempts: 0, errorCode: 'NOT_PLANNED', errorMessage: planned.why });
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
  const { plan } = options;
  const settleByLedger =
    options.resume && state
      ? (row: InputRow) => state.enabledResult(row, 'enabled', 'enabled by an earlier run; not sent again')
      : undefined;
  const settleByPlan = plan && ((row: InputRow) => unplannedResult(plan, row, 'already-enabled'));
  return runRows(options, {
    command: 'enable',
    settle:
      settleByLedger && settleByPlan
        ? (row) => settleByLedger(row) ?? settleByPlan(row)
        : (settleByLedger ?? settleByPlan),
    checkInput: plan && ((input) => checkPlanApplies(plan, 'enable', options.input, input.sha256)),
    send: (client, row) => client.enableOtp(row),
    isChangeVisible: isEnabledFor,
    toResult: enableResult,
  });
}
