import { setMaxListeners } from 'node:events';
import PQueue from 'p-queue';
import pRetry, { AbortError } from 'p-retry';
import type { AttemptFailure, AttemptOutcome, AttemptSuccess } from '../client/response.js';
import { decideRetry, FORBIDDEN_RETRIES, isRetryable, type RetryPolicy } from '../client/retry-policy.js';
import { AdaptiveGate, type AdaptiveGateOptions } from './adaptive-gate.js';
import type { StartedRequest } from './pace-policy.js';

export interface RequestQueueOptions {
  /** Most requests in flight at once. */
  readonly concurrency: number;
  /** Most request starts per second, retries included: the ceiling. */
  readonly rate: number;
  readonly retryPolicy: RetryPolicy;
  /**
   * Slow down below `rate` on 429s (see AdaptiveGate), or `false` to keep the pace fixed.
   * Default: adapt, with the policy's default settings.
   */
  readonly adaptive?: false | AdaptiveGateOptions;
  /**
   * Stops sending: once aborted, no request starts (requests on the wire finish and are reported).
   * A row stopped before its first attempt comes back with no outcome; one stopped while backing
   * off keeps its last failure.
   */
  readonly signal?: AbortSignal | undefined;
  /** Pins the backoff jitter in tests. Default Math.random. */
  readonly random?: () => number;
}

/**
 * What a request the queue sends comes to when it succeeds: a DS100 call's AttemptSuccess, or
 * another read-only call's own answer (a user lookup's user ID). The queue reads only `ok`.
 */
export interface Answered {
  readonly ok: true;
  readonly httpStatus: number;
}

/** What happened to one row's request after its retries. */
export type Sent<S extends Answered = AttemptSuccess> =
  | {
      readonly outcome: S | AttemptFailure;
      /** Requests sent for the row. */
      readonly attempts: number;
    }
  /** Never sent: the run was stopped first. */
  | { readonly outcome: undefined; readonly attempts: 0 };

/**
 * What a read-only check found about a change whose answer was lost: it is there (`found` is the
 * credential as the tenant shows it), it is not (send it again as usual), or nobody can tell.
 */
export type Confirmation =
  | { readonly isDone: true; readonly found: AttemptSuccess; readonly attempts: number }
  | { readonly isDone: false; readonly attempts: number }
  | { readonly isDone: undefined; readonly why: string; readonly attempts: number };

export interface SendOptions {
  /**
   * For a request that changes the tenant: asked after an attempt whose answer was lost
   * (`isAnswerLost`), before any retry. Read-only requests leave it out and are simply retried.
   */
  readonly confirm?: (() => Promise<Confirmation>) | undefined;
  /** Told before each retry wait (say, to show that the tenant cannot be reached yet). */
  readonly onRetry?: ((failure: AttemptFailure, delayMs: number, attempts: number) => void) | undefined;
}

// p-queue's window is at least this long: its timer fires about a millisecond late, which over a
// window of 50 ms costs at most 2% of the rate (BENCHMARKS.md, "Pacing").
const MIN_WINDOW_MS = 50;

/** p-queue's `intervalCap` and `interval` for `rate` starts per second, spread over short windows. */
export function rateWindow(rate: number): { intervalCap: number; interval: number } {
  const intervalCap = Math.max(1, Math.round((rate * MIN_WINDOW_MS) / 1000));
  return { intervalCap, interval: (intervalCap * 1000) / rate };
}

/** p-retry's own defaults for the options the queue leaves alone (see `send`). */
const P_RETRY_DEFAULTS = {
  factor: 2,
  maxTimeout: Number.POSITIVE_INFINITY,
  maxRetryTime: Number.POSITIVE_INFINITY,
  randomize: false,
  onFailedAttempt: () => {},
} as const;

// Retries go ahead of first attempts still waiting: a row already under way finishes sooner, and
// after a 403 the renewal retry tells at once whether the credentials work.
const RETRY_PRIORITY = 1;

