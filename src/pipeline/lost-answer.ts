import type { AttemptSuccess } from '../client/response.js';
import type { Confirmation, Sent } from '../queue/request-queue.js';
import type { InputRow } from '../types.js';

/**
 * How a change whose answer was lost (a reset after sending, a timeout, a gateway's 502, an
 * unreadable 200) is settled: the run looks the device up (read-only) and asks the command whether
 * what it finds shows the change made. The request queue acts on the verdict (done: a success; not
 * done: retried as usual; nobody can tell: UNKNOWN_OUTCOME).
 */

/**
 * Whether a credential, as a lookup shows it, already carries a change made for `row`: the test a
 * lost answer is settled by (see RowAction.isChangeVisible).
 */
export type ChangeVisible = (row: InputRow, found: AttemptSuccess) => boolean;

/** What a lookup's outcome says about a change: there, not there, or nothing can be told. Pure. */
export function confirmationOf(row: InputRow, looked: Sent, isChangeVisible: ChangeVisible): Confirmation {
  const { outcome, attempts } = looked;
  if (outcome === undefined) return { isDone: undefined, why: 'the run stopped before a lookup could tell', attempts };
  if (outcome.ok)
    return isChangeVisible(row, outcome) ? { isDone: true, found: outcome, attempts } : { isDone: false, attempts };
  if (outcome.code === 'NOT_FOUND') return { isDone: false, attempts };
  return {
    isDone: undefined,
    why: `the lookup that would tell failed too (${outcome.code}: ${outcome.message})`,
    attempts,
  };
}
