/**
 * What makes the simulated tenant misbehave on purpose: scripted answers per serial, a share of
 * random failures, a rate limit and added latency. The server asks this module at fixed points of a
 * request and answers whatever it is told; nothing here knows about HTTP.
 */

/** A scripted answer for one request to one serial; steps are used up in order. */
export interface FaultStep {
  /** Answer with this status instead of handling the request (omit to handle it normally). */
  readonly status?: number;
  readonly retryAfter?: string;
  /** Raw body to send with `status`; defaults to the documented error body for that status. */
  readonly body?: string;
  /** Wait this long before answering (longer than the client's timeout makes a timeout). */
  readonly delayMs?: number;
  /** Put the request's Authorization header into the error body, as a careless server might (leak tests). */
  readonly echoAuthorization?: boolean;
}

/** A token bucket: more than `perSecond` requests a second (after a burst of `burst`) get 429. */
export interface TokenBucketOptions {
  readonly perSecond: number;
  /** Requests accepted at once before the limit bites. Default: one second's worth (at least 1). */
  readonly burst?: number;
}

export interface FaultOptions {
  /** Added to every answer, counted from the request's arrival. Default 0. */
  readonly latencyMs?: number;
  /** The tenant's rate limit; none by default. */
  readonly rateLimit?: TokenBucketOptions;
  /** Share of requests answered with a random 500, 0 to 1. Default 0. */
  readonly errorRate?: number;
  /** Per-serial scripted answers for tests. */
  readonly faults?: ReadonlyMap<string, readonly FaultStep[]>;
}

/** A limiter's verdict on one request: let it through, or refuse it with 429 and this Retry-After. */
export type Admission = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

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

const ADMITTED: Admission = { ok: true };

/** Refills `perSecond` tokens a second up to `burst`; a request takes one or is refused. */
export class TokenBucket implements Limiter {
  readonly perSecond: number;
  readonly burst: number;
  #tokens: number;
  // Set by the first request: the bucket starts full, so time before it refills nothing.
  #last: number | undefined;

  constructor(options: TokenBucketOptions) {
    this.perSecond = options.perSecond;
    this.burst = options.burst ?? Math.max(1, options.perSecond);
    this.#tokens = this.burst;
  }

  admit(now: number): Admission {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - (this.#last ?? now)) / 1000) * this.perSecond);
    this.#last = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return ADMITTED;
    }
    // Whole seconds until a token is there, at least one: what a gateway would put in Retry-After.
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - this.#tokens) / this.perSecond)) };
  }
}

/** The limiter for the options given; other kinds of limit are chosen here as they are added. */
export function createLimiter(rateLimit: TokenBucketOptions | undefined): Limiter | undefined {
  return rateLimit ? new TokenBucket(rateLimit) : undefined;
}

const RANDOM_ERROR: FaultStep = { status: 500 };

/** The faults of one running simulator. `random` draws the random failures (seeded by the server). */
export class Faults {
  /** Consulted after authentication; undefined when the tenant has no rate limit. */
  readonly limiter: Limiter | undefined;
  readonly #latencyMs: number | undefined;
  readonly #errorRate: number | undefined;
  readonly #steps: Map<string, FaultStep[]>;
  readonly #random: () => number;

  constructor(options: FaultOptions, random: () => number) {
    this.limiter = createLimiter(options.rateLimit);
    this.#latencyMs = options.latencyMs;
    this.#errorRate = options.errorRate;
    // Copied, so that using steps up leaves the caller's map as it was.
    this.#steps = new Map([...(options.faults ?? [])].map(([serial, steps]) => [serial, [...steps]]));
    this.#random = random;
  }

  /** How much longer to hold an answer `elapsedMs` after arrival; undefined when there is no latency. */
  latencyLeft(elapsedMs: number): number | undefined {
    return this.#latencyMs ? Math.max(0, this.#latencyMs - elapsedMs) : undefined;
  }

  /** The next scripted step for a serial, used up; undefined once there are none. */
  nextStep(serial: string): FaultStep | undefined {
    return this.#steps.get(serial)?.shift();
  }

  /** A failure to answer with instead of handling the request, drawn at random; usually undefined. */
  randomFailure(): FaultStep | undefined {
    return this.#errorRate && this.#random() < this.#errorRate ? RANDOM_ERROR : undefined;
  }
}
