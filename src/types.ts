/**
 * The vocabulary every pipeline stage shares: what a row is, what can happen to it, and the
 * stable error codes written to the results file. Stages import from here, never from each other.
 */

/**
 * What happened to one input row. Written to the `outcome` column of the results.
 */
/** The change a plan previews and a plan file applies: `enable` or `disable`. */
export type PlanAction = 'enable' | 'disable';

/** The commands that change the tenant, and so write an undo file. */
export type ChangingCommand = 'enable' | 'reconcile' | 'disable';

export type Outcome =
  | 'enabled'
  | 'failed'
  /**
   * Sent, and whether it took effect cannot be told: the answer was lost (a reset, a timeout, an
   * unreadable 200) and the read-only lookup that would settle it failed too. `reconcile` and
   * `enable --resume` settle it on their next run.
   */
  | 'unknown'
  | 'invalid'
  /** A valid row never sent because the run was stopped first (see StopCode). */
  | 'not-attempted'
  /** validate / enable --dry-run: the row passes every check (it may carry a warning code). */
  | 'valid'
  /** plan: the device is registered to this user and not enabled yet; a run would enable it. */
  | 'would-enable'
  /**
   * plan: the device's credential is already enabled for this user; a run changes nothing. enable:
   * the credential is enabled, but was so before this run (see isChangedByRun); a success.
   */
  | 'already-enabled'
  /** plan: the tenant does not know the device (404): the user has not registered it yet. */
  | 'not-registered'
  /** plan: the tenant has the device registered to another user; a human must resolve it. */
  | 'registered-to-other-user'
  /** reconcile: already enabled (by the ledger, or as the tenant showed); nothing was changed. */
  | 'unchanged'
  /** reconcile: the tenant has the device registered to another user; reported, never touched. */
  | 'conflict'
  /** disable: the credential was disabled, and by this run (see isChangedByRun). */
  | 'disabled'
  /** disable, plan --action disable: the credential was disabled already, before this run; nothing was changed. */
  | 'already-disabled'
  /** plan --action disable: the device is registered to this user and enabled; a run would disable it. */
  | 'would-disable';

/**
 * Outcomes that leave a credential as its command wants it, by this run or before it: nothing is
 * left to do for the row (the ledger's "done", what `--only-failed` leaves out).
 */
export const DONE_OUTCOMES: Readonly<Record<'Enabled' | 'Disabled', ReadonlySet<string>>> = {
  Enabled: new Set<Outcome>(['enabled', 'already-enabled', 'unchanged']),
  Disabled: new Set<Outcome>(['disabled', 'already-disabled']),
};

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
  | 'CONFLICTING_ROW'
  /** A spreadsheet dropped the serial's leading zeros (shorter than expected, and no serial in the file starts with 0). */
  | 'SERIAL_LEADING_ZEROS_LOST'
  /** Spaces, quotes, braces or invisible characters around or inside the serial. */
  | 'SERIAL_STRAY_CHARACTERS'
  /** Spaces, quotes, braces or invisible characters around or inside the user ID. */
  | 'USER_ID_STRAY_CHARACTERS'
  /** The file gives one user more DS100s than the vendor's per-user limit (5); every row of that user. */
  | 'TOO_MANY_DEVICES'
  /** The email cell is empty (a file that names users by email address). */
  | 'MISSING_EMAIL'
  /** Not an email address: one @, a name before it, a domain with a dot after it, no spaces, at most 254 characters. */
  | 'INVALID_EMAIL'
  /** Spaces, quotes, angle brackets or invisible characters around or inside the email address. */
  | 'EMAIL_STRAY_CHARACTERS'
  /** The tenant knows no user with this email address (`POST v1/users/lookup` answered 404); never sent. */
  | 'UNKNOWN_EMAIL';

/**
 * Codes for rows that are sent, but look suspicious. A warning never stops a row unless the run is
 * strict (`--strict`), in which case the row is invalid with the same code.
 */
