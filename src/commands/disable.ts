import type { AttemptSuccess } from '../client/response.js';
import type { RunSummary } from '../output/summary.js';
import { resolveMaxChanges } from '../pipeline/run-options.js';
import { notAttempted, type SentRow } from '../pipeline/run-rows.js';
import type { InputRow, RowResult } from '../types.js';
import { CHANGE_KINDS, changeResult, isStatusFor } from './change-result.js';
import { runChange, type ChangeRunOptions } from './run-change.js';

/** Options of `disable()`: enable's (see ChangeRunOptions), and a limit on the changes. */
export interface DisableOptions extends ChangeRunOptions {
  /**
   * Send at most this many disable requests in this run; the rest are `not-attempted`,
   * MAX_CHANGES_REACHED. Default: no limit. Counted as requests go out: whether a credential is
   * disabled already is only known from the answer.
   */
  readonly maxChanges?: number | undefined;
}

/** Whether a lookup shows the row's credential disabled for the row's user: a disable took effect. Pure. */
export const isDisabledFor: (row: InputRow, found: AttemptSuccess) => boolean = isStatusFor(CHANGE_KINDS.disable);

/**
 * The result of a disable request's outcome. Pure. `disabled` when this run disabled the credential
 * (see isChangedByRun), `already-disabled` when it was so before; a device not registered to the
 * row's user is `failed`, NOT_FOUND, as the API answers it.
 */
export const disableResult = (row: InputRow, sent: SentRow, runStartedAt: number): RowResult =>
  changeResult(row, sent, runStartedAt, CHANGE_KINDS.disable);

/**
 * Disables the DS100 OTP credential of every valid pair of the input file (`PATCH
 * v1/ds100/disable/otp`) through the same pipeline as `enable`: the same checks, results, pacing,
 * retries and lost answers settled by a lookup. Its usual input is the undo file of an enable or
 * reconcile run. Writes one result per data row, and the credentials it disabled to its own undo
 * file (an input for `enable`). Prints nothing; returns the summary.
 */
export async function disable(options: DisableOptions): Promise<RunSummary> {
  return runChange(options, 'disable', () => {
    const maxChanges = resolveMaxChanges(options.maxChanges);
    let requested = 0;
    // Rows are settled one by one in file order before they are queued: the count is taken before
    // the request goes out, so that no more than maxChanges disables are ever sent.
    return (row) => {
      // A row whose address is not looked up yet is settled again once it is (see runRows): counted then.
      if (row.email !== undefined && row.userId === '') return undefined;
      if (requested < maxChanges) {
        requested++;
        return undefined;
      }
      const message = `not sent: --max-changes ${maxChanges} disable requests were sent in this run`;
      return notAttempted(row, { code: 'MAX_CHANGES_REACHED', message });
    };
  });
}
