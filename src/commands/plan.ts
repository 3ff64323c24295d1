import { resolve } from 'node:path';
import { formatPlanTrailer } from '../input/plan-file.js';
import { inputName, STDIN } from '../input/stdin.js';
import { isXlsxPath } from '../output/results-writer.js';
import type { RunSummary } from '../output/summary.js';
import type { RunOptions } from '../pipeline/run-options.js';
import { runRows, type SentRow } from '../pipeline/run-rows.js';
import { usageError } from '../errors.js';
import { isSameUser, resultOf, type InputRow, type PlanAction, type RowResult } from '../types.js';
import { CHANGE_KINDS } from './change-result.js';

/** Options of `plan()`: a run's options; without `out` only the summary is made. */
export interface PlanOptions extends Omit<RunOptions, 'state'> {
  /** Which run to preview: `enable` (default) or `disable` (`--action`). */
  readonly action?: PlanAction | undefined;
}

/** What a run would do with a row, from the lookup's outcome; `action` says which run. Pure. */
export function planResult(row: InputRow, { outcome, attempts }: SentRow, action: PlanAction = 'enable'): RowResult {
  const { httpStatus } = outcome;
  if (!outcome.ok) {
    // 404: the device is unknown to the tenant, which during a rollout means "not registered yet".
    return outcome.code === 'NOT_FOUND'
      ? resultOf(row, { attempts, httpStatus, outcome: 'not-registered', errorMessage: outcome.message })
      : resultOf(row, {
          attempts,
          httpStatus,
          outcome: 'failed',
          errorCode: outcome.code,
          errorMessage: outcome.message,
        });
  }
  const owner = outcome.userId ?? '';
  if (!isSameUser(owner, row.userId)) {
    return resultOf(row, {
      attempts,
      httpStatus,
      outcome: 'registered-to-other-user',
      token: outcome.token,
      errorMessage: `the tenant has this DS100 registered to user ${owner}, not ${row.userId}; a run would fail with NOT_FOUND`,
    });
  }
  const kind = CHANGE_KINDS[action];
  const verdict = outcome.token.tokenStatus === kind.status ? kind.already : kind.would;
  return resultOf(row, { attempts, httpStatus, outcome: verdict, token: outcome.token });
}

/**
 * Says per row what a run (`enable`, or `disable` with `action`) would do, using only the read-only
 * `POST v1/ds100/lookup` with the same checks, auth, pacing and retries as a run. Nothing is written
 * to the tenant.
 */
export async function plan(options: PlanOptions): Promise<RunSummary> {
  const action = options.action ?? 'enable';
  if (action !== 'enable' && action !== 'disable') {
    throw usageError(`Expected \`action\` (--action) to be enable or disable, got ${JSON.stringify(action)}`);
  }
  const { out, input } = options;
  if (out !== undefined && isXlsxPath(out)) {
    options.logger?.warn({ out }, 'an .xlsx plan carries no fingerprint and cannot be applied with --plan; use .csv');
  }
  const summary = await runRows(options, {
    command: 'plan',
    // The fingerprint that lets `enable --plan` (`disable --plan`) apply exactly this plan (see plan-file.ts). Not on
    // stdout, which is for pipes (`| cut`), where a last "#" line would be taken for a row.
    closingLine: ({ rows, sha256 }) => {
      if (out === '-') return undefined;
      const made = {
        action,
        rows,
        inputSha256: sha256,
        input: input === STDIN ? inputName(input) : resolve(input),
      } as const;
      return (planSha256) => formatPlanTrailer(made, planSha256);
    },
    send: (client, row) => client.lookup(row.deviceSerialNumber),
    toResult: (row, sent) => planResult(row, sent, action),
  });
  return action === 'disable' ? { ...summary, action } : summary;
}