export type WarningCode =
  /** The serial has another number of digits than expected (9 by default, `--serial-length`). */
  'SERIAL_LENGTH';

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
  | 'TLS_ERROR'
  /**
   * A 404 that is not in the API's error shape (an HTML page, a gateway's "no route"): the base URL
   * probably points somewhere else than the tenant's adminRestApiUrl.
   */
  | 'ENDPOINT_NOT_FOUND'
  /** A change may have reached the tenant, its answer was lost and no lookup could tell: outcome `unknown`. */
  | 'UNKNOWN_OUTCOME';

/**
 * Codes for rows left `not-attempted`: the run stopped early (the stop's reason is the message), or
 * the plan being applied left the row out (NOT_PLANNED).
 */
export type StopCode =
  /** A circuit breaker tripped: 403s kept coming, or too many rows failed. */
  | 'RUN_ABORTED'
  /** SIGINT or SIGTERM: the run was asked to end. */
  | 'INTERRUPTED'
  /** `--max-runtime` ran out (a cron window closed). */
  | 'MAX_RUNTIME'
  /** The results file, the state file or the log file could not be written (disk full, I/O error …). */
  | 'OUTPUT_FAILED'
  /** reconcile and disable `--max-changes`: this row would have been changed, but the run's limit was reached. */
  | 'MAX_CHANGES_REACHED'
  /** `enable --plan`: the plan being applied did not say `would-enable` for this row, so it was not sent. */
  | 'NOT_PLANNED'
  /** `--canary N`: the first N rows were sent, and going on was declined (or not asked: no terminal, no `--yes`). */
  | 'CANARY_ONLY'
  /**
   * `--canary N`: a canary row failed for a reason that is not the row's own (403, no token, the
   * tenant unreachable or erring after its retries, an unknown outcome): nobody was asked, the run stopped.
   */
  | 'CANARY_FAILED';

/** Why a run stopped admitting rows. Carried into every `not-attempted` row and the summary. */
export interface StopReason {
  readonly code: StopCode;
  /** One line for the administrator, secret-free; also the `errorMessage` of `not-attempted` rows. */
  readonly message: string;
}

export type RowErrorCode = InvalidRowCode | FailureCode | StopCode | WarningCode;

/** Whether two user IDs name the same user: the hex of an ID may come in either case. */
export const isSameUser = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

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
  /**
   * The user's email address, in a file that names users by email instead of user ID (undefined when
   * the file has a user ID column). `userId` is then '' until the address is resolved.
   */
  readonly email?: string | undefined;
}

/** The credential record the API returns for an enabled DS100. */
export interface TokenRecord {
  readonly tokenSerialNumber: string;
  readonly tokenStatus: string;
  readonly tokenStatusChangedAt: string;
  readonly tokenStatusChangedBy: string;
}

/** One line of the results file. */
export interface RowResult extends InputRow {
  readonly outcome: Outcome;
  readonly token?: TokenRecord | undefined;
  readonly httpStatus?: number | undefined;
  readonly errorCode?: RowErrorCode | undefined;
  readonly errorMessage?: string | undefined;
  /** Requests sent for this row (0 for rows never sent). */
  readonly attempts: number;
}

/** What happened to a row: its result less the row's own fields. */
export type RowOutcome = Omit<RowResult, keyof InputRow>;

/**
 * A row's result: the row's own fields, then what happened to it. Written out field by field
 * because Node 20's V8 makes `{ ...row, outcome }` cost one to two microseconds per object, which at
 * thousands of rows a second showed (BENCHMARKS.md, "Client efficiency").
 */
export function resultOf(row: InputRow, what: RowOutcome): RowResult {
  return {
    line: row.line,
    deviceSerialNumber: row.deviceSerialNumber,
    userId: row.userId,
    carried: row.carried,
    email: row.email,
    outcome: what.outcome,
    attempts: what.attempts,
    httpStatus: what.httpStatus,
    token: what.token,
    errorCode: what.errorCode,
    errorMessage: what.errorMessage,
  };
}
