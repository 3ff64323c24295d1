/**
 * How the shared pace reacts to 429s, whatever kind of limiter the tenant's gateway runs. Pure: every
 * call is given the time, so tests drive it with a fake clock, and it never sleeps.
 *
 * The vendor publishes no limit and does not say how it limits, so `--rate` and `--concurrency` are
 * ceilings and the policy tells the common kinds apart by what it sees:
 *
 * - **A concurrency limit** (429 once more than N requests are in flight): the 429s come to requests
 *   that started with N or more in flight, the answers to those that started with fewer. Fewer in
 *   flight is the cure, not a lower rate: the concurrency is set to N.
 * - **A spent window** (N per window, sliding or fixed): once the window is used up the tenant refuses
 *   everything until it reopens, so 429s in a row with nothing let through say "wait", not "slower".
 *   Every start waits for the Retry-After (without one: 250 ms, doubling). What got through since the
 *   run began (or since the last wait), over the time until the window reopens, is the window's rate,
 *   and it becomes the pace.
 * - **A rate limit** (a token or leaky bucket, or a window seen long enough): the tenant lets through
 *   a share of the requests; that share of the pace is the rate it allows, and the pace is set just
 *   below it.
 * - **Noise** (a few 429s with no limit behind them): while under `noiseShare` of the answers at the
 *   current pace are 429s, the pace stays; each such row simply retries.
 *
 * The first 429 of a run holds every start for a moment (100 ms), so that the answers already on
 * their way tell which of these it is before many more are refused.
 *
 * After a while of answers without 429s the pace climbs back: quickly to just under the rate the
 * tenant was last seen to allow, then in small steps near it (an overshoot there costs 429s; against a
 * window, one step per window's length) and growing steps well beyond it (the limit has risen), up to
 * the ceiling; a lowered concurrency is tried one higher now and then, and put back at once if refused.
 * The quiet time before a rise is counted in answers, so a fast run climbs back fast.
 */

/** Settings of the pace policy; every field but the ceilings has a default, tests shrink the times. */
export interface PaceSettings {
  /** The configured `--rate`, requests per second: a ceiling that is never exceeded. */
  readonly maxRate: number;
  /** The configured `--concurrency`: a ceiling. */
  readonly maxConcurrency: number;
  /** Never slower than this. Default: the smaller of `maxRate` and 0.1/s. */
  readonly minRate?: number;
  /** Longest wait for a window to reopen (a cap on an absurd Retry-After). Default 300 s. */
  readonly maxPauseMs?: number;
  /** Up to this share of 429s among the answers at one pace is noise, not a limit. Default 0.05. */
  readonly noiseShare?: number;
  /** The pace is set this far below what the tenant was seen to allow. Default 0.95. */
  readonly margin?: number;
  /** Answers without a 429 at one pace before it may rise. Default 20. */
  readonly quietAnswers?: number;
  /** ... and at least this long. Default 250 ms. */
  readonly minQuietMs?: number;
}

export const PACE_DEFAULTS = {
  maxPauseMs: 300_000,
  noiseShare: 0.05,
  margin: 0.95,
  quietAnswers: 20,
  minQuietMs: 250,
} as const;

/** A request as the policy sees it: when it started, and how many others were in flight then. */
export interface StartedRequest {
  readonly at: number;
  readonly inFlight: number;
}

/** What the policy concluded from an answer, in a form the gate applies and the log words. */
export type PaceChange =
  /** A new pace. `allowed`: what the tenant was seen to allow, requests per second (down only). */
  | { readonly kind: 'rate'; readonly direction: 'down' | 'up'; readonly rate: number; readonly allowed?: number }
  /**
   * Every start waits until `until`. `window`: the size of the window that just reopened, once one
   * full window was seen.
   */
  | {
      readonly kind: 'wait';
      readonly until: number;
      readonly waitMs: number;
      readonly window?: { readonly requests: number; readonly seconds: number } | undefined;
      /** The new pace, when the window's size lowered it. */
      readonly rate?: number | undefined;
    }
  /** Every start waits a moment (the first 429 of a run, while the answers on their way come in). */
  | { readonly kind: 'hold'; readonly until: number }
  /** A new number of requests in flight. */
  | { readonly kind: 'concurrency'; readonly direction: 'down' | 'up'; readonly concurrency: number };

