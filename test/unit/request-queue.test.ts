import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AttemptOutcome, AttemptSuccess } from '../../src/client/response.js';
import type { RetryPolicy } from '../../src/client/retry-policy.js';
import { rateWindow, RequestQueue, type RequestQueueOptions } from '../../src/queue/request-queue.js';

// Time is fake: p-queue's window, p-retry, the backoff and the adaptive gate all run on it.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const enabled: AttemptOutcome = {
  ok: true,
  httpStatus: 200,
  token: { tokenSerialNumber: '1', tokenStatus: 'Enabled', tokenStatusChangedAt: '', tokenStatusChangedBy: '' },
};
const failure = (code: 'RATE_LIMITED' | 'SERVER_ERROR' | 'NOT_FOUND' | 'FORBIDDEN', extra = {}): AttemptOutcome => ({
  ok: false,
  code,
  message: code,
  ...extra,
});
const POLICY: RetryPolicy = { retries: 3, baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryAfterMs: 300_000 };

function queue(options: Partial<RequestQueueOptions> = {}): RequestQueue {
  return new RequestQueue({
    concurrency: 4,
    rate: 100_000,
    retryPolicy: POLICY,
    random: () => 0.5,
    adaptive: false,
    ...options,
  });
}

/** A request that answers `outcomes` in turn (the last one for ever), noting when each attempt started. */
function scripted(outcomes: readonly AttemptOutcome[], starts: number[] = []) {
  let calls = 0;
  return {
    starts,
    request: async (): Promise<AttemptOutcome> => {
      starts.push(Date.now());
      return outcomes[Math.min(calls++, outcomes.length - 1)]!;
    },
  };
}

describe('rateWindow', () => {
  it('spreads the ceiling over windows of at least 50 ms, never a whole second', () => {
    expect(rateWindow(10)).toEqual({ intervalCap: 1, interval: 100 });
    expect(rateWindow(0.01)).toEqual({ intervalCap: 1, interval: 100_000 });
    expect(rateWindow(50)).toEqual({ intervalCap: 3, interval: 60 });
    expect(rateWindow(500)).toEqual({ intervalCap: 25, interval: 50 });
    expect(rateWindow(100_000)).toEqual({ intervalCap: 5000, interval: 50 });
  });
});

describe('RequestQueue', () => {
  it('spaces starts at the rate, first attempts and retries alike', async () => {
    const requests = queue({ rate: 2, concurrency: 8 });
    const starts: number[] = [];
    const rows = [0, 1, 2].map(() => requests.send(scripted([failure('SERVER_ERROR'), enabled], starts).request));
    await vi.runAllTimersAsync();
    const sent = await Promise.all(rows);
    expect(sent.map((row) => row.attempts)).toEqual([2, 2, 2]);
    expect(requests.requestsSent).toBe(6);
    const gaps = starts.toSorted((a, b) => a - b).map((at, index, all) => at - (all[index - 1] ?? at));
    // One start every 500 ms at 2/s, never two closer together.
    expect(Math.min(...gaps.slice(1))).toBeGreaterThanOrEqual(500);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const requests = queue({ concurrency: 2 });
    let inFlight = 0;
    let most = 0;
    const slow = async (): Promise<AttemptOutcome> => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 100));
      inFlight--;
      return enabled;
    };
    const rows = Array.from({ length: 7 }, () => requests.send(slow));
    await vi.runAllTimersAsync();
    await Promise.all(rows);
    expect(most).toBe(2);
  });

  it('retries 429s and 5xx up to `retries`, then keeps the last failure; never retries a 404', async () => {
    const requests = queue();
    const flaky = requests.send(scripted([failure('SERVER_ERROR')]).request);
    const missing = requests.send(scripted([failure('NOT_FOUND')]).request);
    await vi.runAllTimersAsync();
    expect(await flaky).toMatchObject({ attempts: 4, outcome: { code: 'SERVER_ERROR' } });
    expect(await missing).toMatchObject({ attempts: 1, outcome: { code: 'NOT_FOUND' } });
    expect(requests.requestsSent).toBe(5);
  });

  it('waits out a Retry-After, and an exponential backoff with jitter without one', async () => {
    const requests = queue();
    const limited = scripted([failure('RATE_LIMITED', { retryAfterMs: 7000 }), enabled]);
    const broken = scripted([failure('SERVER_ERROR'), failure('SERVER_ERROR'), enabled]);
    const rows = [requests.send(limited.request), requests.send(broken.request)];
    await vi.runAllTimersAsync();
    await Promise.all(rows);
    expect(limited.starts[1]! - limited.starts[0]!).toBe(7000);
    // Equal jitter with random() = 0.5: three quarters of 1 s, then of 2 s.
    expect([broken.starts[1]! - broken.starts[0]!, broken.starts[2]! - broken.starts[1]!]).toEqual([750, 1500]);
    expect(requests.rateLimitedAnswers).toBe(1);
  });

  it('sends a 403 once more after a token renewal, without using up a retry', async () => {
    const requests = queue({ retryPolicy: { ...POLICY, retries: 0 } });
    const renewed = failure('FORBIDDEN', { isTokenRenewed: true });
    const row = requests.send(scripted([renewed, enabled]).request);
    const refused = requests.send(scripted([renewed]).request);
    await vi.runAllTimersAsync();
    expect(await row).toMatchObject({ attempts: 2, outcome: { ok: true } });
    expect(await refused).toMatchObject({ attempts: 2, outcome: { code: 'FORBIDDEN' } });
  });

  it('lets retries go ahead of first attempts still waiting', async () => {
    const requests = queue({ concurrency: 1, rate: 10 });
    const order: string[] = [];
    const named = (name: string, outcomes: AttemptOutcome[]) => {
      let calls = 0;
      return async (): Promise<AttemptOutcome> => {
        order.push(`${name}${calls}`);
        return outcomes[Math.min(calls++, outcomes.length - 1)]!;
      };
    };
    const rows = [
      requests.send(named('a', [failure('FORBIDDEN', { isTokenRenewed: true }), enabled])),
      requests.send(named('b', [enabled])),
      requests.send(named('c', [enabled])),
    ];
    await vi.runAllTimersAsync();
    await Promise.all(rows);
    expect(order).toEqual(['a0', 'a1', 'b0', 'c0']);
  });

  it('on a stop: sends nothing more, a row backing off keeps its failure, an answer on the wire still counts', async () => {
    const stop = new AbortController();
    const requests = queue({ concurrency: 1, signal: stop.signal });
    let answer: (outcome: AttemptOutcome) => void = () => {};
    const onTheWire = requests.send(() => new Promise((resolve) => (answer = resolve)));
    const waiting = requests.send(scripted([enabled]).request);
    const backingOff = queue({ signal: stop.signal }).send(scripted([failure('SERVER_ERROR'), enabled]).request);
    await vi.advanceTimersByTimeAsync(10);
    stop.abort({ code: 'INTERRUPTED', message: 'stopped' });
    answer(enabled);
    await vi.runAllTimersAsync();
    expect(await onTheWire).toMatchObject({ attempts: 1, outcome: { ok: true } });
    expect(await waiting).toEqual({ outcome: undefined, attempts: 0 });
    expect(await backingOff).toMatchObject({ attempts: 1, outcome: { code: 'SERVER_ERROR' } });
  });
});

