/**
 * The vocabulary every pipeline stage shares: what a row is, what can happen to it, and the
 * stable error codes written to the results file. Stages import from here, never from each other.
 */

/** What happened to one input row. Written to the `outcome` column of the results. */
export type Outcome = 'enabled' | 'failed' | 'invalid';

/** Codes for rows that were never sent because the input itself is wrong. */
export type InvalidRowCode =
  | 'MALFORMED_CSV'
  | 'WRONG_FIELD_COUNT'
  | 'MISSING_SERIAL'
  | 'INVALID_SERIAL'
  | 'SERIAL_SCIENTIFIC_NOTATION'
  | 'MISSING_USER_ID'
  | 'INVALID_USER_ID'
  | 'DUPLICATE_ROW'
  | 'CONFLICTING_ROW';

/** Codes for rows that were sent and did not end enabled. */
export type FailureCode =
  | 'BAD_REQUEST'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'SERVER_ERROR'
  | 'TIMEOUT'
  | 'NETWORK_ERROR'
  | 'BAD_RESPONSE'
  | 'UNEXPECTED_STATUS';

export type RowErrorCode = InvalidRowCode | FailureCode;

/** A device/user pair as the API takes it. */
export interface Ds100Pair {
  readonly deviceSerialNumber: string;
  readonly userId: string;
}

/** One data row of the input file, after column mapping. */
export interface InputRow extends Ds100Pair {
  /** 1-based line of the input file where the row starts. */
  readonly line: number;
  /** Values of the columns that are carried through to the results unchanged, in header order. */
  readonly carried: readonly string[];
}

/** The credential record the API returns for an enabled DS100. */
export interface TokenRecord {
  readonly tokenSerialNumber: string;
  readonly tokenStatus: string;
  readonly tokenStatusChangedAt: string;
  readonly tokenStatusChangedBy: string;
}

/** One line of the results file. */
export interface RowResult extends Ds100Pair {
  readonly line: number;
  readonly outcome: Outcome;
  readonly token?: TokenRecord | undefined;
  readonly httpStatus?: number | undefined;
  readonly errorCode?: RowErrorCode | undefined;
  readonly errorMessage?: string | undefined;
  /** Requests sent for this row (0 for rows never sent). */
  readonly attempts: number;
  readonly carried: readonly string[];
}