/** How long everyone holds back at the first 429 of a run. */
const FIRST_HOLD_MS = 100;
/** 429s at one pace before their share is judged at all. */
const MIN_LIMITED = 2;
/** Answers at one pace needed before their share of 429s is judged. */
const MIN_SAMPLES = 8;
/** The first wait for a window without a Retry-After; each wait in a row doubles it. */
const FIRST_WAIT_MS = 250;
/** The estimate of a window's rate looks back at most this far. */
const WINDOW_LOOKBACK_MS = 30_000;
/** Below the recovery target, each rise closes this share of the gap. */
const RECOVERY_SHARE = 0.5;
/** Beyond the target, the n-th rise in a row adds n times this share. */
const PROBE_STEP = 0.02;
/** Up to this multiple of what the tenant allowed, a probe step is at most NEAR_LIMIT_STEP. */
const NEAR_LIMIT = 1.2;
const NEAR_LIMIT_STEP = 0.05;
/** In-flight counts remembered per kind of answer, for telling a concurrency limit. */
const IN_FLIGHT_MEMORY = 32;
/** 429s (and answers) needed before a concurrency limit is believed. */
const CONCURRENCY_EVIDENCE = 4;
/** Quiet answers, as a multiple of `quietAnswers`, before a lowered concurrency is tried one higher. */
const CONCURRENCY_PROBE_AFTER = 10;

/** Keeps the last `size` numbers. */
class Recent {
  readonly #values: number[] = [];
  constructor(readonly size: number) {}
  add(value: number): void {
    this.#values.push(value);
    if (this.#values.length > this.size) this.#values.shift();
  }
  get values(): readonly number[] {
    return this.#values;
  }
  clear(): void {
    this.#values.length = 0;
  }
}

export class PacePolicy {
  readonly #maxRate: number;
  readonly #maxConcurrency: number;
  readonly #minRate: number;
  readonly #maxPauseMs: number;
  readonly #noiseShare: number;
  readonly #margin: number;
  readonly #quietAnswers: number;
  readonly #minQuietMs: number;

  #rate: number;
  #concurrency: number;
  #pausedUntil = Number.NEGATIVE_INFINITY;
  /** Answers to requests started since this time are at the current pace. */
  #epochStart: number;
  #epochAnswered = 0;
  #epochLimited = 0;
  /** What the tenant was last seen to allow, requests per second; the recovery target. */
  #allowed: number | undefined;
  #probes = 0;
  /** When the current run of window waits began, and how many waits it holds. */
  #windowStart: number | undefined;
  #waitsInARow = 0;
  /** Fresh 429s since the last answer. */
  #limitedInARow = 0;
  /** Times of answers (not 429), oldest first, for the rate a window lets through. */
  readonly #answeredAt: number[] = [];
  readonly #inFlightAnswered = new Recent(IN_FLIGHT_MEMORY * 2);
  readonly #inFlightLimited = new Recent(IN_FLIGHT_MEMORY);
  #quietSinceConcurrency = 0;
  /** While a higher concurrency is being tried: the one known to work, to go back to at once. */
  #triedFrom: number | undefined;
  /** Failed tries of a higher concurrency in a row: each doubles the quiet time before the next. */
  #concurrencyMisses = 0;
  /** Probes beyond the last known limit that drew a cut, in a row: each doubles the quiet time before the next. */
  #overshoots = 0;
  #lastAnsweredAt = Number.NEGATIVE_INFINITY;
  readonly #runStart: number;
  #hasHeld = false;
  /** The length of the tenant's window, once one was measured: a probe beyond it waits that long. */
  #windowMs = 0;

  constructor(settings: PaceSettings, now: number) {
    if (!(settings.maxRate > 0)) throw new RangeError(`Expected maxRate to be above 0, got ${settings.maxRate}`);
    this.#maxRate = settings.maxRate;
    this.#maxConcurrency = Math.max(1, settings.maxConcurrency);
    this.#minRate = Math.min(settings.maxRate, settings.minRate ?? 0.1);
    this.#maxPauseMs = settings.maxPauseMs ?? PACE_DEFAULTS.maxPauseMs;
    this.#noiseShare = settings.noiseShare ?? PACE_DEFAULTS.noiseShare;
    this.#margin = settings.margin ?? PACE_DEFAULTS.margin;
    this.#quietAnswers = settings.quietAnswers ?? PACE_DEFAULTS.quietAnswers;
    this.#minQuietMs = settings.minQuietMs ?? PACE_DEFAULTS.minQuietMs;
    this.#rate = settings.maxRate;
    this.#concurrency = this.#maxConcurrency;
    this.#epochStart = now;
    this.#runStart = now;
  }

