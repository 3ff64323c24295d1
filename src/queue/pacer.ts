import { setTimeout as sleep } from 'node:timers/promises';
import { AdaptiveRate, type AdaptiveRateSettings } from './adaptive-rate.js';

/** Time as the pacer sees it; tests pass a fake one. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = { now: () => performance.now(), sleep: (ms) => sleep(ms) };

/** A change of the shared rate, for the log. */
export interface RateChange {
  readonly direction: 'down' | 'up';
  /** Requests per second from now on. */
  readonly rate: number;
  /** Milliseconds every request start is held back by a Retry-After (0 when none). */
  readonly pausedForMs: number;
}

export interface PacerOptions {
  readonly clock?: Clock;
  /**
   * Adapt the rate to 429s (see AdaptiveRate; the settings are optional), or `false` to keep it
   * fixed. Default: adapt. A rate of Infinity is never adapted.
   */
  readonly adaptive?: false | Omit<AdaptiveRateSettings, 'maxRate'>;
  /** Told whenever the adaptive rate changes (for logging). */
  readonly onRateChange?: (change: RateChange) => void;
}

/**
 * Spaces request starts evenly, shared by every request of a run: each start reserves the next free
 * slot, one interval after the previous. Gateways enforce token or leaky buckets, and an even pace
 * stays under them where bursts at the top of each second would not. Idle time is not banked, so
 * there is never a catch-up burst. Every attempt, retries included, takes a slot.
 *
 * With adaptation on (the default) the interval follows an AdaptiveRate: callers report 429s and
 * other answers, and the pace slows for everyone at once. Slots already handed out at the old pace
 * are taken back: a caller asleep on one reserves again when it wakes.
 */
export class Pacer {
  readonly #clock: Clock;
  readonly #fixedRate: number;
  readonly #adaptive: AdaptiveRate | undefined;
  readonly #onRateChange: ((change: RateChange) => void) | undefined;
  #nextSlot = Number.NEGATIVE_INFINITY;
  /** Bumped when handed-out slots become void (the rate went down). */
  #generation = 0;

  /** `ratePerSecond` of Infinity turns pacing off. A Clock alone may be passed for `{ clock }`. */
  constructor(ratePerSecond: number, clockOrOptions: PacerOptions | Clock = {}) {
    const options: PacerOptions = 'now' in clockOrOptions ? { clock: clockOrOptions } : clockOrOptions;
    this.#clock = options.clock ?? systemClock;
    this.#fixedRate = ratePerSecond;
    const isAdaptive = options.adaptive !== false && Number.isFinite(ratePerSecond);
    this.#adaptive = isAdaptive
      ? new AdaptiveRate({ ...options.adaptive, maxRate: ratePerSecond }, this.#clock.now())
      : undefined;
    this.#onRateChange = options.onRateChange;
  }

  /** Requests per second allowed now. */
  get rate(): number {
    return this.#adaptive?.rate ?? this.#fixedRate;
  }

  /** Reserves the next slot and returns how long to wait for it. */
  reserve(now = this.#clock.now()): number {
    const slot = Math.max(now, this.#nextSlot, this.#adaptive?.pausedUntil ?? now);
    this.#nextSlot = slot + 1000 / this.rate;
    return slot - now;
  }

  /**
   * Takes this caller's slot and returns the time it starts (the clock's `now()`): at once when the
   * slot is now (most requests, when the run is not held back by the pace), else a promise.
   */
  acquire(): number | Promise<number> {
    const now = this.#clock.now();
    const wait = this.reserve(now);
    return wait <= 0 ? now : this.#waitForSlot(wait);
  }

  async #waitForSlot(wait: number): Promise<number> {
    for (;;) {
      const generation = this.#generation;
      await this.#clock.sleep(wait);
      // The rate went down while asleep: that slot is void, take one at the new pace.
      if (generation === this.#generation || (wait = this.reserve()) <= 0) return this.#clock.now();
    }
  }

  /** A request started at `startedAt` (from `acquire`) was answered 429. */
  rateLimited(startedAt: number, retryAfterMs?: number): void {
    if (!this.#adaptive) return;
    const now = this.#clock.now();
    if (!this.#adaptive.onRateLimited(startedAt, now, retryAfterMs)) return;
    this.#generation++;
    this.#nextSlot = now + 1000 / this.#adaptive.rate;
    const pausedForMs = Math.max(0, this.#adaptive.pausedUntil - now);
    this.#onRateChange?.({ direction: 'down', rate: this.#adaptive.rate, pausedForMs });
  }

  /** A request started at `startedAt` was answered by the tenant without a 429. */
  answered(startedAt: number): void {
    if (!this.#adaptive?.onAnswered(startedAt, this.#clock.now())) return;
    this.#onRateChange?.({ direction: 'up', rate: this.#adaptive.rate, pausedForMs: 0 });
  }
}
