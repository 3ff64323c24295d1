import type { AttemptSuccess } from '../client/response.js';
import type { SentRow } from '../pipeline/run-rows.js';
import type { RunSummary } from '../output/summary.js';
import type { InputRow, RowResult } from '../types.js';
import { CHANGE_KINDS, changeResult, isStatusFor } from './change-result.js';
import { runChange, type ChangeRunOptions } from './run-change.js';

/** Options of `enable()` (see ChangeRunOptions). */
export type EnableOptions = ChangeRunOptions;

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
