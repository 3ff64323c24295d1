import type { FailureCode } from '../types.js';

/** How hard to retry a request that failed for a reason that may pass. */
export interface RetryPolicy {
  /** Retries after the first attempt. Default 5. */
  readonly retries: number;
  /** First backoff; doubles on each retry. Default 1000 ms. */
  readonly baseDelayMs: number;
  /** Ceiling of one exponential backoff. Default 60 s. */
  readonly maxDelayMs: number;
  /** Ceiling on a server's Retry-After, so that a bogus value cannot stall a run for hours. Default 300 s. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 5,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 300_000,
};

// 400, 403 and 404 say the request itself is wrong: sending it again cannot help and only adds load.
const RETRYABLE: ReadonlySet<FailureCode> = new Set(['RATE_LIMITED', 'SERVER_ERROR', 'TIMEOUT', 'NETWORK_ERROR']);

export const isRetryable = (code: FailureCode): boolean => RETRYABLE.has(code);

/**
 * A row refused with 403 is sent once more, at once, when the token provider renewed its token: the
 * old one may simply have expired. A second 403 is final. This retry does not count against
 * `retries`, which is about transient failures; it still waits for the pace like any attempt.
 */
export const FORBIDDEN_RETRIES = 1;

export type RetryDecision = { readonly retry: false } | { readonly retry: true; readonly delayMs: number };

/**
 * Decides whether to send a request again after `attemptsMade` attempts, and after how long.
 * Pure: `random` is injected so that tests can pin the jitter.
 */
export function decideRetry(
  failure: {
    readonly code: FailureCode;
    readonly retryAfterMs?: number | undefined;
    readonly isTokenRenewed?: boolean | undefined;
    readonly isAnswerLost?: boolean | undefined;
  },
  attemptsMade: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
  /** 403s this row got so far, this one included. */
  forbiddenSoFar = 0,
): RetryDecision {
  if (failure.code === 'FORBIDDEN') {
    return failure.isTokenRenewed && forbiddenSoFar <= FORBIDDEN_RETRIES
      ? { retry: true, delayMs: 0 }
      : { retry: false };
  }
  // The renewal retry after a 403 does not use up a transient retry.
  attemptsMade -= Math.min(forbiddenSoFar, FORBIDDEN_RETRIES);
  // A lost answer (say an unreadable 200) is sent again like a transient failure: by now a lookup has
  // shown the change was not made, or the request changes nothing.
  if ((!isRetryable(failure.code) && !failure.isAnswerLost) || attemptsMade > policy.retries) return { retry: false };
  if (failure.retryAfterMs !== undefined) {
    return { retry: true, delayMs: Math.min(Math.max(failure.retryAfterMs, 0), policy.maxRetryAfterMs) };
  }
  // "Equal jitter": half the exponential step is guaranteed, half random, so retries spread out
  // without any of them coming back almost at once.
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attemptsMade - 1));
  return { retry: true, delayMs: Math.round(step / 2 + random() * (step / 2)) };
}

/**
 * Reads a Retry-After header in either form the HTTP spec allows: delay-seconds or an HTTP-date.
 * Returns milliseconds from `nowMs`, or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, date - nowMs);
}
