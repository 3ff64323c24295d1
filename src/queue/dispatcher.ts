import { setTimeout as sleep } from 'node:timers/promises';
import PQueue from 'p-queue';
import type { AttemptOutcome } from '../client/response.js';
import { decideRetry, isRetryable, type RetryPolicy } from '../client/retry-policy.js';
import type { Pacer } from './pacer.js';

export interface DispatcherOptions {
  /** Most requests in flight at once. */
  readonly concurrency: number;
  readonly pacer: Pacer;
  readonly retryPolicy: RetryPolicy;
  /**
   * Most rows admitted and not yet finished (in flight, waiting for a slot or backing off).
   * Bounds memory whatever the input size. Default: 4 x concurrency, at least 16.
   */
  readonly maxOpenRows?: number;
}

export interface Dispatched {
  readonly outcome: AttemptOutcome;
  /** Requests sent for the row. */
  readonly attempts: number;
}

/**
 * Runs each row's request through one concurrency limit and one pace, retrying by the policy.
 *
 * A retry is a fresh job on the same queue, so it waits for the same pace and slots as first
 * attempts; the backoff between attempts happens outside the queue and holds no slot. Every answer
 * is reported to the pacer, so one row's 429 slows the pace for all of them.
 */
export class Dispatcher {
  readonly #queue: PQueue;
  readonly #pacer: Pacer;
  readonly #policy: RetryPolicy;
  readonly #maxOpenRows: number;
  #openRows = 0;
  #wakeUps: Array<() => void> = [];
  #firstError: unknown;
  /** Requests started so far, retries included. */
  requestsSent = 0;
  /** Requests answered 429 so far. */
  rateLimitedAnswers = 0;

  constructor(options: DispatcherOptions) {
    this.#queue = new PQueue({ concurrency: options.concurrency });
    this.#pacer = options.pacer;
    this.#policy = options.retryPolicy;
    this.#maxOpenRows = options.maxOpenRows ?? Math.max(16, options.concurrency * 4);
  }

  /**
   * Admits one row once there is room, sends it with retries, then awaits `onDone` before the row
   * leaves (so a slow results writer slows intake instead of piling up results in memory).
   * Resolves when the row is admitted, not when it is done.
   */
  async submit(send: () => Promise<AttemptOutcome>, onDone: (result: Dispatched) => Promise<void>): Promise<void> {
    while (this.#openRows >= this.#maxOpenRows) await new Promise<void>((wake) => this.#wakeUps.push(wake));
    this.#throwFirstError();
    this.#openRows++;
    void this.#sendWithRetry(send)
      .then(onDone)
      .catch((error: unknown) => {
        this.#firstError ??= error;
      })
      .finally(() => {
        this.#openRows--;
        for (const wake of this.#wakeUps.splice(0)) wake();
      });
  }

  /** Resolves when every admitted row is done; rejects with the first error an `onDone` threw. */
  async drain(): Promise<void> {
    while (this.#openRows > 0) await new Promise<void>((wake) => this.#wakeUps.push(wake));
    this.#throwFirstError();
  }

  #throwFirstError(): void {
    if (this.#firstError !== undefined) throw this.#firstError;
  }

  /**
   * A 429 slows the shared pace for every row; an answer the tenant gave on its own terms (success,
   * 400, 403, 404 …) lets it speed up again. 5xx, timeouts and network errors say nothing about the
   * rate limit, so they do neither.
   */
  #tellPacer(outcome: AttemptOutcome, startedAt: number): void {
    if (outcome.ok || !isRetryable(outcome.code)) {
      this.#pacer.answered(startedAt);
    } else if (outcome.code === 'RATE_LIMITED') {
      this.rateLimitedAnswers++;
      this.#pacer.rateLimited(startedAt, outcome.retryAfterMs);
    }
  }

  /** One attempt: waits for the shared pace (holding a concurrency slot), sends, tells the pacer. */
  async #attempt(send: () => Promise<AttemptOutcome>): Promise<AttemptOutcome> {
    const startedAt = await this.#pacer.acquire();
    this.requestsSent++;
    const outcome = await send();
    this.#tellPacer(outcome, startedAt);
    return outcome;
  }

  // A plain loop rather than p-retry: the delay is ours anyway (Retry-After, jitter), failures are
  // values rather than exceptions, and at thousands of rows a second p-retry's per-call option
  // handling and thrown errors showed in the profile (see BENCHMARKS.md).
  async #sendWithRetry(send: () => Promise<AttemptOutcome>): Promise<Dispatched> {
    for (let attempts = 1; ; attempts++) {
      const outcome = await this.#queue.add(() => this.#attempt(send));
      if (outcome.ok) return { outcome, attempts };
      const decision = decideRetry(outcome, attempts, this.#policy);
      if (!decision.retry) return { outcome, attempts };
      await sleep(decision.delayMs);
    }
  }
}
