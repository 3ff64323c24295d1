import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, decideRetry } from '../../src/client/retry-policy.js';

const policy = { ...DEFAULT_RETRY_POLICY, retries: 2 };
const half = (): number => 0.5;

describe('decideRetry after a 403', () => {
  it('retries at once when the token was renewed and it is the first 403 of the row', () => {
    expect(decideRetry({ code: 'FORBIDDEN', isTokenRenewed: true }, 1, policy, half, 1)).toEqual({
      retry: true,
      delayMs: 0,
    });
  });

  it('does not retry a second 403', () => {
    expect(decideRetry({ code: 'FORBIDDEN', isTokenRenewed: true }, 2, policy, half, 2)).toEqual({ retry: false });
  });

  it('does not retry when the token cannot be renewed (a fixed DS100_TOKEN)', () => {
    expect(decideRetry({ code: 'FORBIDDEN' }, 1, policy, half, 1)).toEqual({ retry: false });
  });

  it('retries once even with --retries 0: renewal is not a transient retry', () => {
    expect(decideRetry({ code: 'FORBIDDEN', isTokenRenewed: true }, 1, { ...policy, retries: 0 }, half, 1)).toEqual({
      retry: true,
      delayMs: 0,
    });
  });

  it('the renewal retry does not use up the transient retries', () => {
    // 403 then 500 then 500: two attempts after the 403, i.e. transient attempts 1 and 2 of 2 retries.
    expect(decideRetry({ code: 'SERVER_ERROR' }, 3, policy, half, 1)).toMatchObject({ retry: true });
    expect(decideRetry({ code: 'SERVER_ERROR' }, 4, policy, half, 1)).toEqual({ retry: false });
  });
});