  /** Requests per second allowed now. */
  get rate(): number {
    return this.#rate;
  }

  /** Requests in flight allowed now. */
  get concurrency(): number {
    return this.#concurrency;
  }

  /** Whether the pace is at its floor: slowing down cannot help any more. */
  get isAtFloor(): boolean {
    return this.#rate <= this.#minRate;
  }

  /** No request may start before this time (a wait for a window); -Infinity when none. */
  get pausedUntil(): number {
    return this.#pausedUntil;
  }

  /** The request `started` was answered 429 at `now`. */
  onRateLimited(started: StartedRequest, now: number, retryAfterMs?: number): PaceChange | undefined {
    this.#inFlightLimited.add(started.inFlight);
    // A higher concurrency was being tried and the tenant refused it: back to the one that worked.
    if (this.#triedFrom !== undefined && started.inFlight >= this.#triedFrom) {
      this.#concurrencyMisses++;
      return this.#setConcurrency(this.#triedFrom, 'down', now);
    }
    const limit = this.#concurrencyLimit();
    if (limit !== undefined) return this.#setConcurrency(limit, 'down', now);
    // Sent at an earlier pace, which has been dealt with already.
    if (started.at < this.#epochStart) return undefined;
    this.#epochLimited++;
    this.#quietSinceConcurrency = 0;
    this.#limitedInARow++;
    // The first 429 of a run, before anything is known: everyone holds back a moment, so that the
    // answers already on their way can tell what kind of limit this is before many more are refused.
    if (!this.#hasHeld) {
      this.#hasHeld = true;
      this.#pausedUntil = Math.max(this.#pausedUntil, now + Math.min(FIRST_HOLD_MS, retryAfterMs ?? FIRST_HOLD_MS));
      return { kind: 'hold', until: this.#pausedUntil };
    }
    // 429s in a row with nothing let through for a while: the window is spent (at a pace just over a
    // limit, answers still come between the 429s).
    const isSpent = this.#limitedInARow >= 2 && now - this.#lastAnsweredAt >= 4000 / this.#rate;
    if (isSpent) return this.#waitForWindow(now, retryAfterMs);
    const samples = this.#epochAnswered + this.#epochLimited;
    // One or two 429s among a few answers are no share at all: a random 3% puts 1 in 8 often enough.
    if (samples < MIN_SAMPLES || this.#epochLimited < MIN_LIMITED || this.#epochLimited / samples < this.#noiseShare) {
      return undefined;
    }
    return this.#lowerRate(now);
  }

  /** The request `started` was answered at `now` by the tenant on its own terms (anything but a 429). */
  onAnswered(started: StartedRequest, now: number): PaceChange | undefined {
    this.#inFlightAnswered.add(started.inFlight);
    this.#answeredAt.push(now);
    this.#lastAnsweredAt = now;
    this.#limitedInARow = 0;
    if (this.#answeredAt.length > 4096 || this.#answeredAt[0]! < now - WINDOW_LOOKBACK_MS) this.#forgetAnswers(now);
    this.#waitsInARow = 0;
    // The answers to the first requests tell a concurrency limit as well as the 429s do.
    const limit = this.#concurrencyLimit();
    if (limit !== undefined) return this.#setConcurrency(limit, 'down', now);
    if (started.at < this.#epochStart) return undefined;
    this.#epochAnswered++;
    this.#quietSinceConcurrency++;
    if (this.#triedFrom !== undefined && this.#quietSinceConcurrency >= this.#quietAnswers) {
      // The higher concurrency held: it is the one that works now.
      this.#triedFrom = undefined;
      this.#concurrencyMisses = 0;
    }
    const concurrencyQuiet = this.#quietAnswers * CONCURRENCY_PROBE_AFTER * 2 ** Math.min(this.#concurrencyMisses, 6);
    if (this.#concurrency < this.#maxConcurrency && this.#quietSinceConcurrency >= concurrencyQuiet) {
      const from = this.#concurrency;
      const change = this.#setConcurrency(from + 1, 'up', now);
      this.#triedFrom = from;
      return change;
    }
    // Beyond what the tenant was seen to allow, each probe that drew a cut makes the next one wait longer.
    const isProbing = this.#allowed !== undefined && this.#rate >= this.#allowed * this.#margin * (1 - PROBE_STEP);
    const quietAnswers = isProbing ? this.#quietAnswers * 2 ** Math.min(this.#overshoots, 2) : this.#quietAnswers;
    // Against a window, a probe shows only once the window has filled: it waits a window's length.
    const quietMs = isProbing ? Math.max(this.#minQuietMs, this.#windowMs) : this.#minQuietMs;
    const isQuiet =
      this.#epochAnswered >= quietAnswers &&
      now - this.#epochStart >= quietMs &&
      this.#epochLimited / (this.#epochAnswered + this.#epochLimited) < this.#noiseShare;
    if (!isQuiet || this.#rate >= this.#maxRate) return undefined;
    return this.#raiseRate(now);
  }

  /**
   * A concurrency limit shows as 429s only to requests that started with at least N others in flight,
   * while those that started with fewer were answered: N, when that is what the last ones show and it
   * is below the current concurrency.
   */
  #concurrencyLimit(): number | undefined {
    const limited = this.#inFlightLimited.values;
    const answered = this.#inFlightAnswered.values;
    if (limited.length < CONCURRENCY_EVIDENCE || answered.length < CONCURRENCY_EVIDENCE) return undefined;
    const lowest = Math.min(...limited);
    if (lowest < 1 || lowest >= this.#concurrency) return undefined;
    // Only while the run keeps that many in flight: with a request or two in flight (fast answers),
    // a few 429s at one or two are chance, and a lower concurrency would change nothing anyway.
    const mean =
      [...limited, ...answered].reduce((sum, inFlight) => sum + inFlight, 0) / (limited.length + answered.length);
    if (mean < lowest / 2) return undefined;
    const answeredAtOrAbove = answered.filter((inFlight) => inFlight >= lowest).length;
    return answeredAtOrAbove <= answered.length * 0.1 ? lowest : undefined;
  }

  #setConcurrency(concurrency: number, direction: 'down' | 'up', now: number): PaceChange {
    this.#concurrency = concurrency;
    this.#triedFrom = undefined;
    this.#inFlightLimited.clear();
    this.#inFlightAnswered.clear();
    this.#quietSinceConcurrency = 0;
    this.#newEpoch(now);
    return { kind: 'concurrency', direction, concurrency };
  }

  #waitForWindow(now: number, retryAfterMs: number | undefined): PaceChange {
    const waitMs = Math.min(
      this.#maxPauseMs,
      Math.max(1, retryAfterMs ?? FIRST_WAIT_MS * 2 ** Math.min(this.#waitsInARow, 16)),
    );
    // What got through since the previous run of waits began is what the tenant allows per window:
    // the pace is set just below that, so that the next window lasts instead of being spent at once.
    // The first window of a run began with the run and reopens after this wait; later ones began with
    // the wait before them.
    let window: { requests: number; seconds: number } | undefined;
    let rate: number | undefined;
    if (this.#waitsInARow === 0) {
      const since = Math.max(this.#windowStart ?? this.#runStart, now - WINDOW_LOOKBACK_MS);
      const cycleMs = now - since + (this.#windowStart === undefined ? waitMs : 0);
      window = { requests: this.#answeredSince(since), seconds: cycleMs / 1000 };
      if (window.requests === 0) window = undefined;
      else if (window.seconds >= 0.5) {
        // No margin here: a window measured this way is already a little short of the real one (the
        // Retry-After is rounded up to whole seconds), and probing beyond it is slow (below).
        const allowed = window.requests / window.seconds;
        this.#allowed = allowed;
        this.#probes = 0;
        this.#windowMs = window.seconds * 1000;
        if (allowed < this.#rate) rate = this.#rate = Math.max(this.#minRate, allowed);
      }
    }
    if (this.#waitsInARow === 0) this.#windowStart = now;
    this.#limitedInARow = 0;
    this.#waitsInARow++;
    this.#pausedUntil = Math.max(this.#pausedUntil, now + waitMs);
    // Answers to requests sent before the window reopens say nothing about the pace after it.
    this.#newEpoch(this.#pausedUntil);
    return { kind: 'wait', until: this.#pausedUntil, waitMs, window, rate };
  }

  #lowerRate(now: number): PaceChange | undefined {
    const samples = this.#epochAnswered + this.#epochLimited;
    const allowed = (this.#rate * this.#epochAnswered) / samples;
    const rate = Math.max(this.#minRate, Math.min(this.#rate, this.#margin * allowed));
    this.#overshoots = this.#probes > 0 ? this.#overshoots + 1 : 0;
    // 429s among answers, not a spent window: a bucket, or a window too long to matter; probes need
    // not wait a window's length.
    this.#windowMs = 0;
    this.#allowed = allowed;
    this.#probes = 0;
    this.#newEpoch(now);
    if (rate >= this.#rate) return undefined;
    this.#rate = rate;
    return { kind: 'rate', direction: 'down', rate, allowed };
  }

  #raiseRate(now: number): PaceChange {
    const target = this.#allowed === undefined ? this.#maxRate : this.#allowed * this.#margin;
    const gap = target - this.#rate;
    if (gap > target * PROBE_STEP) {
      this.#rate += gap * RECOVERY_SHARE;
    } else {
      this.#probes++;
      // Close to what the tenant allowed, small steps (an overshoot there costs 429s); well beyond it
      // the limit has risen, and the steps grow so that the pace catches up.
      const isNearLimit = this.#allowed !== undefined && this.#rate < this.#allowed * NEAR_LIMIT;
      this.#rate *= 1 + Math.min(PROBE_STEP * this.#probes, isNearLimit ? NEAR_LIMIT_STEP : Number.POSITIVE_INFINITY);
    }
    this.#rate = Math.min(this.#rate, this.#maxRate);
    this.#newEpoch(now);
    return { kind: 'rate', direction: 'up', rate: this.#rate };
  }

  #newEpoch(at: number): void {
    this.#epochStart = at;
    this.#epochAnswered = 0;
    this.#epochLimited = 0;
  }

  #answeredSince(since: number): number {
    let count = 0;
    for (let index = this.#answeredAt.length - 1; index >= 0 && this.#answeredAt[index]! >= since; index--) count++;
    return count;
  }

  #forgetAnswers(now: number): void {
    const keepFrom = Math.min(now - WINDOW_LOOKBACK_MS, this.#windowStart ?? now);
    let drop = 0;
    while (drop < this.#answeredAt.length && this.#answeredAt[drop]! < keepFrom) drop++;
    // Bounded whatever the pace: at most the newest 4,096 answers are kept.
    drop = Math.max(drop, this.#answeredAt.length - 4096);
    this.#answeredAt.splice(0, drop);
  }
}

/** A rate for people (logs, the summary): requests per second, to two decimals. */
export const perSecond = (rate: number): number => Math.round(rate * 100) / 100;

/**
 * What the policy concluded, in words for the log, with the level it deserves: info for what it
 * learned about the tenant, debug for a routine rise, warn when the pace is at its floor (the tenant
 * refuses nearly everything).
 */
export function describePaceChange(
  change: PaceChange,
  atFloor: boolean,
): { readonly level: 'debug' | 'info' | 'warn'; readonly message: string; readonly fields: Record<string, number> } {
  switch (change.kind) {
    case 'hold':
      return { level: 'debug', message: 'first 429 of the run: holding every start for a moment', fields: {} };
    case 'concurrency':
      return change.direction === 'down'
        ? {
            level: 'info',
            message: `the tenant allows about ${change.concurrency} requests in flight; concurrency lowered to ${change.concurrency}`,
            fields: { concurrency: change.concurrency },
          }
        : {
            level: 'debug',
            message: `no 429 for a while: trying ${change.concurrency} requests in flight`,
            fields: { concurrency: change.concurrency },
          };
    case 'wait': {
      const seconds = Math.round(change.waitMs / 100) / 10;
      const { window } = change;
      const paced = change.rate === undefined ? '' : `pace lowered to ${perSecond(change.rate)}/s, `;
      const message = window
        ? `the tenant allows about ${window.requests} requests per ${Math.round(window.seconds * 10) / 10} s window; ` +
          `${paced}waiting ${seconds} s for the next window`
        : `the tenant refuses every request for now (a spent window, most likely); waiting ${seconds} s for it to reopen`;
      const fields: Record<string, number> = { waitMs: Math.round(change.waitMs) };
      if (change.rate !== undefined) fields['rate'] = perSecond(change.rate);
      return { level: 'info', message, fields };
    }
    case 'rate': {
      if (change.direction === 'up') {
        return {
          level: 'debug',
          message: `no 429 for a while: pace raised to ${perSecond(change.rate)}/s`,
          fields: { rate: perSecond(change.rate) },
        };
      }
      const allowed = change.allowed === undefined ? '' : `the tenant allows about ${perSecond(change.allowed)}/s; `;
      return {
        level: atFloor ? 'warn' : 'info',
        message: `${allowed}pace lowered to ${perSecond(change.rate)}/s${atFloor ? ' (its floor)' : ''}`,
        fields: { rate: perSecond(change.rate) },
      };
    }
  }
}
