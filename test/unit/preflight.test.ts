import { describe, expect, it } from 'vitest';
import type { AttemptOutcome } from '../../src/client/response.js';
import { preflightProblem } from '../../src/pipeline/preflight.js';
import type { FailureCode } from '../../src/types.js';

const BASE = 'https://example.access.securid.com/AdminInterface/restapi/';
const failed = (code: FailureCode, message: string, httpStatus?: number): AttemptOutcome => ({
  ok: false,
  code,
  message,
  httpStatus,
});

describe('preflightProblem', () => {
  it('passes a tenant that answers as the API does: a credential, the API 404, even a 400', () => {
    const token = {
      tokenSerialNumber: '1',
      tokenStatus: 'Enabled',
      tokenStatusChangedAt: '',
      tokenStatusChangedBy: '',
    };
    expect(preflightProblem({ ok: true, httpStatus: 200, token, userId: 'u' }, BASE)).toBeUndefined();
    expect(preflightProblem(failed('NOT_FOUND', 'DS100 not found', 404), BASE)).toBeUndefined();
    expect(preflightProblem(failed('BAD_REQUEST', 'Wrong number of properties', 400), BASE)).toBeUndefined();
    // Stopped before it was sent: the run itself records every row not-attempted.
    expect(preflightProblem(undefined, BASE)).toBeUndefined();
  });

  it.each([
    [
      failed('ENDPOINT_NOT_FOUND', '404 without the API error body', 404),
      /has no DS100 API: .*ends in "\/AdminInterface\/restapi\/"/,
    ],
    [
      failed('BAD_RESPONSE', 'the 200 response is not JSON: Sign in', 200),
      /not the API's JSON .*HTML login page or a proxy page/,
    ],
    [failed('FORBIDDEN', 'Server failed to process provided access token', 403), /refused the credentials .*revoked/],
    [failed('NETWORK_ERROR', 'ECONNREFUSED'), /cannot be reached \(ECONNREFUSED\) after every retry/],
    [failed('TIMEOUT', 'no complete response within the timeout'), /cannot be reached \(no complete response/],
    [failed('SERVER_ERROR', 'An internal error occurred.', 503), /kept answering 503 .*try again later/],
    [
      failed('TLS_ERROR', 'SELF_SIGNED_CERT_IN_CHAIN: not trusted; set NODE_EXTRA_CA_CERTS'),
      /cannot be used: SELF_SIGNED/,
    ],
    [
      failed('UNEXPECTED_STATUS', 'redirect to https://login.example/ not followed; check the base URL', 302),
      /redirect to https:\/\/login/,
    ],
  ])('names what is probably wrong: %o', (outcome, message) => {
    const problem = preflightProblem(outcome, BASE);
    expect(problem).toMatch(message);
    expect(problem).toContain(`the tenant at ${BASE}`);
  });
});