/**
 * Waits `ms`, or rejects with the signal's reason when it aborts first. On the global timers
 * (unlike node:timers/promises) so that tests can fake time.
 */
function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The outcome of an attempt whose answer was lost, once a check has looked: the change as found,
 * the attempt's own failure (not there: retried as usual), or UNKNOWN_OUTCOME, which is final.
 */
function settledBy(confirmation: Confirmation, lost: AttemptFailure): AttemptOutcome {
  if (confirmation.isDone === true) {
    const { found } = confirmation;
    return {
      ok: true,
      httpStatus: found.httpStatus,
      token: found.token,
      userId: found.userId,
      lostAnswer: lost.message,
    };
  }
  if (confirmation.isDone === false) {
    const { code, httpStatus, retryAfterMs } = lost;
    const message = `${lost.message}; a lookup found the change not made`;
    return { ok: false, code, httpStatus, message, retryAfterMs, isAnswerLost: true };
  }
  return {
    ok: false,
    code: 'UNKNOWN_OUTCOME',
    httpStatus: lost.httpStatus,
    message: `the answer was lost (${lost.message}) and ${confirmation.why}`,
  };
}

/** A failed attempt, thrown so that p-retry sees it; the run reads the outcome back. */
class AttemptFailedError extends Error {
  override readonly name = 'AttemptFailedError';
  constructor(readonly outcome: AttemptFailure) {
    super(outcome.message);
  }
}

/**
 * Every request of a run goes through this one queue: p-queue bounds the requests in flight and
 * the starts per second (a sliding window, so never more than `rate` in any stretch of time), and
 * p-retry sends a failed request again by the retry policy. The backoff wait happens outside the
 * queue, so a row waiting holds no slot, and every retry waits for the pace like a first attempt.
 */
export class RequestQueue {
  readonly #queue: PQueue;
  readonly #gate: AdaptiveGate | undefined;
  readonly #policy: RetryPolicy;
  readonly #signal: AbortSignal | undefined;
  readonly #random: () => number;
  readonly #ceiling: number;
  /** Requests started so far, retries included. */
  requestsSent = 0;
  /** Of `requestsSent`, those that repeat a failed attempt. */
  retriesSent = 0;
  /** Requests answered 429 so far. */
  rateLimitedAnswers = 0;