describe('RequestQueue, at the edges', () => {
  it('an attempt that fails after the stop is not retried: the row keeps that failure', async () => {
    const stop = new AbortController();
    const requests = queue({ signal: stop.signal });
    let answer: (outcome: AttemptOutcome) => void = () => {};
    let attempts = 0;
    const row = requests.send(() => {
      attempts++;
      return new Promise((resolve) => (answer = resolve));
    });
    await vi.advanceTimersByTimeAsync(1);
    stop.abort({ code: 'INTERRUPTED', message: 'stopped' });
    answer(failure('SERVER_ERROR'));
    await vi.runAllTimersAsync();
    expect(await row).toMatchObject({ attempts: 1, outcome: { code: 'SERVER_ERROR' } });
    expect(attempts).toBe(1);
  });

  it('a request that throws instead of answering (a bug, not a failed attempt) rejects, unretried', async () => {
    const requests = queue();
    let attempts = 0;
    const row = requests.send(async () => {
      attempts++;
      throw new TypeError('not an outcome');
    });
    const settled = row.catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    expect(await settled).toBeInstanceOf(TypeError);
    expect(attempts).toBe(1);
  });
});

describe('RequestQueue with the adaptive pace', () => {
  it('slows every start once 429s are more than noise, then climbs back once the tenant answers again', async () => {
    const changes: string[] = [];
    const requests = queue({
      rate: 100,
      concurrency: 1,
      adaptive: {
        onPaceChange: (change) =>
          void changes.push(change.kind === 'rate' ? `${change.direction} ${change.rate.toFixed(1)}` : change.kind),
      },
    });
    const starts: number[] = [];
    // Half the answers are 429s (interleaved, so not a spent window): the tenant allows about half the pace.
    const rows = Array.from({ length: 12 }, (_, index) =>
      requests.send(scripted(index % 2 === 0 ? [failure('RATE_LIMITED'), enabled] : [enabled], starts).request),
    );
    await vi.runAllTimersAsync();
    await Promise.all(rows);
    // A brief hold at the first 429 of the run, then the pace goes down.
    expect(changes.slice(0, 2)).toEqual(['hold', expect.stringMatching(/^down /)]);
    expect(requests.rate).toBeLessThan(100);
    // Answers without a 429 for a while raise the pace again.
    const more = Array.from({ length: 200 }, () => requests.send(scripted([enabled]).request));
    await vi.runAllTimersAsync();
    await Promise.all(more);
    expect(changes.some((change) => change.startsWith('up'))).toBe(true);
    requests.close();
  });

  it('holds every start for the Retry-After when the tenant refuses everything (a spent window)', async () => {
    const requests = queue({ rate: 1000, concurrency: 1, adaptive: {} });
    const starts: number[] = [];
    const refused = Array.from({ length: 2 }, () =>
      requests.send(scripted([failure('RATE_LIMITED', { retryAfterMs: 5000 }), enabled]).request),
    );
    await vi.advanceTimersByTimeAsync(20);
    const lockedOut = Date.now();
    const others = Array.from({ length: 3 }, () => requests.send(scripted([enabled], starts).request));
    await vi.runAllTimersAsync();
    await Promise.all([...refused, ...others]);
    expect(Math.min(...starts) - lockedOut).toBeGreaterThanOrEqual(4900);
    requests.close();
  });
});

