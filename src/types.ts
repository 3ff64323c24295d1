/**
 * The vocabulary every pipeline stage shares: what a row is, what can happen to it, and the
 * stable error codes written to the results file. Stages import from here, never from each other.
 */

/**
 * What happened to one input row. Written to the `outcome` column of the results.
 * `not-attempted`: a valid row never sent because the run was stopped first (see StopCode).
 */
export type Outcome = 'enabled' | 'failed' | 'invalid' | 'not-attempted';

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
  | 'UNEXPECTED_STATUS'
  /** No bearer token could be obtained for the request (e.g. the OAuth token endpoint refused). */
  | 'TOKEN_ERROR'
  /** The server's TLS certificate is not trusted (expired, wrong host, unknown CA). Not retried. */
  | 'TLS_ERROR';

/** Codes for rows left `not-attempted` because the run stopped early; the stop's reason is the message. */
export type StopCode =
  /** A circuit breaker tripped: 403s kept coming, or too many rows failed. */
  'RUN_ABORTED';

/** Why a run stopped admitting rows. Carried into every `not-attempted` row and the summary. */
export interface StopReason {
  readonly code: StopCode;
  /** One line for the administrator, secret-free; also the `errorMessage` of `not-attempted` rows. */
  readonly message: string;
}

export type RowErrorCode = InvalidRowCode | FailureCode | StopCode;

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
