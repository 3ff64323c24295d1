import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, Faults, faultFlagName, parseFaultSpecs, type FaultStep } from '../../src/simulator/faults.js';
import { Random429, SlidingWindow, TokenBucket } from '../../src/simulator/limiters.js';
import { seededRandom } from '../../src/simulator/tenant.js';

// The clock is a number passed in: nothing here waits.

const SERIAL = '140100001';

describe('Faults', () => {
  const never = (): number => {
    throw new Error('random() should not be drawn');
  };

  it('uses up the scripted steps of each serial in order, then has none', () => {
    const script = new Map<string, readonly FaultStep[]>([
      ['140100001', [{ status: 429, retryAfter: '2' }, { delayMs: 10 }, { status: 500 }]],
      ['140100002', [{ status: 403 }]],
    ]);
    const faults = new Faults({ faults: script }, never);
    expect(faults.nextStep('140100001')).toEqual({ status: 429, retryAfter: '2' });
    expect(faults.nextStep('140100002')).toEqual({ status: 403 });
    expect(faults.nextStep('140100001')).toEqual({ delayMs: 10 });
    expect(faults.nextStep('140100001')).toEqual({ status: 500 });
    expect(faults.nextStep('140100001')).toBeUndefined();
    expect(faults.nextStep('140100002')).toBeUndefined();
    expect(faults.nextStep('140100003')).toBeUndefined();
    // The caller's script is left as it was, so it can start another simulator.
    expect(script.get('140100001')).toHaveLength(3);
  });

  it('fails the share of requests its random draws fall under, with a 500', () => {
    const draws = [0.05, 0.5, 0.09, 0.1];
    const faults = new Faults({ errorRate: 0.1 }, () => draws.shift()!);
    expect([1, 2, 3, 4].map(() => faults.next(SERIAL).fault)).toEqual([
      { kind: 'errorRate' },
      undefined,
      { kind: 'errorRate' },
      undefined,
    ]);
  });

  it('draws nothing without an error rate or chaos', () => {
    const faults = new Faults({ errorRate: 0, chaos: { resetAfterChange: 0 } }, never);
    expect(faults.next(SERIAL)).toEqual({ delayMs: undefined, fault: undefined });
    expect(new Faults({}, never).next(SERIAL).fault).toBeUndefined();
  });

  it('holds an answer for what is left of the latency after the time already spent', () => {
    const faults = new Faults({ latencyMs: 50 }, never);
    expect(faults.latencyLeft(0)).toBe(50);
    expect(faults.latencyLeft(20)).toBe(30);
    expect(faults.latencyLeft(80)).toBe(0);
    expect(new Faults({}, never).latencyLeft(0)).toBeUndefined();
  });

  it('has a limiter only with a rate limit, of the kind asked for, and random 429s only when asked', () => {
    expect(new Faults({ rateLimit: { perSecond: 1 } }, never).limiter).toBeInstanceOf(TokenBucket);
    expect(new Faults({ limiter: { kind: 'sliding', limit: 5 } }, never).limiter).toBeInstanceOf(SlidingWindow);
    expect(new Faults({}, never).limiter).toBeUndefined();
    expect(new Faults({ random429: 0.1 }, never, () => 0).random429).toBeInstanceOf(Random429);
    expect(new Faults({}, never).random429).toBeUndefined();
  });

  it('refuses a rateLimit and a limiter together', () => {
    expect(() => new Faults({ rateLimit: { perSecond: 1 }, limiter: { kind: 'fixed', limit: 5 } }, never)).toThrow(
      'Expected `rateLimit` or `limiter`, not both',
    );
  });

  it('draws the random 429s from their own stream, leaving the other draws alone', () => {
    const draws = [0.05, 0.5];
    const faults = new Faults(
      { errorRate: 0.1, random429: 1 },
      () => draws.shift()!,
      () => 0.99,
    );
    expect(faults.random429?.admit(0)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect([faults.next(SERIAL).fault, faults.next(SERIAL).fault]).toEqual([{ kind: 'errorRate' }, undefined]);
  });
});

describe('Faults: kinds, shares and bursts', () => {
  const never = (): number => {
    throw new Error('random() should not be drawn');
  };
  const kinds = (faults: Faults, serials: readonly string[]): Array<string | undefined> =>
    serials.map((serial) => faults.next(serial).fault?.kind);

  it('walks one draw along the shares laid end to end: errorRate first, then the kinds in their order', () => {
    // errorRate [0, 0.1), resetBeforeChange [0.1, 0.3), hangAfterChange [0.3, 0.4), throttleDate [0.4, 0.5)
    const draws = [0.05, 0.11, 0.29, 0.31, 0.45, 0.51, 0.99];
    const faults = new Faults(
      { errorRate: 0.1, chaos: { throttleDate: 0.1, resetBeforeChange: 0.2, hangAfterChange: 0.1 } },
      () => draws.shift()!,
    );
    expect(kinds(faults, Array(7).fill(SERIAL))).toEqual([
      'errorRate',
      'resetBeforeChange',
      'resetBeforeChange',
      'hangAfterChange',
      'throttleDate',
      undefined,
      undefined,
    ]);
    expect(draws).toEqual([]);
  });

  it('answers the next errorBurstLength requests of any serial 500 once a burst starts, drawing nothing meanwhile', () => {
    const draws = [0.0, 0.9];
    const faults = new Faults({ chaos: { errorBurst: 0.01 }, errorBurstLength: 3 }, () => draws.shift()!);
    expect(kinds(faults, ['1', '2', '3', '4'])).toEqual(['errorBurst', 'errorBurst', 'errorBurst', undefined]);
    expect(draws).toEqual([]);
  });

  it('plays a scripted kind, starts a burst from a script, and leaves a step alone during a burst', () => {
    const script = new Map<string, readonly FaultStep[]>([
      ['A', [{ kind: 'errorBurst' }, { kind: 'resetAfterChange', delayMs: 7 }]],
      ['B', [{ kind: 'emptyOk' }]],
    ]);
    const faults = new Faults({ faults: script, errorBurstLength: 2 }, never);
    expect(faults.next('A').fault).toEqual({ kind: 'errorBurst' });
    expect(faults.next('B').fault).toEqual({ kind: 'errorBurst' }); // in the burst: B's step waits
    expect(faults.next('B').fault).toEqual({ kind: 'emptyOk' });
    expect(faults.next('A')).toEqual({ delayMs: 7, fault: { kind: 'resetAfterChange' } });
    expect(faults.next('A')).toEqual({ delayMs: undefined, fault: undefined });
  });

  it('keeps a scripted status as it was, and a delay-only step leaves room for the draw', () => {
    const faults = new Faults(
      { errorRate: 1, faults: new Map([[SERIAL, [{ status: 429, retryAfter: '2' }, { delayMs: 5 }]]]) },
      () => 0.5,
    );
    expect(faults.next(SERIAL)).toEqual({
      delayMs: undefined,
      fault: { kind: 'scripted', step: { status: 429, retryAfter: '2' } },
    });
    expect(faults.next(SERIAL)).toEqual({ delayMs: 5, fault: { kind: 'errorRate' } });
  });

  it('gives the same faults for the same seed, and other faults for another', () => {
    const sequence = (seed: number): Array<string | undefined> => {
      const faults = new Faults(
        { chaos: Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0.05])), errorBurstLength: 2 },
        seededRandom(seed),
      );
      return kinds(faults, Array(200).fill(SERIAL));
    };
    const first = sequence(7);
    expect(new Set(first).size).toBeGreaterThan(8);
    expect(sequence(7)).toEqual(first);
    expect(sequence(8)).not.toEqual(first);
  });

  it('refuses shares out of range, shares adding up to more than 1, unknown kinds and muddled steps', () => {
    expect(() => new Faults({ chaos: { emptyOk: 1.5 } }, never)).toThrow(
      'Expected `chaos.emptyOk` to be a share from 0 to 1, got 1.5',
    );
    expect(() => new Faults({ errorRate: -0.1 }, never)).toThrow('Expected `errorRate` to be a share');
    expect(() => new Faults({ errorRate: 0.5, chaos: { objectOk: 0.3, hangAfterChange: 0.3 } }, never)).toThrow(
      'Expected `errorRate` and the `chaos` shares to add up to at most 1, got 1.1',
    );
    expect(() => new Faults({ chaos: { emptyOk: 0.1, objectOk: 0.2, otherDeviceOk: 0.7 } }, never)).not.toThrow();
    expect(() => new Faults({ chaos: { slowLoris: 0.1 } as never }, never)).toThrow(
      'Expected `chaos` to name kinds of fault (resetBeforeChange, ',
    );
    expect(() => new Faults({ faults: new Map([[SERIAL, [{ status: 500, kind: 'emptyOk' }]]]) }, never)).toThrow(
      `Expected a scripted step for ${SERIAL} to have a \`status\` or a \`kind\`, not both`,
    );
    expect(() => new Faults({ faults: new Map([[SERIAL, [{ kind: 'teapot' as never }]]]) }, never)).toThrow(
      'to be one of resetBeforeChange',
    );
    expect(() => new Faults({ errorBurstLength: 0 }, never)).toThrow(
      'Expected `errorBurstLength` to be a whole number from 1, got 0',
    );
    expect(() => new Faults({ throttleRetryAfterSeconds: 1.5 }, never)).toThrow('`throttleRetryAfterSeconds`');
  });
});

