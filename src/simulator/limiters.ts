import { usageError } from '../errors.js';

/**
 * The kinds of rate limit a simulated tenant can enforce, and random 429s with no limit behind
 * them: what a client's adaptive pace must tell apart. Each limiter is a plain object asked about
 * one request at a time with the time passed in, so that tests drive it with a plain-number clock;
 * nothing here knows about HTTP.
 */

/**
 * A limiter's verdict on one request: let it through, or refuse it with 429 and this Retry-After in
 * whole seconds (undefined: no Retry-After header).
 */
export type Admission = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number | undefined };

/**
 * Decides whether the tenant takes a request now. `now` is in milliseconds on a monotonic clock
 * (`performance.now()` in the server, a plain number in tests). A limiter that counts requests in
 * flight rather than arrivals implements `release`, which the server calls once for every admitted
 * request after it has been answered.
 */
export interface Limiter {
  admit(now: number): Admission;
  release?(): void;
}

/**
 * How a tenant limits requests:
 * - `bucket`: a token bucket refilled with `limit` tokens per window, holding at most `burst`
 *   (default `limit`): a burst at once, then an even pace;
 * - `sliding`: at most `limit` admitted requests in any rolling window of `windowSeconds`;
 * - `fixed`: at most `limit` per fixed window of `windowSeconds`, the count reset at each boundary
 *   (windows start at the first request), so up to 2 x `limit` can pass in one window's length
 *   across a boundary;
 * - `concurrency`: at most `limit` requests in flight (admitted and not yet answered).
 */
export type LimiterKind = 'bucket' | 'sliding' | 'fixed' | 'concurrency';

export const LIMITER_KINDS: readonly LimiterKind[] = ['bucket', 'sliding', 'fixed', 'concurrency'];

/** From `atMs` after the limiter's first request on, the limit is `limit`. */
export interface LimitStep {
  readonly atMs: number;
  readonly limit: number;
}

/**
 * A tenant's rate limit, e.g. `{ kind: 'sliding', limit: 50, windowSeconds: 1 }`, or one that
 * doubles after ten seconds: `{ kind: 'bucket', schedule: [{ atMs: 0, limit: 50 }, { atMs: 10_000,
 * limit: 100 }] }`.
 */
export interface LimiterOptions {
  readonly kind: LimiterKind;
  /**
   * Requests per window (`bucket`, `sliding`, `fixed`; a bucket's may be a fraction) or requests in
   * flight (`concurrency`), from the first request on. Leave it out when `schedule` starts at 0.
   */
  readonly limit?: number;
  /** The window of `bucket`, `sliding` and `fixed`, in seconds (not for `concurrency`). Default 1. */
  readonly windowSeconds?: number;
  /** `bucket` only: tokens it holds at most. Default: `limit` (at least 1), following the schedule. */
  readonly burst?: number;
  /**
   * Changes of the limit, by time since the limiter's first request, in increasing order. Each
   * applies from the first request at or after its time. Without `limit`, the first must be at 0.
   */
  readonly schedule?: readonly LimitStep[];
}

/** A token bucket: more than `perSecond` requests a second (after a burst of `burst`) get 429. */
export interface TokenBucketOptions {
  readonly perSecond: number;
  /** Requests accepted at once before the limit bites. Default: one second's worth (at least 1). */
  readonly burst?: number;
}

const ADMITTED: Admission = { ok: true };

/** Whole seconds until `ms` have passed, at least one: what a gateway puts in Retry-After. */
const retryAfter = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** Refills `perSecond` tokens a second up to `burst`; a request takes one or is refused. */
export class TokenBucket implements Limiter {
  #perSecond: number;
  #burst: number;
  #tokens: number;
  // Set by the first request: the bucket starts full, so time before it refills nothing.
  #last: number | undefined;

  constructor(options: TokenBucketOptions) {
    this.#perSecond = options.perSecond;
    this.#burst = options.burst ?? Math.max(1, options.perSecond);
    this.#tokens = this.#burst;
  }

  get burst(): number {
    return this.#burst;
  }

  admit(now: number): Admission {
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return ADMITTED;
    }
    // In seconds straight away: through milliseconds, float error could make 1 s into 2.
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - this.#tokens) / this.#perSecond)) };
  }

  /** From `at` on, refills at `perSecond` up to `burst`; what was earned before `at` at the old rate. */
  setRate(perSecond: number, burst: number, at: number): void {
    if (this.#last !== undefined) this.#refill(Math.max(at, this.#last));
    this.#perSecond = perSecond;
    this.#burst = burst;
    this.#tokens = Math.min(this.#tokens, burst);
  }

  #refill(now: number): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - (this.#last ?? now)) / 1000) * this.#perSecond);
    this.#last = now;
  }
}

/** At most `limit` admissions in any rolling window: it keeps the times of those still in the window. */
export class SlidingWindow implements Limiter {
  limit: number;
  readonly #windowMs: number;
  // Admission times, oldest first; only those less than a window ago are kept.
  readonly #admitted: number[] = [];

  constructor(limit: number, windowSeconds: number) {
    this.limit = limit;
    this.#windowMs = windowSeconds * 1000;
  }

