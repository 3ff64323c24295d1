import type PQueue from 'p-queue';
import { AdaptiveRate, type AdaptiveRateSettings } from './adaptive-rate.js';

/** A change of the shared pace, for the log. */
export interface RateChange {
  readonly direction: 'down' | 'up';
  /** Requests per second from now on. */
  readonly rate: number;
  /** Milliseconds every request start is held back by a Retry-After (0 when none). */
  readonly pausedForMs: number;
}

export interface AdaptiveGateOptions extends Omit<AdaptiveRateSettings, 'maxRate'> {
  /** Milliseconds on a monotonic clock; tests pass a fake one. Default `performance.now`. */
  readonly now?: () => number;
  /** Told whenever the pace changes (for logging). */
  readonly onRateChange?: (change: RateChange) => void;
}

/**
 * The 429 slowdown, as a small layer over the request queue. p-queue keeps the `--rate` ceiling
 * (its interval window); when the AdaptiveRate policy says to go slower than that, or to hold
 * everyone back for a Retry-After, the gate pauses the queue after each start and resumes it when
 * the next start is due. It never starts anything itself, so there is one scheduler: p-queue.
 */
export class AdaptiveGate {
  readonly #queue: PQueue;
  readonly #policy: AdaptiveRate;
  readonly #ceiling: number;
  readonly #now: () => number;
  readonly #onRateChange: ((change: RateChange) => void) | undefined;
  /** Earliest time the next start may happen at the adapted pace. */
  #nextAt = Number.NEGATIVE_INFINITY;
  /** While the gate's own timer resumes the queue: when that start was due. */
  #resumingAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(queue: PQueue, ceiling: number, options: AdaptiveGateOptions = {}) {
    this.#queue = queue;
    this.#ceiling = ceiling;
    this.#now = options.now ?? (() => performance.now());
    this.#policy = new AdaptiveRate({ ...options, maxRate: ceiling }, this.#now());
    this.#onRateChange = options.onRateChange;
  }

  /** Requests per second allowed now. */
  get rate(): number {
    return this.#policy.rate;
  }

  /** Call as each request starts, synchronously: it may pause the queue before the next one starts. */
  started(): number {
    const now = this.#now();
    // A start the gate released counts from when it was due, so that timer lateness is not lost;
    // any other start counts from now, so that idle time is not banked as a burst.
    const due = this.#resumingAt ?? now;
    if (this.#policy.rate < this.#ceiling || this.#policy.pausedUntil > now) {
      this.#nextAt = due + 1000 / this.#policy.rate;
      this.#holdUntil(Math.max(this.#nextAt, this.#policy.pausedUntil));
    }
    return now;
  }

  /** A request that started at `startedAt` (from `started`) was answered 429. */
  rateLimited(startedAt: number, retryAfterMs: number | undefined): void {
    const now = this.#now();
    if (!this.#policy.onRateLimited(startedAt, now, retryAfterMs)) return;
    // Starts already promised at the old pace are taken back: the next one waits a full new step.
    this.#nextAt = now + 1000 / this.#policy.rate;
    this.#holdUntil(Math.max(this.#nextAt, this.#policy.pausedUntil));
    const pausedForMs = Math.max(0, this.#policy.pausedUntil - now);
    this.#onRateChange?.({ direction: 'down', rate: this.#policy.rate, pausedForMs });
  }

  /** A request that started at `startedAt` was answered by the tenant without a 429. */
  answered(startedAt: number): void {
    if (!this.#policy.onAnswered(startedAt, this.#now())) return;
    this.#onRateChange?.({ direction: 'up', rate: this.#policy.rate, pausedForMs: 0 });
  }

  /** Stops the gate's timer (the run is over). */
  close(): void {
    clearTimeout(this.#timer);
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