describe('parseFaultSpecs', () => {
  it('names every kind in kebab-case on the command line', () => {
    expect(FAULT_KINDS.map(faultFlagName)).toEqual([
      'reset-before-change',
      'reset-after-change',
      'hang-after-change',
      'proxy-html-502',
      'empty-ok',
      'object-ok',
      'other-device-ok',
      'throttle-seconds',
      'throttle-date',
      'throttle-no-retry-after',
      'throttle-absurd',
      'error-burst',
    ]);
  });

  it('reads KIND=SHARE values into chaos shares', () => {
    expect(parseFaultSpecs(['reset-after-change=0.02', 'proxy-html-502=0.5', 'throttle-no-retry-after=0'])).toEqual({
      resetAfterChange: 0.02,
      proxyHtml502: 0.5,
      throttleNoRetryAfter: 0,
    });
    expect(parseFaultSpecs([])).toEqual({});
  });

  it('refuses an unknown kind, a missing or bad share and a kind given twice', () => {
    for (const spec of ['resetAfterChange=0.1', 'reset-after-change', 'reset-after-change=', 'a=b=c']) {
      expect(() => parseFaultSpecs([spec])).toThrow(
        `Expected --fault to be KIND=SHARE with KIND one of reset-before-change, reset-after-change, `,
      );
    }
    expect(() => parseFaultSpecs(['empty-ok=lots'])).toThrow(
      'Expected `--fault empty-ok` to be a share from 0 to 1, got NaN',
    );
    expect(() => parseFaultSpecs(['empty-ok=0.1', 'empty-ok=0.2'])).toThrow(
      'Expected --fault empty-ok once, got it twice',
    );
  });
});
