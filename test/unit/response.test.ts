import { describe, expect, it } from 'vitest';
import { classifyEnableResponse, safeExcerpt } from '../../src/client/response.js';

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
    [404, 'NOT_FOUND'],
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
