import type { RunSummary } from './output/summary.js';
import { enableResult, notAttempted, processRows, type FollowUp, type RunOptions, type SentRow } from './run.js';
import type { StateStore } from './state/state-store.js';
import type { InputRow, RowResult } from './types.js';

/** Options of `reconcile()`: those of `run()`, with the state ledger required. */
export interface ReconcileOptions extends Omit<RunOptions, 'resume' | 'state' | 'out'> {
  /** Results CSV (`-` for stdout); without it only the summary is made. */
  readonly out?: string | undefined;
  readonly state: StateStore;
  /** Look pairs the ledger calls enabled up again (read-only) instead of trusting it. Default false. */
  readonly recheck?: boolean;
  /** Enable at most this many credentials in this run; the rest are `not-attempted`. Default: no limit. */
  readonly maxChanges?: number | undefined;
}

const sameUser = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * Brings the tenant in line with the assignment file, idempotently, for a nightly job: a pair the
 * ledger records as enabled is skipped; every other pair is looked up (read-only) and enabled only
 * when it is registered to its user and not enabled yet. A device registered to another user is
 * reported as a conflict and never touched; one not registered yet is looked at again next run.
 */
export async function reconcile(options: ReconcileOptions): Promise<RunSummary> {
  const { state } = options;
  const maxChanges = options.maxChanges ?? Number.POSITIVE_INFINITY;
  let changes = 0;

  const settle = (row: InputRow): RowResult | undefined => {
    if (options.recheck || !state.isEnabled(row)) return undefined;
    const entry = state.get(row)!;
    return {
      ...row,
      outcome: 'unchanged',
      attempts: 0,
      token: {
        tokenSerialNumber: entry.tokenSerialNumber ?? '',
        tokenStatus: 'Enabled',
        tokenStatusChangedAt: '',
        tokenStatusChangedBy: '',
      },
      errorMessage: `enabled since an earlier run (${entry.at}); not looked up again`,
    };
  };

  const toResult = async (row: InputRow, looked: SentRow, follow: FollowUp): Promise<RowResult | undefined> => {
    const { outcome, attempts } = looked;
    const base = { ...row, attempts, httpStatus: outcome.httpStatus };
    if (!outcome.ok) {
      // 404: unknown to the tenant, which during a rollout means "the user has not registered it yet".
      return outcome.code === 'NOT_FOUND'
        ? { ...base, outcome: 'not-registered', errorMessage: outcome.message }
        : { ...base, outcome: 'failed', errorCode: outcome.code, errorMessage: outcome.message };
    }
    const owner = outcome.userId ?? '';
    if (!sameUser(owner, row.userId)) {
      return {
        ...base,
        outcome: 'conflict',
        token: outcome.token,
        errorMessage: `the tenant has this DS100 registered to user ${owner}, not ${row.userId}; not touched`,
      };
    }
    if (outcome.token.tokenStatus === 'Enabled') return { ...base, outcome: 'unchanged', token: outcome.token };
    // Counted before the request goes out, so that no more than maxChanges enables are ever sent.
    if (changes >= maxChanges) {
      const held = notAttempted(row, {
        code: 'MAX_CHANGES_REACHED',
        message: `would be enabled, but --max-changes ${maxChanges} was reached in this run`,
      });
      return { ...held, attempts, httpStatus: outcome.httpStatus }; // the lookup was sent
    }
    changes++;
    const enabled = await follow((client) => client.enableOtp(row));
    if (enabled.outcome === undefined) return undefined; // stopped between the lookup and the enable
    return enableResult(row, { outcome: enabled.outcome, attempts: attempts + enabled.attempts });
  };

  return processRows(options, {
    command: 'reconcile',
    settle,
    send: (client, row) => client.lookup(row.deviceSerialNumber),
    toResult,
  });
}
