import { setTimeout as sleep } from 'node:timers/promises';
import type { AttemptFailure, AttemptOutcome } from '../client/response.js';
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
  /**
   * Stops sending: once aborted, no admitted row starts another attempt (requests already on the
   * wire finish). A row stopped before its first attempt comes back with no outcome; one stopped
   * while backing off keeps its last failure.
   */
  readonly signal?: AbortSignal | undefined;
}

export type Dispatched =
  | {
      readonly outcome: AttemptOutcome;
      /** Requests sent for the row. */
      readonly attempts: number;
    }
  /** Never sent: the dispatcher's signal was aborted first. */
  | { readonly outcome: undefined; readonly attempts: 0 };

/**
 * Concurrency slots. A freed slot goes straight to the longest-waiting retry, else to the
 * longest-waiting first attempt. This rather than p-queue: at thousands of requests a second its
 * per-job promise, options object and events showed in the profile (BENCHMARKS.md), and two FIFO
 * lines are all the ordering needed here.
 */
class Slots {
  #free: number;
  readonly #retries: Array<() => void> = [];
  readonly #firstAttempts: Array<() => void> = [];

  constructor(count: number) {
    this.#free = count;
  }

  /** Takes a slot: at once (undefined) when one is free, else a promise of one. */
  take(isRetry: boolean): Promise<void> | undefined {
    if (this.#free > 0) {
      this.#free--;
      return undefined;
    }
    return new Promise<void>((take) => (isRetry ? this.#retries : this.#firstAttempts).push(take));
  }

  release(): void {
    const next = this.#retries.shift() ?? this.#firstAttempts.shift();
    if (next) next();
    else this.#free++;
  }
}

/**
 * Runs each row's request through one concurrency limit and one pace, retrying by the policy.
 *
 * A retry takes a slot and waits for the pace like a first attempt (ahead of first attempts still
 * waiting for a slot); the backoff between attempts holds no slot. Every answer
 * is reported to the pacer, so one row's 429 slows the pace for all of them.
 */
export class Dispatcher {
  readonly #slots: Slots;
  readonly #pacer: Pacer;
  readonly #policy: RetryPolicy;
  readonly #maxOpenRows: number;
  readonly #signal: AbortSignal | undefined;
  #openRows = 0;
  #wakeUps: Array<() => void> = [];
  #firstError: unknown;
  /** Requests started so far, retries included. */
  requestsSent = 0;
  /** Requests answered 429 so far. */
  rateLimitedAnswers = 0;

  constructor(options: DispatcherOptions) {
    this.#slots = new Slots(options.concurrency);
    this.#pacer = options.pacer;
    this.#policy = options.retryPolicy;
    this.#maxOpenRows = options.maxOpenRows ?? Math.max(16, options.concurrency * 4);
    this.#signal = options.signal;
  }

  /**
   * Admits one row once there is room, sends it with retries, then awaits `onDone` before the row
   * leaves (so a slow results writer slows intake instead of piling up results in memory).
   * Returns undefined when the row was admitted at once, else a promise that resolves when it is
   * admitted (not when it is done).
   */
  submit(
    send: () => Promise<AttemptOutcome>,
    onDone: (result: Dispatched) => Promise<void>,
  ): Promise<void> | undefined {
    // At once when there is room (the common case): no promise for the caller to await.
    if (this.#openRows >= this.#maxOpenRows) return this.#submitWhenRoom(send, onDone);
    this.#admit(send, onDone);
    return undefined;
  }

  async #submitWhenRoom(send: () => Promise<AttemptOutcome>, onDone: (result: Dispatched) => Promise<void>) {
    while (this.#openRows >= this.#maxOpenRows) await new Promise<void>((wake) => this.#wakeUps.push(wake));
    this.#admit(send, onDone);
  }

  #admit(send: () => Promise<AttemptOutcome>, onDone: (result: Dispatched) => Promise<void>): void {
    this.#throwFirstError();
    this.#openRows++;
    void this.#finish(send, onDone);
  }

  async #finish(send: () => Promise<AttemptOutcome>, onDone: (result: Dispatched) => Promise<void>): Promise<void> {
    try {
      await onDone(await this.#sendWithRetry(send));
    } catch (error) {
      this.#firstError ??= error;
    } finally {
      this.#openRows--;
      if (this.#wakeUps.length > 0) for (const wake of this.#wakeUps.splice(0)) wake();
    }
  }

  /**
   * One more request for a row already admitted (say, the enable after a lookup): the same pace,
   * slots and retries as any request, but no new admission, so it cannot wait on its own row.
   */
  async send(send: () => Promise<AttemptOutcome>): Promise<Dispatched> {
    return this.#sendWithRetry(send);
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

  /**
   * One attempt: waits for the shared pace (holding a concurrency slot), sends, tells the pacer.
   * Undefined when the run was stopped before the request could go.
   */
  async #attempt(send: () => Promise<AttemptOutcome>): Promise<AttemptOutcome | undefined> {
    if (this.#signal?.aborted) return undefined;
    const slot = this.#pacer.acquire();
    const startedAt = typeof slot === 'number' ? slot : await slot;
    if (this.#signal?.aborted) return undefined;
    this.requestsSent++;
    const outcome = await send();
    this.#tellPacer(outcome, startedAt);
    return outcome;
  }

  // A plain loop rather than p-retry: the delay is ours anyway (Retry-After, jitter), failures are
  // values rather than exceptions, and at thousands of rows a second p-retry's per-call option
  // handling and thrown errors showed in the profile (see BENCHMARKS.md).
  async #sendWithRetry(send: () => Promise<AttemptOutcome>): Promise<Dispatched> {
    let lastFailure: AttemptFailure | undefined;
    let forbidden = 0;
    for (let attempts = 0; ;) {
      // Retries go ahead of first attempts still waiting for a slot (they still wait for the pace):
      // a row already under way finishes sooner, and after a 403 the renewal retry tells at once
      // whether the credentials work, before a queue of rows is sent with them.
      // Awaited only when there is something to wait for: most rows find a slot and their pace
      // free, and every await is a trip through the microtask queue.
      const slot = this.#slots.take(attempts > 0);
      if (slot) await slot;
      let outcome: AttemptOutcome | undefined;
      try {
        outcome = await this.#attempt(send);
      } finally {
        this.#slots.release();
      }
      if (outcome === undefined) {
        return lastFailure ? { outcome: lastFailure, attempts } : { outcome: undefined, attempts: 0 };
      }
      attempts++;
      if (outcome.ok) return { outcome, attempts };
      lastFailure = outcome;
      if (outcome.code === 'FORBIDDEN') forbidden++;
      const decision = decideRetry(outcome, attempts, this.#policy, Math.random, forbidden);
      if (!decision.retry || this.#signal?.aborted) return { outcome, attempts };
      // A stop cuts the backoff short; the row then keeps its last failure.
      const stopped = await sleep(decision.delayMs, false, { signal: this.#signal }).catch(() => true);
      if (stopped) return { outcome, attempts };
    }
  }
}
