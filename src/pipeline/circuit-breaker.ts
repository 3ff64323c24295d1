import type { Outcome, RowErrorCode, StopReason } from '../types.js';

export interface CircuitBreakerOptions {
  /**
   * Stop after this many rows in a row end in a failure that no later row can escape: 403 after a
   * fresh token, no token at all, an untrusted TLS certificate, a tenant that cannot be reached or
   * does not answer (each row after all its retries), a base URL that is not the API. 0: never.
   */
  readonly maxConsecutiveForbidden: number;
  /** Stop when more than this percentage of the rows sent so far failed. Undefined: never. */
  readonly maxFailureRatePercent?: number | undefined;
  /** The failure rate is judged only once this many sent rows have finished. */
  readonly failureRateMinRows: number;
}

// Each says the run as a whole cannot work (credentials, trust): every further row would fail the same way.
const WHY: Partial<Record<RowErrorCode, string>> = {
  FORBIDDEN:
    'were refused (403 even with a fresh token): the key is revoked or wrong, or its role may not enable DS100 credentials',
  TOKEN_ERROR: 'could not get a bearer token (see errorMessage): check the credentials and the token endpoint',
  TLS_ERROR:
    "failed on the server's TLS certificate: for a private CA or a TLS-inspecting proxy set NODE_EXTRA_CA_CERTS",
  NETWORK_ERROR: 'could not reach the tenant, each after all its retries (see errorMessage): check the network',
  TIMEOUT: 'got no answer from the tenant within --timeout, each after all its retries',
  UNKNOWN_OUTCOME:
    'lost their answers and the lookups that would settle them failed too: the tenant cannot be reached reliably',
  ENDPOINT_NOT_FOUND:
    "were answered 404 without the API's error body: the base URL is probably not the tenant's adminRestApiUrl",
};

/** The codes that say the run as a whole cannot work: rows ending in them in a row stop it. */
export const RUN_WIDE_FAILURES: ReadonlySet<RowErrorCode> = new Set(Object.keys(WHY) as RowErrorCode[]);

/**
 * Watches finished rows and says when the run should stop. Pure bookkeeping: it decides, the run
 * stops. Rows never sent (`invalid`, `not-attempted`, and rows settled without a request, such as
 * those the ledger or a plan decides) are ignored: they put no load on the tenant. Every other row
 * counts as sent, whatever the command calls its success (`enabled`, `already-enabled`, `disabled`,
 * `would-enable`, `unchanged` …); `failed` and `unknown` are its failures.
 */
export class CircuitBreaker {
  readonly #options: CircuitBreakerOptions;
  #consecutiveFatal = 0;
  #sent = 0;
  #failed = 0;

  constructor(options: CircuitBreakerOptions) {
    this.#options = options;
  }

  observe(result: {
    readonly outcome: Outcome;
    readonly errorCode?: RowErrorCode | undefined;
    /** Requests sent for the row; 0: settled without one (not counted). Left out: counted. */
    readonly attempts?: number | undefined;
  }): StopReason | undefined {
    if (result.outcome === 'invalid' || result.outcome === 'not-attempted' || result.attempts === 0) return undefined;
    this.#sent++;
    if (result.outcome === 'failed' || result.outcome === 'unknown') this.#failed++;
    const why = result.errorCode === undefined ? undefined : WHY[result.errorCode];
    this.#consecutiveFatal = why ? this.#consecutiveFatal + 1 : 0;

    const { maxConsecutiveForbidden, maxFailureRatePercent, failureRateMinRows } = this.#options;
    if (maxConsecutiveForbidden > 0 && this.#consecutiveFatal >= maxConsecutiveForbidden) {
      return {
        code: 'RUN_ABORTED',
        message: `stopped after ${this.#consecutiveFatal} rows in a row ${why}`,
      };
    }
    if (maxFailureRatePercent !== undefined && this.#sent >= failureRateMinRows) {
      const percent = (this.#failed / this.#sent) * 100;
      if (percent > maxFailureRatePercent) {
        return {
          code: 'RUN_ABORTED',
          message:
            `stopped because ${this.#failed} of the ${this.#sent} rows sent so far failed (${percent.toFixed(1)}%), ` +
            `more than the maximum failure rate of ${maxFailureRatePercent}%`,
        };
      }
    }
    return undefined;
  }
}
