import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/pipeline/circuit-breaker.js';

const forbidden = { outcome: 'failed', errorCode: 'FORBIDDEN' } as const;
const enabled = { outcome: 'enabled' } as const;
const notFound = { outcome: 'failed', errorCode: 'NOT_FOUND' } as const;
const invalid = { outcome: 'invalid', errorCode: 'INVALID_SERIAL' } as const;

describe('CircuitBreaker', () => {
  it('trips on the Nth refused row in a row', () => {
    const breaker = new CircuitBreaker({ maxConsecutiveForbidden: 3, failureRateMinRows: 100 });
    expect(breaker.observe(forbidden)).toBeUndefined();
    expect(breaker.observe(forbidden)).toBeUndefined();
    expect(breaker.observe(forbidden)).toMatchObject({
      code: 'RUN_ABORTED',
      message: expect.stringMatching(/3 rows in a row were refused/),
    });
  });

  it('a sent row that was not refused resets the count; rows never sent do not', () => {
    const breaker = new CircuitBreaker({ maxConsecutiveForbidden: 2, failureRateMinRows: 100 });
    breaker.observe(forbidden);
    expect(breaker.observe(enabled)).toBeUndefined();
    breaker.observe(forbidden);
    expect(breaker.observe(invalid)).toBeUndefined();
    expect(breaker.observe({ outcome: 'failed', errorCode: 'TOKEN_ERROR' })).toMatchObject({ code: 'RUN_ABORTED' });
  });

  it("every command's successes count as sent rows: they reset the count and dilute the failure rate", () => {
    const timeout = { outcome: 'failed', errorCode: 'TIMEOUT', attempts: 6 } as const;
    const breaker = new CircuitBreaker({
      maxConsecutiveForbidden: 2,
      maxFailureRatePercent: 60,
      failureRateMinRows: 4,
    });
    for (const success of ['disabled', 'already-enabled', 'already-disabled', 'would-disable', 'unchanged'] as const) {
      expect(breaker.observe(timeout)).toBeUndefined();
      expect(breaker.observe({ outcome: success, attempts: 1 })).toBeUndefined();
    }
    // A row the ledger or a plan settled was never sent: it neither resets the count nor dilutes the rate.
    expect(breaker.observe(timeout)).toBeUndefined();
    expect(breaker.observe({ outcome: 'already-enabled', attempts: 0 })).toBeUndefined();
    expect(breaker.observe(timeout)).toMatchObject({
      code: 'RUN_ABORTED',
      message: expect.stringMatching(/2 rows in a row got no answer/),
    });
  });

  it('0 turns the 403 breaker off', () => {
    const breaker = new CircuitBreaker({ maxConsecutiveForbidden: 0, failureRateMinRows: 100 });
    for (let index = 0; index < 50; index++) expect(breaker.observe(forbidden)).toBeUndefined();
  });

  it('judges the failure rate only after the minimum number of sent rows', () => {
    const breaker = new CircuitBreaker({
      maxConsecutiveForbidden: 0,
      maxFailureRatePercent: 50,
      failureRateMinRows: 4,
    });
    expect(breaker.observe(notFound)).toBeUndefined();
    expect(breaker.observe(notFound)).toBeUndefined();
    expect(breaker.observe(invalid)).toBeUndefined(); // not sent: not counted
    expect(breaker.observe(enabled)).toBeUndefined();
    // 3 of 4 sent rows failed: 75% > 50%
    expect(breaker.observe(notFound)).toMatchObject({
      code: 'RUN_ABORTED',
      message: expect.stringMatching(
        /3 of the 4 rows sent so far failed \(75\.0%\), more than the maximum failure rate of 50%/,
      ),
    });
  });

  it('a failure rate at the limit does not trip it', () => {
    const breaker = new CircuitBreaker({
      maxConsecutiveForbidden: 0,
      maxFailureRatePercent: 50,
      failureRateMinRows: 2,
    });
    breaker.observe(enabled);
    expect(breaker.observe(notFound)).toBeUndefined();
  });
});
