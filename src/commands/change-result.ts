import type { AttemptSuccess } from '../client/response.js';
import type { SentRow } from '../pipeline/run-rows.js';
import {
  isSameUser,
  resultOf,
  type InputRow,
  type Outcome,
  type PlanAction,
  type RowResult,
  type TokenRecord,
} from '../types.js';

/**
 * How far the tenant's clock may be behind ours: a credential changed in the first minutes of a run
 * could otherwise carry a `tokenStatusChangedAt` a little before the run's start.
 */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * Whether the credential's status was set by this run. An enable or disable answer (or the lookup
 * that settles a lost one) shows the status, not whether this request changed it; the vendor does not
 * say whether a repeated enable moves `tokenStatusChangedAt` (the simulator keeps it, see
 * src/simulator/tenant.ts). So: changed by this run when the status changed no earlier than the run's
 * start less CLOCK_SKEW_MS. A missing or unreadable date counts as changed by this run: an undo file
 * with one line too many is safer than one that misses a change. Pure.
 */
export function isChangedByRun(token: Pick<TokenRecord, 'tokenStatusChangedAt'>, runStartedAt: number): boolean {
  const changedAt = Date.parse(token.tokenStatusChangedAt);
  return Number.isNaN(changedAt) || changedAt >= runStartedAt - CLOCK_SKEW_MS;
}

/** What a change does to a credential, in the words its results use. */
export interface ChangeKind {
  /** The `tokenStatus` the change leaves, e.g. `Enabled`. */
  readonly status: 'Enabled' | 'Disabled';
  /** The outcome of a change made by this run, e.g. `enabled`. */
  readonly changed: Outcome;
  /** The outcome of a credential that had the status before this run, e.g. `already-enabled`. */
  readonly already: Outcome;
  /** A plan's outcome for a credential the change would set, e.g. `would-enable`. */
  readonly would: Outcome;
}

/** Each change in the words its results and plans use. */
export const CHANGE_KINDS: Readonly<Record<PlanAction, ChangeKind>> = {
  enable: { status: 'Enabled', changed: 'enabled', already: 'already-enabled', would: 'would-enable' },
  disable: { status: 'Disabled', changed: 'disabled', already: 'already-disabled', would: 'would-disable' },
};

/** Whether a lookup shows the row's credential, for the row's user, with the change's status: the change took effect. */
export const isStatusFor =
  (kind: ChangeKind) =>
  (row: InputRow, found: AttemptSuccess): boolean =>
    isSameUser(found.userId ?? '', row.userId) && found.token.tokenStatus === kind.status;

/**
 * The result of an enable or disable request. Pure. A success is `kind.changed` when this run made
 * it (isChangedByRun), else `kind.already`, with the date it has been so since. An answer that was
 * lost but which a lookup settled says so; one nobody could settle is `unknown`.
 */
export function changeResult(
  row: InputRow,
  { outcome, attempts }: SentRow,
  runStartedAt: number,
  kind: ChangeKind,
): RowResult {
  if (outcome.ok) {
    const { httpStatus, token, lostAnswer } = outcome;
    const word = kind.status.toLowerCase();
    const isChanged = isChangedByRun(token, runStartedAt);
    const since = isChanged ? undefined : `${word} since ${token.tokenStatusChangedAt}; not changed by this run`;
    const lost =
      lostAnswer === undefined
        ? undefined
        : isChanged
          ? `the answer was lost (${lostAnswer}); a lookup confirmed the credential is ${word}`
          : `the answer was lost (${lostAnswer}); a lookup showed the credential ${since}`;
    const errorMessage = lost ?? (since && `already ${since}`);
    return resultOf(row, {
      attempts,
      httpStatus,
      outcome: isChanged ? kind.changed : kind.already,
      token,
      errorMessage,
    });
  }
  return resultOf(row, {
    attempts,
    httpStatus: outcome.httpStatus,
    outcome: outcome.code === 'UNKNOWN_OUTCOME' ? 'unknown' : 'failed',
    errorCode: outcome.code,
    errorMessage: outcome.message,
  });
}