  admit(now: number): Admission {
    while (this.#admitted.length > 0 && this.#admitted[0]! <= now - this.#windowMs) this.#admitted.shift();
    if (this.#admitted.length < this.limit) {
      this.#admitted.push(now);
      return ADMITTED;
    }
    // Room comes when enough of the oldest have left the window: the oldest alone, unless the limit
    // was lowered below what the window already holds.
    const leaving = this.#admitted[this.#admitted.length - this.limit]!;
    return { ok: false, retryAfterSeconds: retryAfter(leaving + this.#windowMs - now) };
  }
}

/** At most `limit` admissions per fixed window; windows follow one another from the first request. */
export class FixedWindow implements Limiter {
  limit: number;
  readonly #windowMs: number;
  #start: number | undefined;
  #window = 0;
  #count = 0;

  constructor(limit: number, windowSeconds: number) {
    this.limit = limit;
    this.#windowMs = windowSeconds * 1000;
  }

  admit(now: number): Admission {
    this.#start ??= now;
    const window = Math.floor((now - this.#start) / this.#windowMs);
    if (window !== this.#window) {
      this.#window = window;
      this.#count = 0;
    }
    if (this.#count < this.limit) {
      this.#count++;
      return ADMITTED;
    }
    return { ok: false, retryAfterSeconds: retryAfter(this.#start + (window + 1) * this.#windowMs - now) };
  }
}

/**
 * At most `limit` requests in flight. A refusal carries no Retry-After: a gateway that counts
 * connections (nginx's limit_conn, say) cannot know when one will end, and real ones send none.
 */
export class ConcurrencyLimit implements Limiter {
  limit: number;
  #inFlight = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  admit(): Admission {
    if (this.#inFlight >= this.limit) return { ok: false, retryAfterSeconds: undefined };
    this.#inFlight++;
    return ADMITTED;
  }

  release(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
  }
}

/** A limiter whose limit changes at the times of a schedule, counted from its first request. */
class ScheduledLimiter implements Limiter {
  readonly #inner: Limiter;
  readonly #steps: readonly LimitStep[];
  readonly #apply: (limit: number, at: number) => void;
  #origin: number | undefined;
  #next = 0;

  constructor(inner: Limiter, steps: readonly LimitStep[], apply: (limit: number, at: number) => void) {
    this.#inner = inner;
    this.#steps = steps;
    this.#apply = apply;
  }

  admit(now: number): Admission {
    const origin = (this.#origin ??= now);
    for (let step = this.#steps[this.#next]; step && origin + step.atMs <= now; step = this.#steps[++this.#next]) {
      this.#apply(step.limit, origin + step.atMs);
    }
    return this.#inner.admit(now);
  }

  release(): void {
    this.#inner.release?.();
  }
}

/**
 * 429 for a share of the requests it is asked about, drawn from `random`, with no limit behind it:
 * the noise of a tenant whose gateway sheds load now and then. Retry-After is 1, as a token bucket's
 * usually is, so that the header alone does not tell noise from a limit.
 */
export class Random429 implements Limiter {
  readonly share: number;
  readonly #random: () => number;

  constructor(share: number, random: () => number) {
    this.share = expectShare('random429', share);
    this.#random = random;
  }

  admit(): Admission {
    return this.#random() < this.share ? { ok: false, retryAfterSeconds: 1 } : ADMITTED;
  }
}

/** `value` as a share from 0 to 1, or a usage error naming the option. */
export function expectShare(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw usageError(`Expected \`${name}\` to be a share from 0 to 1, got ${String(value)}`);
  }
  return value;
}

function expectLimit(name: string, kind: LimiterKind, value: unknown): number {
  const isWhole = kind !== 'bucket';
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (isWhole && !Number.isInteger(value))) {
    const expected = isWhole ? 'a whole number from 1' : 'a number above 0';
    throw usageError(`Expected \`${name}\` of a ${kind} limiter to be ${expected}, got ${String(value)}`);
  }
  return value;
}

/** The limits from the start on, checked: the first step at 0, the times increasing. */
function checkSteps(options: LimiterOptions): LimitStep[] {
  const { kind, limit, schedule = [] } = options;
  const startsAtZero = schedule[0]?.atMs === 0;
  if (limit === undefined && !startsAtZero) {
    throw usageError(`Expected a ${kind} limiter to have a \`limit\`, or a \`schedule\` whose first step is at 0`);
  }
  if (limit !== undefined && startsAtZero) {
    throw usageError(`Expected a ${kind} limiter to have a \`limit\` or a \`schedule\` step at 0, not both`);
  }
  const steps = limit === undefined ? [...schedule] : [{ atMs: 0, limit }, ...schedule];
  steps.forEach((step, index) => {
    const previous = index > 0 ? steps[index - 1]!.atMs : -1;
    if (!Number.isFinite(step.atMs) || step.atMs <= previous) {
      throw usageError(
        `Expected the \`schedule\` times to be from 0 and increasing, got ${String(step.atMs)} after ${previous}`,
      );
    }
    expectLimit(index === 0 && limit !== undefined ? 'limit' : 'schedule limit', kind, step.limit);
  });
  return steps;
}

/** The limiter for the options given, checked; a schedule wraps it. */
export function createLimiter(options: LimiterOptions): Limiter {
  if (!LIMITER_KINDS.includes(options.kind)) {
    throw usageError(`Expected \`limiter.kind\` to be one of ${LIMITER_KINDS.join(', ')}, got "${options.kind}"`);
  }
  const { kind, windowSeconds = 1, burst } = options;
  if (kind === 'concurrency' && options.windowSeconds !== undefined) {
    throw usageError('Expected no `windowSeconds` for a concurrency limiter: it counts requests in flight');
  }
  if (!(Number.isFinite(windowSeconds) && windowSeconds > 0)) {
    throw usageError(`Expected \`windowSeconds\` to be a number of seconds above 0, got ${String(windowSeconds)}`);
  }
  if (burst !== undefined && (kind !== 'bucket' || !(Number.isFinite(burst) && burst >= 1))) {
    throw usageError(
      kind === 'bucket'
        ? `Expected \`burst\` to be a number from 1, got ${String(burst)}`
        : `Expected no \`burst\` for a ${kind} limiter: only a bucket has one`,
    );
  }
  const [first, ...later] = checkSteps(options);
  const limit = first!.limit;
  let limiter: Limiter;
  let apply: (limit: number, at: number) => void;
  if (kind === 'bucket') {
    const bucketBurst = (perWindow: number): number => burst ?? Math.max(1, perWindow);
    const bucket = new TokenBucket({ perSecond: limit / windowSeconds, burst: bucketBurst(limit) });
    limiter = bucket;
    apply = (next, at) => bucket.setRate(next / windowSeconds, bucketBurst(next), at);
  } else {
    const counting =
      kind === 'sliding'
        ? new SlidingWindow(limit, windowSeconds)
        : kind === 'fixed'
          ? new FixedWindow(limit, windowSeconds)
          : new ConcurrencyLimit(limit);
    limiter = counting;
    apply = (next) => (counting.limit = next);
  }
  return later.length > 0 ? new ScheduledLimiter(limiter, later, apply) : limiter;
}

/**
 * Reads `--limit-schedule` (`0:50,10:100`: from 0 s on 50, from 10 s on 100; seconds may be
 * fractions) into schedule steps. The limits are checked with the limiter. Pure.
 */
export function parseLimitSchedule(text: string): LimitStep[] {
  return text.split(',').map((pair) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$/.exec(pair);
    if (!match) {
      throw usageError(
        `Expected --limit-schedule to be SECONDS:LIMIT pairs separated by commas, such as 0:50,10:100, got "${text}"`,
      );
    }
    return { atMs: Number(match[1]) * 1000, limit: Number(match[2]) };
  });
}

/** The `simulate` flags that choose a limiter, as yargs hands them over. */
export interface LimiterFlags {
  readonly limiter?: string | undefined;
  readonly limit?: number | undefined;
  readonly window?: number | undefined;
  readonly 'limit-schedule'?: string | undefined;
  readonly 'rate-limit'?: number | undefined;
  readonly burst?: number | undefined;
}

/**
 * The limiter the `simulate` flags ask for: `--limiter KIND` with `--limit`, `--window`,
 * `--limit-schedule` and (bucket) `--burst`, or `--rate-limit N`, short for a bucket of N per second.
 * Undefined for none. The kind and the values are checked by `createLimiter`. Pure.
 */
export function limiterFromFlags(flags: LimiterFlags): LimiterOptions | undefined {
  const { limiter: kind, limit, window, 'limit-schedule': schedule, 'rate-limit': rateLimit, burst } = flags;
  const given = (
    [
      ['--limit', limit],
      ['--window', window],
      ['--limit-schedule', schedule],
    ] as const
  )
    .filter(([, value]) => value !== undefined)
    .map(([name]) => name);
  if (rateLimit !== undefined) {
    if (kind !== undefined || given.length > 0) {
      throw usageError(
        `--rate-limit conflicts with ${[...(kind === undefined ? [] : ['--limiter']), ...given].join(' and ')}: ` +
          '--rate-limit N is short for --limiter bucket --limit N',
      );
    }
    return { kind: 'bucket', limit: rateLimit, burst };
  }
  if (kind === undefined) {
    const orphans = [...given, ...(burst === undefined ? [] : ['--burst'])];
    if (orphans.length > 0) {
      throw usageError(
        `${orphans.join(' and ')} only ${orphans.length === 1 ? 'makes' : 'make'} sense with --limiter ` +
          `(${LIMITER_KINDS.join(', ')}) or, for --burst, --rate-limit`,
      );
    }
    return undefined;
  }
  if (kind === 'concurrency' && window !== undefined) {
    throw usageError('--window does not apply to --limiter concurrency: it counts requests in flight');
  }
  if (kind !== 'bucket' && burst !== undefined)
    throw usageError(`--burst applies to a bucket, not to --limiter ${kind}`);
  return {
    kind: kind as LimiterKind,
    limit,
    windowSeconds: window,
    burst,
    schedule: schedule === undefined ? undefined : parseLimitSchedule(schedule),
  };
}
