import { describe, expect, it } from 'vitest';
import type { AttemptSuccess } from '../../src/client/response.js';
import { decideRetry, DEFAULT_RETRY_POLICY } from '../../src/client/retry-policy.js';
import { enableResult, isEnabledFor } from '../../src/commands/enable.js';
import { CircuitBreaker } from '../../src/pipeline/circuit-breaker.js';
import { confirmationOf } from '../../src/pipeline/lost-answer.js';
import type { InputRow } from '../../src/types.js';

const row: InputRow = {
  line: 2,
  deviceSerialNumber: '140100080',
  userId: 'ece30fe9-414c-7536-5403-0656220b3046',
  carried: [],
};
const credential = (tokenStatus: string, userId = row.userId): AttemptSuccess => ({
  ok: true,
  httpStatus: 200,
  userId,
  token: { tokenSerialNumber: '014010008031', tokenStatus, tokenStatusChangedAt: '', tokenStatusChangedBy: '' },
});

describe('isEnabledFor: what a lookup must show for a lost enable to count as made', () => {
  it('the credential enabled for this user (the ID in any case); not disabled, not another user', () => {
    expect(isEnabledFor(row, credential('Enabled'))).toBe(true);
    expect(isEnabledFor(row, credential('Enabled', row.userId.toUpperCase()))).toBe(true);
    expect(isEnabledFor(row, credential('Disabled'))).toBe(false);
    expect(isEnabledFor(row, credential('Enabled', 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'))).toBe(false);
  });
});

describe('confirmationOf', () => {
  it('done, not done, or nobody can tell, with the lookup requests counted', () => {
    expect(confirmationOf(row, { outcome: credential('Enabled'), attempts: 1 }, isEnabledFor)).toEqual({
      isDone: true,
      found: credential('Enabled'),
      attempts: 1,
    });
    expect(confirmationOf(row, { outcome: credential('Disabled'), attempts: 2 }, isEnabledFor)).toEqual({
      isDone: false,
      attempts: 2,
    });
    const notFound = { ok: false, code: 'NOT_FOUND', message: 'not found', httpStatus: 404 } as const;
    expect(confirmationOf(row, { outcome: notFound, attempts: 1 }, isEnabledFor)).toEqual({
      isDone: false,
      attempts: 1,
    });
    const down = { ok: false, code: 'NETWORK_ERROR', message: 'ECONNREFUSED' } as const;
    expect(confirmationOf(row, { outcome: down, attempts: 6 }, isEnabledFor)).toEqual({
      isDone: undefined,
      why: 'the lookup that would tell failed too (NETWORK_ERROR: ECONNREFUSED)',
      attempts: 6,
    });
    expect(confirmationOf(row, { outcome: undefined, attempts: 0 }, isEnabledFor)).toEqual({
      isDone: undefined,
      why: 'the run stopped before a lookup could tell',
      attempts: 0,
    });
  });
});

describe('enableResult', () => {
  it('says when an enabled row was confirmed by a lookup after its answer was lost', () => {
    const outcome = { ...credential('Enabled'), lostAnswer: 'ECONNRESET' };
    const result = enableResult(row, { outcome, attempts: 2 }, Date.now());
    expect(result).toMatchObject({
      outcome: 'enabled',
      errorCode: undefined,
      errorMessage: 'the answer was lost (ECONNRESET); a lookup confirmed the credential is enabled',
      attempts: 2,
    });
  });

  it('an outcome nobody could settle is unknown, not failed', () => {
    const outcome = { ok: false, code: 'UNKNOWN_OUTCOME', message: 'the answer was lost (x) and y' } as const;
    expect(enableResult(row, { outcome, attempts: 7 }, Date.now())).toMatchObject({
      outcome: 'unknown',
      errorCode: 'UNKNOWN_OUTCOME',
    });
  });
});

describe('decideRetry for a lost answer', () => {
  it('retries an unreadable 200 once a lookup found the change not made, within the same budget', () => {
    const lost = { code: 'BAD_RESPONSE', isAnswerLost: true } as const;
    expect(decideRetry(lost, 1, DEFAULT_RETRY_POLICY, () => 0.5)).toEqual({ retry: true, delayMs: 750 });
    expect(decideRetry(lost, 6, DEFAULT_RETRY_POLICY, () => 0.5)).toEqual({ retry: false });
    expect(decideRetry({ code: 'BAD_RESPONSE' }, 1, DEFAULT_RETRY_POLICY)).toEqual({ retry: false });
    expect(decideRetry({ code: 'UNKNOWN_OUTCOME' }, 1, DEFAULT_RETRY_POLICY)).toEqual({ retry: false });
  });
});

describe('CircuitBreaker and runs that cannot succeed', () => {
  it.each([
    ['NETWORK_ERROR', 'failed', /could not reach the tenant/],
    ['TIMEOUT', 'failed', /no answer from the tenant within --timeout/],
    ['ENDPOINT_NOT_FOUND', 'failed', /base URL is probably not/],
    ['UNKNOWN_OUTCOME', 'unknown', /lost their answers and the lookups .* failed too/],
  ] as const)('trips on %s rows in a row', (errorCode, outcome, message) => {
    const breaker = new CircuitBreaker({ maxConsecutiveForbidden: 3, failureRateMinRows: 100 });
    expect(breaker.observe({ outcome, errorCode })).toBeUndefined();
    expect(breaker.observe({ outcome, errorCode })).toBeUndefined();
    expect(breaker.observe({ outcome, errorCode })).toMatchObject({ code: 'RUN_ABORTED', message });
  });

  it('counts unknown rows as not successful for --max-failure-rate', () => {
    const breaker = new CircuitBreaker({
      maxConsecutiveForbidden: 0,
      maxFailureRatePercent: 40,
      failureRateMinRows: 2,
    });
    expect(breaker.observe({ outcome: 'enabled' })).toBeUndefined();
    expect(breaker.observe({ outcome: 'unknown', errorCode: 'UNKNOWN_OUTCOME' })).toMatchObject({
      message: expect.stringMatching(/1 of the 2 rows sent so far failed \(50\.0%\)/),
    });
  });
});
