import { usageError } from '../errors.js';
import {
  createLimiter,
  expectShare,
  Random429,
  type Limiter,
  type LimiterOptions,
  type TokenBucketOptions,
} from './limiters.js';

/**
 * What makes the simulated tenant misbehave on purpose: scripted answers per serial, seeded random
 * shares of each kind of fault, bursts of 500s, a rate limit and added latency. The server asks this
 * module at fixed points of a request and does whatever it is told; nothing here knows about HTTP.
 */

/**
 * The shares of requests, 0 to 1 each, that meet each kind of fault at random. Every DS100 request
 * (enable, disable, lookup) that passes authentication, the rate limit and the body checks takes one
 * draw from the simulator's seeded random, so that the same seed and the same order of requests give
 * the same faults. With `errorRate`, the shares add up to at most 1. Each key is also a `kind` for a
 * scripted `FaultStep`.
 *
 * "The change" is what an enable or disable does to the registry (a lookup changes nothing). Kinds
 * marked "after the change" let the tenant handle the request first, so the journal's `changed` says
 * whether the credential really moved.
 */
export interface ChaosShares {
  /** The connection is reset (TCP RST) before the tenant sees the request: nothing changes, nothing is sent. */
  readonly resetBeforeChange?: number;
  /** After the change, the connection is reset without an answer: the client cannot know it happened. */
  readonly resetAfterChange?: number;
  /**
   * After the change, no answer ever comes: the request is held open, with no timer, until the client
   * gives up or the simulator closes.
   */
  readonly hangAfterChange?: number;
  /** A proxy's 502 page (`text/html`) instead of an answer: the tenant never sees the request, nothing changes. */
  readonly proxyHtml502?: number;
  /**
   * After the change, 200 with an empty body. Only a 200 is mangled: when the tenant answers 404, the
   * 404 goes out as usual and the journal records no fault (likewise for the next two).
   */
  readonly emptyOk?: number;
  /** After the change, 200 with the record as a bare JSON object instead of the documented array. */
  readonly objectOk?: number;
  /** After the change, 200 with an array describing another device (another serial, token serial and user). */
  readonly otherDeviceOk?: number;
  /** 429 with `Retry-After` in seconds (`throttleRetryAfterSeconds`); nothing changes. */
  readonly throttleSeconds?: number;
  /** 429 with `Retry-After` as an HTTP-date `throttleRetryAfterSeconds` from now (rounded up to a second). */
  readonly throttleDate?: number;
  /** 429 without a `Retry-After` header. */
  readonly throttleNoRetryAfter?: number;
  /** 429 with an absurd `Retry-After: 86400` (a day). */
  readonly throttleAbsurd?: number;
  /**
   * Starts a burst: this request and the next `errorBurstLength - 1` DS100 requests (any serial) are
   * answered 500, nothing changes. Requests in a burst take no draw and use up no scripted step.
   */
  readonly errorBurst?: number;
}

/** A kind of fault: a key of `ChaosShares`, where each is described. */
export type FaultKind = keyof ChaosShares;

/** Whether the tenant handles the request (and may change the registry) before the fault shows. */
const CHANGES_FIRST: Readonly<Record<FaultKind, boolean>> = {
  resetBeforeChange: false,
  resetAfterChange: true,
  hangAfterChange: true,
  proxyHtml502: false,
  emptyOk: true,
  objectOk: true,
  otherDeviceOk: true,
  throttleSeconds: false,
  throttleDate: false,
  throttleNoRetryAfter: false,
  throttleAbsurd: false,
  errorBurst: false,
};

/** Every kind, in the order the random draw walks them (after `errorRate`). */
export const FAULT_KINDS = Object.keys(CHANGES_FIRST) as readonly FaultKind[];

export const changesFirst = (kind: FaultKind): boolean => CHANGES_FIRST[kind];

/** The `Retry-After` of `throttleAbsurd`, in seconds: a day. */
export const ABSURD_RETRY_AFTER_SECONDS = 86_400;

/**
 * What the journal names as the fault a request met: a kind, a scripted status (`scripted`), a
 * random 500 of `errorRate`, a 429 of the rate limit (`rateLimit`), a 429 of `random429`, or the
 * request that set off a scheduled outage (`outage`).
 */
export type JournalFault = FaultKind | 'scripted' | 'errorRate' | 'rateLimit' | 'random429' | 'outage';

