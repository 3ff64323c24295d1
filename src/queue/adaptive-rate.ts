/** How the shared request rate reacts to 429s. Every field has a default; tests shrink the times. */
export interface AdaptiveRateSettings {
  /** The configured `--rate`, requests per second: a ceiling that is never exceeded. */
  readonly maxRate: number;
  /** Never slower than this. Default: the smaller of `maxRate` and 0.1/s (one request every 10 s). */
  readonly minRate?: number;
  /** The rate is multiplied by this on a 429. Default 0.7. */
  readonly decreaseFactor?: number;
  /** Quiet time (answers, no 429) between two increases. Default 1000 ms. */
  readonly increaseAfterMs?: number;
  /** A 429's Retry-After holds back every request start for at most this long. Default 100 ms. */
  readonly briefPauseMs?: number;
  /**
   * At the slowest rate, slowing down cannot help any more: a 429 then holds back every start for its
   * whole Retry-After, up to this. Default 300 s (the retry policy's cap on Retry-After).
   */
  readonly maxPauseMs?: number;
}

export const ADAPTIVE_RATE_DEFAULTS = {
  decreaseFactor: 0.7,
  increaseAfterMs: 1000,
  briefPauseMs: 100,
  maxPauseMs: 300_000,
} as const;

/** Recovery heads for this share of the rate that last drew a 429, then probes beyond it. */
const RECOVERY_TARGET = 0.95;
/** Below the target, each increase closes this share of the gap. */
const RECOVERY_SHARE = 0.5;
/** Above the target, the n-th increase in a row adds n times this share of the rate. */
const PROBE_STEP = 0.02;

/**
 * The arithmetic of the shared, adaptive request rate. Pure: every call is given the time, so tests
 * drive it with a fake clock, and it never sleeps.
 *
 * The vendor publishes no limit, so the configured rate is a ceiling, not a promise. A 429 lowers
 * the rate for every request at once (multiplicative decrease). A 429 that answers a request sent
 * before the last decrease does not lower it again: that request went out at the old rate, which is
 * already paid for. The row that drew the 429 waits out its Retry-After (the retry policy); everyone
 * else is held back only briefly, because against a token bucket (what gateways usually run) a whole
 * second of silence per 429 is throughput lost for good, while the lower rate is what stops the
 * 429s. Once the rate is at its floor, though, slowing down cannot help: the tenant is refusing
 * everything, and then every start waits out the whole Retry-After. After a quiet period with answers
 * and no 429 the rate climbs back: quickly to just under the rate that last drew a 429, then in
 * growing steps beyond it (the limit may have been raised or have been a passing overload), up to
 * the ceiling. Against a steady limit this settles just below it, with a probe now and then.
 */
export class AdaptiveRate {
  readonly #maxRate: number;
  readonly #minRate: number;
  readonly #decreaseFactor: number;
  readonly #increaseAfterMs: number;
  readonly #briefPauseMs: number;
  readonly #maxPauseMs: number;
  #rate: number;
  /** The rate that last drew a 429 (a fresh one), if any. */
  #trippedAt: number | undefined;
  #lastDecreaseAt = Number.NEGATIVE_INFINITY;
  #lastChangeAt: number;
  #pausedUntil = Number.NEGATIVE_INFINITY;
  #probes = 0;

  constructor(settings: AdaptiveRateSettings, now: number) {
    if (!(settings.maxRate > 0)) throw new RangeError(`Expected maxRate to be above 0, got ${settings.maxRate}`);
    this.#maxRate = settings.maxRate;
    this.#minRate = Math.min(settings.maxRate, settings.minRate ?? 0.1);
    this.#decreaseFactor = settings.decreaseFactor ?? ADAPTIVE_RATE_DEFAULTS.decreaseFactor;
    this.#increaseAfterMs = settings.increaseAfterMs ?? ADAPTIVE_RATE_DEFAULTS.increaseAfterMs;
    this.#briefPauseMs = settings.briefPauseMs ?? ADAPTIVE_RATE_DEFAULTS.briefPauseMs;
    this.#maxPauseMs = settings.maxPauseMs ?? ADAPTIVE_RATE_DEFAULTS.maxPauseMs;
    this.#rate = settings.maxRate;
    this.#lastChangeAt = now;
  }

  /** Requests per second allowed now. */
  get rate(): number {
    return this.#rate;
  }

  /** No request may start before this time (a shared Retry-After pause); -Infinity when none. */
  get pausedUntil(): number {
    return this.#pausedUntil;
  }

  /**
   * A request that started at `startedAt` was answered 429 at `now`. Returns true when this lowered
   * the rate (false for a 429 to a request sent before the last decrease).
   */
  onRateLimited(startedAt: number, now: number, retryAfterMs?: number): boolean {
    if (startedAt < this.#lastDecreaseAt) return false;
    const wasAtFloor = this.#rate <= this.#minRate;
    this.#trippedAt = this.#rate;
    this.#rate = Math.max(this.#minRate, this.#rate * this.#decreaseFactor);
    this.#lastDecreaseAt = now;
    this.#lastChangeAt = now;
    this.#probes = 0;
    if (retryAfterMs !== undefined && retryAfterMs > 0) {
      const pauseMs = Math.min(retryAfterMs, wasAtFloor ? this.#maxPauseMs : this.#briefPauseMs);
      this.#pausedUntil = Math.max(this.#pausedUntil, now + pauseMs);
    }
    return true;
  }

  /**
   * A request that started at `startedAt` was answered at `now` by anything but a 429. Returns true
   * when this raised the rate: only answers to requests sent at the current rate count, and only
   * once the quiet period since the last change (or the end of a pause) has passed.
   */
  onAnswered(startedAt: number, now: number): boolean {
    const quietSince = Math.max(this.#lastChangeAt, this.#pausedUntil);
    if (this.#rate >= this.#maxRate || startedAt < quietSince || now - quietSince < this.#increaseAfterMs) {
      return false;
    }
    const target = this.#trippedAt === undefined ? this.#maxRate : this.#trippedAt * RECOVERY_TARGET;
    const gap = target - this.#rate;
    if (gap > target * PROBE_STEP) {
      this.#rate += gap * RECOVERY_SHARE;
    } else {
      this.#probes++;
      this.#rate *= 1 + PROBE_STEP * this.#probes;
    }
    this.#rate = Math.min(this.#rate, this.#maxRate);
    this.#lastChangeAt = now;
    return true;
  }
}
