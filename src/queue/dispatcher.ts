import { setTimeout as sleep } from 'node:timers/promises';
import PQueue from 'p-queue';
import pRetry from 'p-retry';
import type { AttemptFailure, AttemptOutcome } from '../client/response.js';
import { decideRetry, FORBIDDEN_RETRIES, type RetryPolicy } from '../client/retry-policy.js';
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

/** Carries a failed attempt through p-retry, which only retries on a rejection. */
class AttemptFailedError extends Error {
  override readonly name = 'AttemptFailedError';
  constructor(readonly failure: AttemptFailure) {
    super(failure.message);
  }
}

/** An attempt that was not started because the run is stopping. */
class StoppedError extends Error {
  override readonly name = 'StoppedError';
}

/**
 * Runs each row's request through one concurrency limit and one pace, retrying by the policy.
 *
 * A retry is a fresh job on the same queue, so it waits for the same pace and slots as first
 * attempts; the backoff between attempts happens outside the queue and holds no slot.
 */
export class Dispatcher {
  readonly #queue: PQueue;
  readonly #pacer: Pacer;
  readonly #policy: RetryPolicy;
  readonly #maxOpenRows: number;
  readonly #signal: AbortSignal | undefined;
  #openRows = 0;
  #wakeUps: Array<() => void> = [];
  #firstError: unknown;
  /** Requests started so far, retries included. */
  requestsSent = 0;

  constructor(options: DispatcherOptions) {
    this.#queue = new PQueue({ concurrency: options.concurrency });
    this.#pacer = options.pacer;
    this.#policy = options.retryPolicy;
    this.#maxOpenRows = options.maxOpenRows ?? Math.max(16, options.concurrency * 4);
    this.#signal = options.signal;
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

  async #sendWithRetry(send: () => Promise<AttemptOutcome>): Promise<Dispatched> {
    let attempts = 0;
    let forbidden = 0;
    let lastFailure: AttemptFailure | undefined;
    const signal = this.#signal;
    const attempt = async (): Promise<AttemptOutcome> => {
      if (signal?.aborted) throw new StoppedError();
      await this.#pacer.acquire();
      if (signal?.aborted) throw new StoppedError();
      attempts++;
      this.requestsSent++;
      return send();
    };
    try {
      const outcome = await pRetry(
        async () => {
          // Retries go ahead of first attempts still waiting for a slot (they still wait for the pace):
          // a row already under way finishes sooner, and after a 403 the renewal retry tells at once
          // whether the credentials work, before a queue of rows is sent with them.
          const attempted = await this.#queue.add(attempt, { priority: attempts > 0 ? 1 : 0 });
          if (!attempted.ok) throw new AttemptFailedError(attempted);
          return attempted;
        },
        {
          // The delay is ours (Retry-After, jitter): p-retry's own backoff is switched off.
          retries: this.#policy.retries + FORBIDDEN_RETRIES,
          minTimeout: 0,
          maxTimeout: 0,
          randomize: false,
          onFailedAttempt: async ({ error }) => {
            if (!(error instanceof AttemptFailedError)) throw error;
            lastFailure = error.failure;
            if (error.failure.code === 'FORBIDDEN') forbidden++;
            const decision = decideRetry(error.failure, attempts, this.#policy, Math.random, forbidden);
            if (!decision.retry || signal?.aborted) throw error;
            // A stop cuts the backoff short; the row then keeps its last failure.
            await sleep(decision.delayMs, undefined, { signal }).catch(() => {
              throw error;
            });
          },
        },
      );
      return { outcome, attempts };
    } catch (error) {
      if (error instanceof AttemptFailedError) return { outcome: error.failure, attempts };
      if (error instanceof StoppedError) {
        return lastFailure ? { outcome: lastFailure, attempts } : { outcome: undefined, attempts: 0 };
      }
      throw error;
    }
  }
}
