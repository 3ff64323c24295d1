import { setTimeout as sleep } from 'node:timers/promises';
import { onTestFinished, vi } from 'vitest';
import type { TokenProvider } from '../../src/auth/token-cache.js';

/**
 * Fake time for runs against a real loopback server. Only what the code under test reads is faked
 * (the global timers, Date and performance); sockets, setImmediate and node:timers/promises stay
 * real, so the simulator answers as usual. Restored when the test finishes.
 */

/**
 * Fakes the clock alone (Date, or the clocks named): token lifetimes and expiry, on both sides of the
 * wire, move only when the test says so. Timers stay real.
 */
export function fakeClock(clocks: ReadonlyArray<'Date' | 'performance'> = ['Date']): FakeClock {
  vi.useFakeTimers({ toFake: [...clocks] });
  onTestFinished(() => void vi.useRealTimers());
  return { advance: (ms) => vi.advanceTimersByTime(ms) };
}

export interface FakeClock {
  advance(ms: number): void;
}

/**
 * A token provider on the fake clock through which each request happens `stepMs` after the one
 * before: the clock moves on as a request asks for its token. Client and simulator read the same
 * clock (fake it before either is made: both take `Date.now` when they are), so a run of a few dozen
 * requests spans seconds of token lifetime in no real time at all.
 */
export function ticking(clock: FakeClock, inner: TokenProvider, stepMs: number): TokenProvider {
  return {
    getToken: () => {
      clock.advance(stepMs);
      return inner.getToken();
    },
    invalidate: (token) => inner.invalidate?.(token),
  };
}

/**
 * Fakes the timers and clocks a run waits on: backoff and Retry-After waits, the queue's pace,
 * the adaptive gate, attempt deadlines. Drive a run with `settle`.
 */
export function fakeTimers(): void {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
  onTestFinished(() => void vi.useRealTimers());
}

// Requests to the file system (and DNS) are served by libuv's thread pool, in real time: however
// many turns of the event loop they take depends on the machine, so fake time waits for them.
const THREAD_POOL_REQUESTS = new Set(['FSReqCallback', 'FSReqPromise', 'FileHandleCloseReq', 'GetAddrInfoReqWrap']);
const isWaitingForThreadPool = (): boolean =>
  process.getActiveResourcesInfo().some((resource) => THREAD_POOL_REQUESTS.has(resource));

/**
 * Moves fake time on in small steps, letting real I/O happen between them, until `condition` holds.
 * A step of fake time passes with each turn of the event loop in which nothing waits for the file
 * system, so a request to a loopback server takes a few milliseconds of fake time, much as on a fast
 * network, and reading or writing a file takes none. A step of 0 keeps fake time still. Gives up
 * after `limitMs` of fake time, or `limitMs` turns of the event loop.
 */
export async function advanceUntil(condition: () => boolean, stepMs = 5, limitMs = 3_600_000): Promise<void> {
  for (let turns = 0; !condition(); turns++) {
    if (turns * stepMs > limitMs || turns > limitMs) throw new Error(`${condition.toString()} did not come true`);
    if (isWaitingForThreadPool()) {
      await sleep(1); // node:timers/promises: real time, never faked
      continue;
    }
    await vi.advanceTimersByTimeAsync(stepMs);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Waits for `work` on fake time (see `advanceUntil`), and returns what it resolves to. */
export async function settle<T>(work: Promise<T>, stepMs = 5): Promise<T> {
  let isSettled = false;
  work.then(
    () => (isSettled = true),
    () => (isSettled = true),
  );
  await advanceUntil(() => isSettled, stepMs);
  return work;
}
