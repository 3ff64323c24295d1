import { describe, expect, it } from 'vitest';
import { classifyLookupResponse } from '../../src/client/response.js';
import { planResult } from '../../src/commands/plan.js';
import type { InputRow } from '../../src/types.js';

const row: InputRow = {
  line: 2,
  deviceSerialNumber: '140100080',
  userId: 'ece30fe9-414c-7536-5403-0656220b3046',
  carried: [],
};
const record = (fields: Record<string, string>) =>
  JSON.stringify([
    {
      userId: 'ECE30FE9-414C-7536-5403-0656220B3046',
      tokenSerialNumber: '014010008031',
      tokenStatus: 'Disabled',
      deviceSerialNumber: '140100080',
      deviceType: 'SecurID DS100',
      ...fields,
    },
  ]);
const plan = (status: number, body: string) =>
  planResult(row, { outcome: classifyLookupResponse({ status, body }, row.deviceSerialNumber), attempts: 1 });

describe('plan: lookup outcome to what a run would do', () => {
  it('registered to this user (any case), not enabled: would-enable', () => {
    expect(plan(200, record({}))).toMatchObject({
      outcome: 'would-enable',
      token: { tokenSerialNumber: '014010008031' },
    });
  });
  it('already enabled: already-enabled', () => {
    expect(plan(200, record({ tokenStatus: 'Enabled' })).outcome).toBe('already-enabled');
  });
  it('registered to someone else: registered-to-other-user, naming the owner', () => {
    const result = plan(200, record({ userId: '11111111-2222-3333-4444-555555555555' }));
    expect(result.outcome).toBe('registered-to-other-user');
    expect(result.errorMessage).toContain('11111111-2222-3333-4444-555555555555');
  });
  it('404 or an empty array: not-registered', () => {
    expect(plan(404, '{"code":"404 NOT_FOUND","description":"DS100 not found"}')).toMatchObject({
      outcome: 'not-registered',
      httpStatus: 404,
      errorMessage: 'DS100 not found',
    });
    expect(plan(200, '[]').outcome).toBe('not-registered');
  });
  it("the lookup's own failure: failed with its code", () => {
    expect(plan(403, '{"message":"Server failed to process provided access token"}')).toMatchObject({
      outcome: 'failed',
      errorCode: 'FORBIDDEN',
    });
    expect(plan(200, '{"not":"an array"}')).toMatchObject({ outcome: 'failed', errorCode: 'BAD_RESPONSE' });
  });
});
