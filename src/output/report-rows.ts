import type { Outcome, RowErrorCode, RowResult } from '../types.js';
import { GOOD_OUTCOMES } from './exit-codes.js';

/**
 * Outcomes that need nobody's attention: every command's good outcomes (see exit-codes.ts), but for
 * `not-registered`, which is fine for reconcile's exit code and still listed in the report (a user
 * who has not registered the DS100 yet may need a reminder). Every other row is listed.
 */
const SUCCESS_OUTCOMES: ReadonlySet<Outcome> = new Set(
  Object.values(GOOD_OUTCOMES)
    .flat()
    .filter((outcome) => outcome !== 'not-registered'),
);

export const needsAttention = (result: Pick<RowResult, 'outcome'>): boolean => !SUCCESS_OUTCOMES.has(result.outcome);

/** One row of the report's table: what a person needs to find and fix the row. */
export interface AttentionRow {
  readonly line: number;
  readonly deviceSerialNumber: string;
  readonly userId: string;
  readonly outcome: Outcome;
  readonly errorCode?: RowErrorCode | undefined;
  readonly errorMessage?: string | undefined;
}

/** The rows kept for the report, and how many more there were. */
export interface AttentionRows {
  readonly rows: readonly AttentionRow[];
  readonly more: number;
}

/** Default number of rows the report lists; a million failed rows must not fill the memory. */
export const REPORT_ROW_LIMIT = 10_000;

/**
 * Keeps the first `limit` rows that need attention, in the order they are fed, and counts the rest:
 * memory stays bounded however long the run. Only the fields the table shows are kept, not the
 * carried columns or the token.
 */
export class AttentionCollector {
  readonly #limit: number;
  readonly #rows: AttentionRow[] = [];
  #more = 0;

  constructor(limit: number = REPORT_ROW_LIMIT) {
    this.#limit = limit;
  }

  /** Takes any result; rows that ended well are ignored. */
  readonly add = (result: RowResult): void => {
    if (!needsAttention(result)) return;
    if (this.#rows.length >= this.#limit) {
      this.#more++;
      return;
    }
    this.#rows.push({
      line: result.line,
      deviceSerialNumber: result.deviceSerialNumber,
      userId: result.userId,
      outcome: result.outcome,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
    });
  };

  get collected(): AttentionRows {
    return { rows: this.#rows, more: this.#more };
  }
}