describe('RequestQueue settles a lost answer with `confirm` before anything else', () => {
  const lost = (extra = {}): AttemptOutcome => ({
    ok: false,
    code: 'NETWORK_ERROR',
    message: 'ECONNRESET',
    isAnswerLost: true,
    ...extra,
  });
  const found: AttemptSuccess = {
    ok: true,
    httpStatus: 200,
    token: { tokenSerialNumber: '1', tokenStatus: 'Enabled', tokenStatusChangedAt: '', tokenStatusChangedBy: '' },
    userId: 'u',
  };

  it('a change the check finds made is a success, with every request counted and no retry', async () => {
    const enable = scripted([lost(), enabled]);
    const confirm = vi.fn(async () => ({ isDone: true, found, attempts: 1 }) as const);
    const sent = queue().send(enable.request, { confirm });
    await vi.runAllTimersAsync();
    expect(await sent).toEqual({ attempts: 2, outcome: { ...found, lostAnswer: 'ECONNRESET' } });
    expect(enable.starts).toHaveLength(1);
    expect(confirm).toHaveBeenCalledTimes(1);
  });

  it('a change the check finds not made is retried as usual; lookups do not use up retries', async () => {
    const requests = queue({ retryPolicy: { ...POLICY, retries: 1 } });
    const enable = scripted([lost(), lost({ code: 'BAD_RESPONSE', message: 'not JSON', httpStatus: 200 })]);
    const confirm = vi.fn(async () => ({ isDone: false, attempts: 1 }) as const);
    const sent = requests.send(enable.request, { confirm });
    await vi.runAllTimersAsync();
    // Two tries of the enable (retries 1), each followed by its check.
    expect(await sent).toMatchObject({
      attempts: 4,
      outcome: { ok: false, code: 'BAD_RESPONSE', message: 'not JSON; a lookup found the change not made' },
    });
    expect(enable.starts).toHaveLength(2);
    expect(confirm).toHaveBeenCalledTimes(2);
  });

  it('a check that cannot tell makes the outcome UNKNOWN_OUTCOME, final, with both reasons', async () => {
    const enable = scripted([lost({ code: 'TIMEOUT', message: 'no complete response within the timeout' })]);
    const confirm = async () =>
      ({ isDone: undefined, why: 'the lookup that would tell failed too', attempts: 6 }) as const;
    const sent = queue().send(enable.request, { confirm });
    await vi.runAllTimersAsync();
    expect(await sent).toEqual({
      attempts: 7,
      outcome: {
        ok: false,
        code: 'UNKNOWN_OUTCOME',
        httpStatus: undefined,
        message:
          'the answer was lost (no complete response within the timeout) and the lookup that would tell failed too',
      },
    });
    expect(enable.starts).toHaveLength(1);
  });

  it('an earlier lost answer is never hidden by a later failure: each is checked as it happens', async () => {
    const enable = scripted([lost(), failure('SERVER_ERROR'), failure('SERVER_ERROR')]);
    const checks: number[] = [];
    const confirm = async () => {
      checks.push(enable.starts.length);
      return { isDone: true, found, attempts: 1 } as const;
    };
    const sent = queue().send(enable.request, { confirm });
    await vi.runAllTimersAsync();
    expect(await sent).toMatchObject({ outcome: { ok: true, lostAnswer: 'ECONNRESET' } });
    expect(checks).toEqual([1]);
  });

  it('without `confirm` (a read-only request) a lost answer is simply retried, an unreadable 200 too', async () => {
    const lookup = scripted([lost(), lost({ code: 'BAD_RESPONSE', httpStatus: 200 }), enabled]);
    const retries: number[] = [];
    const sent = queue().send(lookup.request, { onRetry: (_, delayMs) => retries.push(delayMs) });
    await vi.runAllTimersAsync();
    expect(await sent).toMatchObject({ attempts: 3, outcome: { ok: true } });
    expect(retries).toEqual([750, 1500]);
  });
});
