import { setTimeout as sleep } from 'node:timers/promises';

/** Time as the pacer sees it; tests pass a fake one. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = { now: () => performance.now(), sleep: (ms) => sleep(ms) };

/**
 * Spaces request starts evenly at `ratePerSecond`: each start reserves the next free slot, one
 * interval after the previous. Gateways enforce token or leaky buckets, and an even pace stays under
 * them where bursts at the top of each second would not. Idle time is not banked, so there is never
 * a catch-up burst. Every attempt, retries included, takes a slot.
 */
export class Pacer {
  readonly #intervalMs: number;
  readonly #clock: Clock;
  #nextSlot = Number.NEGATIVE_INFINITY;

  /** `ratePerSecond` of Infinity turns pacing off. */
  constructor(ratePerSecond: number, clock: Clock = systemClock) {
    this.#intervalMs = 1000 / ratePerSecond;
    this.#clock = clock;
  }

  /** Reserves the next slot and returns how long to wait for it. */
  reserve(): number {
    const now = this.#clock.now();
    const slot = Math.max(now, this.#nextSlot);
    this.#nextSlot = slot + this.#intervalMs;
    return slot - now;
  }

  /** Waits for this caller's slot. */
  async acquire(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await this.#clock.sleep(wait);
  }
}
