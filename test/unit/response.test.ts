import { describe, expect, it } from 'vitest';
import { classifyEnableResponse, isApiNotFound, safeExcerpt } from '../../src/client/response.js';

const pair = { deviceSerialNumber: '140100080', userId: 'ece30fe9-414c-7536-5403-0656220b3046' };
const record = {
  userId: pair.userId,
  tokenSerialNumber: '014010008031',
  tokenStatus: 'Enabled',
  tokenStatusChangedAt: '2022-05-24T07:30:55.856Z',
  tokenStatusChangedBy: 'admin',
  deviceSerialNumber: pair.deviceSerialNumber,
};

describe('classifyEnableResponse', () => {
  it('reads the documented array', () => {
    expect(classifyEnableResponse({ status: 200, body: JSON.stringify([record]) }, pair)).toEqual({
      ok: true,
      httpStatus: 200,
      token: {
        tokenSerialNumber: '014010008031',
        tokenStatus: 'Enabled',
        tokenStatusChangedAt: '2022-05-24T07:30:55.856Z',
        tokenStatusChangedBy: 'admin',
      },
    });
  });

  it("picks this device's element out of several", () => {
    const other = { ...record, deviceSerialNumber: '999999999', tokenSerialNumber: '099999999911' };
    const outcome = classifyEnableResponse({ status: 200, body: JSON.stringify([other, record]) }, pair);
    expect(outcome.ok && outcome.token.tokenSerialNumber).toBe('014010008031');
  });

  it.each([
    ['{"not":"an array"}', /not the documented JSON array/],
    ['[]', /empty array/],
    ['[{"tokenStatus":"Enabled"}]', /no tokenSerialNumber/],
    ['<html>oops</html>', /not JSON/],
  ])('calls a 200 with body %j a BAD_RESPONSE', (body, message) => {
    const outcome = classifyEnableResponse({ status: 200, body }, pair);
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.code).toBe('BAD_RESPONSE');
    expect(!outcome.ok && outcome.message).toMatch(message);
  });

  it('does not call a credential enabled when the service says otherwise', () => {
    const body = JSON.stringify([{ ...record, tokenStatus: 'Disabled' }]);
    const outcome = classifyEnableResponse({ status: 200, body }, pair);
    expect(!outcome.ok && outcome.message).toMatch(/tokenStatus is "Disabled"/);
  });

  it.each([
    [400, 'BAD_REQUEST'],
    [403, 'FORBIDDEN'],
    [404, 'ENDPOINT_NOT_FOUND'], // an empty 404 is not the API's own
    [429, 'RATE_LIMITED'],
    [500, 'SERVER_ERROR'],
    [503, 'SERVER_ERROR'],
    [401, 'UNEXPECTED_STATUS'],
    [302, 'UNEXPECTED_STATUS'],
  ])('maps %i to %s', (status, code) => {
    const outcome = classifyEnableResponse({ status, body: '' }, pair);
    expect(!outcome.ok && outcome.code).toBe(code);
    expect(outcome.httpStatus).toBe(status);
  });

  it.each([
    [
      'the documented body',
      '{"code": "404 NOT_FOUND", "description": "User john.doe@example.com not found"}',
      'NOT_FOUND',
    ],
    ['a description only', '{"code": "404", "description": "DS100 with serial number 1 not found"}', 'NOT_FOUND'],
    [
      "Spring's no-such-route body",
      '{"timestamp":1,"status":404,"error":"Not Found","path":"/x"}',
      'ENDPOINT_NOT_FOUND',
    ],
    ['an HTML page', '<html><body><h1>404 Not Found</h1></body></html>', 'ENDPOINT_NOT_FOUND'],
    ['plain text', 'Not Found', 'ENDPOINT_NOT_FOUND'],
  ])("tells the API's 404 from a wrong path: %s", (_, body, code) => {
    const outcome = classifyEnableResponse({ status: 404, body }, pair);
    expect(!outcome.ok && outcome.code).toBe(code);
    if (code === 'ENDPOINT_NOT_FOUND')
      expect(!outcome.ok && outcome.message).toMatch(/^404 without the API's error body \(/);
    expect(isApiNotFound(body)).toBe(code === 'NOT_FOUND');
  });

  it.each([
    ['an unreadable 200', 200, '<html>login</html>', true],
    ['a 200 for another device', 200, JSON.stringify([{ ...record, deviceSerialNumber: '999999999' }]), true],
    ['a 200 whose credential is not Enabled', 200, JSON.stringify([{ ...record, tokenStatus: 'Disabled' }]), true],
    ['a gateway 502', 502, '<html>Bad Gateway</html>', true],
    ['a gateway 504', 504, '', true],
    ['a 500 from the service', 500, '{"code":"500 INTERNAL_SERVER_ERROR","description":"x"}', false],
    ['a 503', 503, '', false],
    ['a 429', 429, '', false],
  ])('marks %s as a lost answer: %s', (_, status, body, isLost) => {
    const outcome = classifyEnableResponse({ status, body }, pair);
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.isAnswerLost === true).toBe(isLost);
  });

  it('keeps the service description and the Retry-After', () => {
    const body = '{"code": "404 NOT_FOUND", "description": "User john.doe@example.com not found"}';
    expect(classifyEnableResponse({ status: 429, body, retryAfterMs: 2000 }, pair)).toEqual({
      ok: false,
      code: 'RATE_LIMITED',
      httpStatus: 429,
      message: 'User john.doe@example.com not found',
      retryAfterMs: 2000,
    });
  });

  it('says a redirect was not followed and where it pointed', () => {
    const outcome = classifyEnableResponse({ status: 301, body: '', location: 'https://elsewhere.example/' }, pair);
    expect(!outcome.ok && outcome.message).toBe(
      'redirect to https://elsewhere.example/ not followed; check the base URL',
    );
  });
});

describe('safeExcerpt', () => {
  it('prefers description, then message, of a JSON error body', () => {
    expect(safeExcerpt('{"description":"d","message":"m"}')).toBe('d');
    expect(
      safeExcerpt(
        '{"timestamp":1,"status":403,"error":"Forbidden","message":"Server failed to process provided access token"}',
      ),
    ).toBe('Server failed to process provided access token');
  });

  it('strips a proxy HTML page to its text', () => {
    const page = '<html><head><style>p{}</style></head><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>';
    expect(safeExcerpt(page)).toBe('502 Bad Gateway nginx');
  });

  it('keeps one short line', () => {
    const text = safeExcerpt(`a\r\nb\u001b[31m${'x'.repeat(500)}`);
    for (const control of ['\r', '\n', '\u001b']) expect(text).not.toContain(control);
    expect(text.length).toBe(200);
    expect(text.endsWith('…')).toBe(true);
  });

  it('blots out secrets that a server echoes back', () => {
    expect(safeExcerpt('{"message":"bad token abc.def.ghi"}', ['abc.def.ghi'])).toBe('bad token [redacted]');
  });
});