  constructor(options: RequestQueueOptions) {
    this.#queue = new PQueue({ concurrency: options.concurrency, ...rateWindow(options.rate), strict: true });
    this.#gate = options.adaptive === false ? undefined : new AdaptiveGate(this.#queue, options.rate, options.adaptive);
    this.#policy = options.retryPolicy;
    this.#signal = options.signal;
    this.#random = options.random ?? Math.random;
    this.#ceiling = options.rate;
    // Every queued request and every row backing off listens for the stop; that is expected here.
    if (this.#signal) setMaxListeners(0, this.#signal);
  }

  /** Requests per second allowed now (below the ceiling after 429s). */
  get rate(): number {
    return this.#gate?.rate ?? this.#ceiling;
  }

  /**
   * Sends one request, retrying it by the policy, and resolves to its final outcome. Never
   * rejects for a failed request: failures are outcomes.
   */
  send(request: () => Promise<AttemptOutcome>, options?: SendOptions): Promise<Sent>;
  /**
   * A read-only request with a success of its own (a user lookup): retried like any, and never
   * settled by a lookup, which finds a DS100 credential.
   */
  send<S extends Answered>(
    request: () => Promise<S | AttemptFailure>,
    options?: Omit<SendOptions, 'confirm'>,
  ): Promise<Sent<S>>;
  async send(request: () => Promise<Answered | AttemptFailure>, options: SendOptions = {}): Promise<Sent<Answered>> {
    const { confirm, onRetry } = options;
    // `attempts` counts every request sent for the row, lookups included; the retry policy counts
    // only this request's own tries.
    let attempts = 0;
    let tries = 0;
    let forbidden = 0;
    // What the row's requests came to so far: kept here because p-retry, once the run is
    // stopped, rejects with the stop even after an attempt that was answered.
    let last: Sent<Answered> = { outcome: undefined, attempts: 0 };
    try {
      return await pRetry(
        async () => {
          const outcome = await this.#attempt(request, tries > 0);
          attempts++;
          tries++;
          last = { outcome, attempts };
          if (outcome.ok) return last;
          if (outcome.code === 'FORBIDDEN') forbidden++;
          if (outcome.isAnswerLost && confirm) {
            // Never hidden by a later attempt: a lost answer is settled before anything else happens.
            const confirmation = await confirm();
            attempts += confirmation.attempts;
            last = { outcome: settledBy(confirmation, outcome), attempts };
            if (last.outcome.ok) return last;
            throw new AttemptFailedError(last.outcome);
          }
          throw new AttemptFailedError(outcome);
        },
        {
          // The renewal retry after a 403 does not use up one of `retries` (shouldConsumeRetry);
          // p-retry counts it against its own budget first, hence the one extra.
          retries: this.#policy.retries + FORBIDDEN_RETRIES,
          shouldConsumeRetry: ({ error }) =>
            !(error instanceof AttemptFailedError) || error.outcome.code !== 'FORBIDDEN',
          // The wait is the policy's (a Retry-After, or exponential backoff with jitter), so p-retry's
          // own is zero and the wait happens here, cut short by a stop.
          minTimeout: 0,
          shouldRetry: async ({ error }) => {
            if (!(error instanceof AttemptFailedError)) return false;
            const decision = decideRetry(error.outcome, tries, this.#policy, this.#random, forbidden);
            if (!decision.retry) return false;
            onRetry?.(error.outcome, decision.delayMs, tries);
            if (decision.delayMs > 0) await wait(decision.delayMs, this.#signal);
            return true;
          },
          // Every option is given, defaults included: p-retry fills in the missing ones after copying
          // the object, which V8 makes about 25 times as costly per call (BENCHMARKS.md, "Client
          // efficiency").
          ...P_RETRY_DEFAULTS,
          signal: this.#signal,
        },
      );
    } catch (error) {
      // A failure after the last retry, or a stop: a row that was sent keeps its last outcome, one
      // never sent has none.
      if (error instanceof AttemptFailedError || this.#signal?.aborted) return last;
      throw error;
    }
  }

  /** One attempt through the queue; rejects (AbortError) only when the run stopped before it was sent. */
  async #attempt<S extends Answered>(
    request: () => Promise<S | AttemptFailure>,
    isRetry: boolean,
  ): Promise<S | AttemptFailure> {
    let sent: Promise<S | AttemptFailure> | undefined;
    let started: StartedRequest | undefined;
    try {
      await this.#queue.add(
        () => {
          started = this.#gate?.started();
          this.requestsSent++;
          if (isRetry) this.retriesSent++;
          sent = request();
          return sent;
        },
        { priority: isRetry ? RETRY_PRIORITY : 0, signal: this.#signal },
      );
    } catch (error) {
      // p-queue rejects at once on a stop, even for a request already on the wire: that one's
      // answer still counts.
      if (!sent) throw new AbortError(error instanceof Error ? error : 'the run was stopped');
    }
    const outcome = await sent!;
    this.#tellGate(outcome, started);
    return outcome;
  }

  /**
   * A 429 slows the shared pace for every row; an answer the tenant gave on its own terms (success,
   * 400, 403, 404 …) lets it speed up again. 5xx, timeouts and network errors say nothing about the
   * rate limit, so they do neither.
   */
  #tellGate(outcome: Answered | AttemptFailure, started: StartedRequest | undefined): void {
    if (!outcome.ok && outcome.code === 'RATE_LIMITED') {
      this.rateLimitedAnswers++;
      if (started) this.#gate?.rateLimited(started, outcome.retryAfterMs);
    } else if (started && (outcome.ok || !isRetryable(outcome.code))) {
      this.#gate?.answered(started);
    }
  }

  close(): void {
    this.#gate?.close();
  }
}
