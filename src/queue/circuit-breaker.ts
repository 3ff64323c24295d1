import type { Outcome, RowErrorCode, StopReason } from '../types.js';

export interface CircuitBreakerOptions {
  /** Stop after this many rows in a row end refused (403 after a fresh token, or no token at all). 0: never. */
  readonly maxConsecutiveForbidden: number;
  /** Stop when more than this percentage of the rows sent so far failed. Undefined: never. */
  readonly maxFailureRatePercent?: number | undefined;
  /** The failure rate is judged only once this many sent rows have finished. */
  readonly failureRateMinRows: number;
}

// Both say the credentials no longer work; every further row would only fail the same way.
const AUTH_FAILURES: ReadonlySet<RowErrorCode> = new Set(['FORBIDDEN', 'TOKEN_ERROR']);

/**
 * Watches finished rows and says when the run should stop. Pure bookkeeping: it decides, the run
 * stops. Rows never sent (`invalid`, `not-attempted`) are ignored: they put no load on the tenant.
 */
export class CircuitBreaker {
  readonly #options: CircuitBreakerOptions;
  #consecutiveAuthFailures = 0;
  #sent = 0;
  #failed = 0;

  constructor(options: CircuitBreakerOptions) {
    this.#options = options;
  }

  observe(result: {
    readonly outcome: Outcome;
    readonly errorCode?: RowErrorCode | undefined;
  }): StopReason | undefined {
    if (result.outcome !== 'enabled' && result.outcome !== 'failed') return undefined;
    this.#sent++;
    if (result.outcome === 'failed') this.#failed++;
    const isAuthFailure = result.errorCode !== undefined && AUTH_FAILURES.has(result.errorCode);
    this.#consecutiveAuthFailures = isAuthFailure ? this.#consecutiveAuthFailures + 1 : 0;

    const { maxConsecutiveForbidden, maxFailureRatePercent, failureRateMinRows } = this.#options;
    if (maxConsecutiveForbidden > 0 && this.#consecutiveAuthFailures >= maxConsecutiveForbidden) {
      return {
        code: 'RUN_ABORTED',
        message:
          `stopped after ${this.#consecutiveAuthFailures} rows in a row were refused (403 even with a fresh token, ` +
          'or no token could be obtained): the key is revoked or wrong, or its role may not enable DS100 credentials',
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
