import { usageError } from '../errors.js';
import type { RunSummary } from '../output/summary.js';
import { undoFileOf } from '../output/undo-writer.js';
import { resolveMaxChanges, type RunOptions } from '../pipeline/run-options.js';
import { notAttempted, runRows, type FollowUp, type SentRow } from '../pipeline/run-rows.js';
import type { StateStore } from '../state/state-store.js';
import { resultOf, type InputRow, type RowResult } from '../types.js';
import { enableResult, isEnabledFor } from './enable.js';
import { planResult } from './plan.js';

/** Options of `reconcile()`: a run's options, with the state ledger required. */
export interface ReconcileOptions extends RunOptions {
  readonly state: StateStore;
  /** Look pairs the ledger calls enabled up again (read-only) instead of trusting it. Default false. */
  readonly recheck?: boolean;
  /** Enable at most this many credentials in this run; the rest are `not-attempted`. Default: no limit. */
  readonly maxChanges?: number | undefined;
  /**
   * The undo file: one line per credential this run enabled, in the input format (an input for
   * `disable`); appended to when it exists with the same header. Default: `<out>.undo.csv`, or
   * `<state>.undo.csv` when `out` is left out or `-`.
   */
  readonly undoFile?: string | undefined;
}

/**
 * Brings the tenant in line with the assignment file, idempotently, for a nightly job: a pair the
 * ledger records as enabled is skipped; every other pair is looked up (read-only) and enabled only
 * when it is registered to its user and not enabled yet. A device registered to another user is
 * reported as a conflict and never touched; one not registered yet is looked at again next run.
 */
export async function reconcile(options: ReconcileOptions): Promise<RunSummary> {
  const { state } = options;
  if (!state) throw usageError('Expected `state` (--state): reconcile keeps what it did in a state ledger');
  const maxChanges = resolveMaxChanges(options.maxChanges);
  let changes = 0;
  const runStartedAt = Date.now();

  // The lookup is read the way `plan` reads it; reconcile then acts on plan's verdict.
  const toResult = async (row: InputRow, looked: SentRow, follow: FollowUp): Promise<RowResult | undefined> => {
    const planned = planResult(row, looked);
    const { attempts, httpStatus, token } = planned;
    switch (planned.outcome) {
      case 'already-enabled':
        return resultOf(row, { attempts, httpStatus, token, outcome: 'unchanged' });
      case 'registered-to-other-user': {
        const owner = looked.outcome.ok ? looked.outcome.userId : '';
        const message = `the tenant has this DS100 registered to user ${owner}, not ${row.userId}; not touched`;
        return resultOf(row, { attempts, httpStatus, token, outcome: 'conflict', errorMessage: message });
      }
      case 'would-enable':
        break;
      default:
        return planned; // not-registered (looked at again next run), or the lookup failed
    }
    // Counted before the request goes out, so that no more than maxChanges enables are ever sent.
    if (changes >= maxChanges) {
      const why = {
        code: 'MAX_CHANGES_REACHED',
        message: `would be enabled, but --max-changes ${maxChanges} was reached in this run`,
      } as const;
      return notAttempted(row, why, looked); // the lookup was sent
    }
    changes++;
    const enabled = await follow((client) => client.enableOtp(row), isEnabledFor);
    if (enabled.outcome === undefined) return undefined; // stopped between the lookup and the enable
    const result = enableResult(
      row,
      { outcome: enabled.outcome, attempts: looked.attempts + enabled.attempts },
      runStartedAt,
    );
    // The lookup showed it not enabled, so the enable is this run's change: unless the tenant dates
    // the status before the run (someone else's change in between), which reconcile calls unchanged.
    return result.outcome === 'already-enabled' ? { ...result, outcome: 'unchanged' } : result;
  };

  return runRows(options, {
    command: 'reconcile',
    undo: { file: undoFileOf({ ...options, command: 'reconcile', state: state.file }), outcome: 'enabled' },
    settle: (row) =>
      options.recheck
        ? undefined
        : state.enabledResult(row, 'unchanged', 'enabled since an earlier run; not looked up again'),
    send: (client, row) => client.lookup(row.deviceSerialNumber),
    toResult,
  });
}
