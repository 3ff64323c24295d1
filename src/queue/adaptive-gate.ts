import type PQueue from 'p-queue';
import { PacePolicy, type PaceChange, type PaceSettings, type StartedRequest } from './pace-policy.js';

export interface AdaptiveGateOptions extends Omit<PaceSettings, 'maxRate' | 'maxConcurrency'> {
  /** Milliseconds on a monotonic clock; tests pass a fake one. Default `performance.now`. */
  readonly now?: () => number;
  /** Told whenever the policy changes the pace, the concurrency or makes everyone wait (for logging). */
  readonly onPaceChange?: (change: PaceChange, atFloor: boolean) => void;
}

/**
 * The 429 policy (PacePolicy), as a small layer over the request queue. p-queue keeps the `--rate`
 * ceiling (its interval window) and runs the requests; when the policy says to go slower than that,
 * or to hold everyone back until a window reopens, the gate pauses the queue after each start and
 * resumes it when the next start is due, and when it says to keep fewer requests in flight, the gate
 * sets p-queue's concurrency. It never starts anything itself, so there is one scheduler: p-queue.
 */
export class AdaptiveGate {
  readonly #queue: PQueue;
  readonly #policy: PacePolicy;
  readonly #ceiling: number;
  readonly #now: () => number;
  readonly #onPaceChange: AdaptiveGateOptions['onPaceChange'];
  /** Earliest time the next start may happen at the adapted pace. */
  #nextAt = Number.NEGATIVE_INFINITY;
  /** While the gate's own timer resumes the queue: when that start was due. */
  #resumingAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(queue: PQueue, ceiling: number, options: AdaptiveGateOptions = {}) {
    this.#queue = queue;
    this.#ceiling = ceiling;
    this.#now = options.now ?? (() => performance.now());
    this.#policy = new PacePolicy({ ...options, maxRate: ceiling, maxConcurrency: queue.concurrency }, this.#now());
    this.#onPaceChange = options.onPaceChange;
  }

  /** Requests per second allowed now. */
  get rate(): number {
    return this.#policy.rate;
  }

  /** Call as each request starts, synchronously (inside the queue's task): it may pause the queue first. */
  started(): StartedRequest {
    const now = this.#now();
    // A start the gate released counts from when it was due, so that timer lateness is not lost;
    // any other start counts from now, so that idle time is not banked as a burst.
    const due = this.#resumingAt ?? now;
    if (this.#policy.rate < this.#ceiling || this.#policy.pausedUntil > now) {
      this.#nextAt = due + 1000 / this.#policy.rate;
      this.#holdUntil(Math.max(this.#nextAt, this.#policy.pausedUntil));
    }
    // p-queue counts this request among its pending ones already.
    return { at: now, inFlight: Math.max(0, this.#queue.pending - 1) };
  }

  /** The request `started` was answered 429. */
  rateLimited(started: StartedRequest, retryAfterMs: number | undefined): void {
    const now = this.#now();
    this.#apply(this.#policy.onRateLimited(started, now, retryAfterMs), now);
  }

  /** The request `started` was answered by the tenant without a 429. */
  answered(started: StartedRequest): void {
    const now = this.#now();
    this.#apply(this.#policy.onAnswered(started, now), now);
  }

  /** Stops the gate's timer (the run is over). */
  close(): void {
    clearTimeout(this.#timer);
  }

  #apply(change: PaceChange | undefined, now: number): void {
    if (!change) return;
    if (change.kind === 'concurrency') this.#queue.concurrency = change.concurrency;
    else if (change.kind === 'wait' || change.kind === 'hold' || change.direction === 'down') {
      // Starts already promised at the old pace are taken back: the next one waits a full new step.
      this.#nextAt = now + 1000 / this.#policy.rate;
      this.#holdUntil(Math.max(this.#nextAt, this.#policy.pausedUntil));
    }
    this.#onPaceChange?.(change, this.#policy.isAtFloor);
  }

  #holdUntil(at: number): void {
    this.#queue.pause();
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        // p-queue starts the next task synchronously inside start(), which calls started().
        this.#resumingAt = at;
        this.#queue.start();
        this.#resumingAt = undefined;
      },
      Math.max(0, at - this.#now()),
    );
  }
}