/** A scripted answer for one request to one serial; steps are used up in order. */
export interface FaultStep {
  /** Answer with this status instead of handling the request (omit to handle it normally). */
  readonly status?: number;
  readonly retryAfter?: string;
  /** Raw body to send with `status`; defaults to the documented error body for that status. */
  readonly body?: string;
  /** Misbehave this way (see `ChaosShares`); not together with `status`. */
  readonly kind?: FaultKind;
  /** Wait this long before answering (longer than the client's timeout makes a timeout). */
  readonly delayMs?: number;
  /** Put the request's Authorization header into the error body, as a careless server might (leak tests). */
  readonly echoAuthorization?: boolean;
}
export interface FaultOptions {
  /** Added to every answer, counted from the request's arrival. Default 0. */
  readonly latencyMs?: number;
  /**
   * The tenant's rate limit, a token bucket of `perSecond` (short for `limiter: { kind: 'bucket',
   * limit: perSecond, burst }`); none by default. Not together with `limiter`.
   */
  readonly rateLimit?: TokenBucketOptions;
  /**
   * The tenant's rate limit of any kind, e.g. `{ kind: 'sliding', limit: 50, windowSeconds: 1 }`
   * (see `LimiterOptions`); none by default. Its 429s are journaled as `rateLimit`.
   */
  readonly limiter?: LimiterOptions;
  /**
   * Share of the requests the limit admits (all, without a limit) that are answered 429 anyway,
   * drawn from `seed`, with `Retry-After: 1`: noise with no limit behind it. Journaled as
   * `random429`. Default 0.
   */
  readonly random429?: number;
  /** Share of requests answered with a random 500, 0 to 1. Default 0. */
  readonly errorRate?: number;
  /**
   * Shares of requests that meet each kind of fault at random, e.g.
   * `{ resetAfterChange: 0.02, hangAfterChange: 0.01, errorBurst: 0.005 }`. None by default.
   */
  readonly chaos?: ChaosShares;
  /** How many consecutive DS100 requests an `errorBurst` answers 500, the first included. Default 5. */
  readonly errorBurstLength?: number;
  /** The wait `throttleSeconds` and `throttleDate` ask for, in whole seconds. Default 1. */
  readonly throttleRetryAfterSeconds?: number;
  /** Per-serial scripted answers for tests; a user lookup's are keyed by the email address as sent. */
  readonly faults?: ReadonlyMap<string, readonly FaultStep[]>;
}

/** What the server does with one request instead of, or after, handling it normally. */
export type Fault =
  | { readonly kind: FaultKind }
  /** A scripted step's status, retryAfter, body and echoAuthorization. */
  | { readonly kind: 'scripted'; readonly step: FaultStep & { readonly status: number } }
  /** A random 500 of `errorRate`. */
  | { readonly kind: 'errorRate' };

/** The fault for one request, and how long a scripted step holds it first. */
export interface PlannedFault {
  readonly delayMs: number | undefined;
  readonly fault: Fault | undefined;
}

const NO_FAULT: PlannedFault = { delayMs: undefined, fault: undefined };
const ERROR_RATE: Fault = { kind: 'errorRate' };
const KIND_FAULTS = new Map(FAULT_KINDS.map((kind) => [kind, { kind }]));
const planned = (fault: Fault | undefined, delayMs?: number): PlannedFault =>
  fault || delayMs ? { delayMs: delayMs || undefined, fault } : NO_FAULT;

function expectWholeNumber(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw usageError(`Expected \`${name}\` to be a whole number from ${min}, got ${String(value)}`);
  }
  return value;
}

/** The kinds with a share above 0, in draw order, checked. */
function checkShares(errorRate: number, chaos: ChaosShares): Array<[FaultKind, number]> {
  for (const key of Object.keys(chaos)) {
    if (!Object.hasOwn(CHANGES_FIRST, key)) {
      throw usageError(`Expected \`chaos\` to name kinds of fault (${FAULT_KINDS.join(', ')}), got "${key}"`);
    }
  }
  const shares = FAULT_KINDS.map((kind): [FaultKind, number] => [kind, expectShare(`chaos.${kind}`, chaos[kind] ?? 0)]);
  const total = shares.reduce((sum, [, share]) => sum + share, errorRate);
  // A little slack for shares such as 0.1 + 0.2 + 0.7, whose float sum is a hair over 1.
  if (total > 1 + 1e-9) {
    throw usageError(`Expected \`errorRate\` and the \`chaos\` shares to add up to at most 1, got ${total}`);
  }
  return shares.filter(([, share]) => share > 0);
}

/**
 * The faults of one running simulator. `random` draws the random failures, `random429Draws` the
 * random 429s (both seeded by the server: apart, so that adding random 429s leaves the other faults
 * of a seed where they were).
 */
export class Faults {
  /** Consulted after authentication; undefined when the tenant has no rate limit. */
  readonly limiter: Limiter | undefined;
  /** Consulted for each request `limiter` admits; undefined without `random429`. */
  readonly random429: Limiter | undefined;
  readonly errorBurstLength: number;
  readonly throttleRetryAfterSeconds: number;
  readonly #latencyMs: number | undefined;
  readonly #errorRate: number;
  readonly #shares: ReadonlyArray<[FaultKind, number]>;
  readonly #drawsAny: boolean;
  readonly #steps: Map<string, FaultStep[]>;
  readonly #random: () => number;
  #burstLeft = 0;

  constructor(options: FaultOptions, random: () => number, random429Draws: () => number = random) {
    if (options.rateLimit && options.limiter) {
      throw usageError('Expected `rateLimit` or `limiter`, not both: `rateLimit` is short for a bucket limiter');
    }
    const { rateLimit } = options;
    const limiter = rateLimit
      ? { kind: 'bucket' as const, limit: rateLimit.perSecond, burst: rateLimit.burst }
      : options.limiter;
    this.limiter = limiter && createLimiter(limiter);
    this.random429 = options.random429 === undefined ? undefined : new Random429(options.random429, random429Draws);
    this.#latencyMs = options.latencyMs;
    this.#errorRate = expectShare('errorRate', options.errorRate ?? 0);
    this.#shares = checkShares(this.#errorRate, options.chaos ?? {});
    this.#drawsAny = this.#errorRate > 0 || this.#shares.length > 0;
    this.errorBurstLength = expectWholeNumber('errorBurstLength', options.errorBurstLength ?? 5, 1);
    this.throttleRetryAfterSeconds = expectWholeNumber(
      'throttleRetryAfterSeconds',
      options.throttleRetryAfterSeconds ?? 1,
      0,
    );
    for (const [serial, steps] of options.faults ?? []) {
      for (const step of steps) {
        if (step.kind !== undefined && step.status !== undefined) {
          throw usageError(`Expected a scripted step for ${serial} to have a \`status\` or a \`kind\`, not both`);
        }
        if (step.kind !== undefined && !Object.hasOwn(CHANGES_FIRST, step.kind)) {
          throw usageError(
            `Expected the \`kind\` of a scripted step for ${serial} to be one of ${FAULT_KINDS.join(', ')}, got "${step.kind}"`,
          );
        }
      }
    }
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

  /**
   * The fault for the next DS100 request to `serial`: a burst under way comes first, then the serial's
   * scripted step (used up), then a random draw. A step with only a delay leaves room for the draw.
   */
  next(serial: string): PlannedFault {
    if (this.#burstLeft > 0) {
      this.#burstLeft--;
      return planned(KIND_FAULTS.get('errorBurst'));
    }
    const step = this.#steps.size > 0 ? this.nextStep(serial) : undefined;
    const fault =
      step?.kind !== undefined
        ? KIND_FAULTS.get(step.kind)
        : step?.status !== undefined
          ? { kind: 'scripted' as const, step: step as FaultStep & { status: number } }
          : this.#draw();
    if (fault?.kind === 'errorBurst') this.#burstLeft = this.errorBurstLength - 1;
    return planned(fault, step?.delayMs);
  }

  /** A fault drawn at random from the shares; usually undefined. Draws nothing when every share is 0. */
  #draw(): Fault | undefined {
    if (!this.#drawsAny) return undefined;
    // One draw walked along the shares laid end to end: the errorRate share first, so that a seed
    // picks the same 500s it did before the other kinds existed.
    let draw = this.#random();
    if (draw < this.#errorRate) return ERROR_RATE;
    draw -= this.#errorRate;
    for (const [kind, share] of this.#shares) {
      if (draw < share) return KIND_FAULTS.get(kind);
      draw -= share;
    }
    return undefined;
  }
}

/** How the command line names a kind: `resetAfterChange` is `reset-after-change`, `proxyHtml502` is `proxy-html-502`. */
export const faultFlagName = (kind: FaultKind): string =>
  kind
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .replace(/([a-zA-Z])(\d)/g, '$1-$2')
    .toLowerCase();

const KINDS_BY_FLAG_NAME = new Map(FAULT_KINDS.map((kind) => [faultFlagName(kind), kind]));

/**
 * Reads `--fault KIND=SHARE` values (`reset-after-change=0.02`) into chaos shares. Each share is
 * checked here; that they add up to at most 1, when the simulator starts. Pure.
 */
export function parseFaultSpecs(specs: readonly string[]): ChaosShares {
  const shares: Partial<Record<FaultKind, number>> = {};
  for (const spec of specs) {
    const [name = '', share, ...rest] = spec.split('=');
    const kind = KINDS_BY_FLAG_NAME.get(name.trim());
    if (!kind || share === undefined || share.trim() === '' || rest.length > 0) {
      throw usageError(
        `Expected --fault to be KIND=SHARE with KIND one of ${[...KINDS_BY_FLAG_NAME.keys()].join(', ')}, got "${spec}"`,
      );
    }
    if (shares[kind] !== undefined) throw usageError(`Expected --fault ${name} once, got it twice`);
    shares[kind] = expectShare(`--fault ${name}`, Number(share));
  }
  return shares;
}
