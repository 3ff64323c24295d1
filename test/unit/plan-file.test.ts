import { describe, expect, it } from 'vitest';
import { SUCCEEDED } from '../../src/input/only-failed.js';
import { originalName } from '../../src/output/result-columns.js';
import { formatPlanTrailer, parsePlanTrailer, plannedFor, type AppliedPlan } from '../../src/input/plan-file.js';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

describe('the plan fingerprint line', () => {
  it('reads back what it wrote, a path with "; input=" in it included', () => {
    const made = { action: 'disable', rows: 12, inputSha256: SHA_A, input: '/srv/odd; input=dir/ship.csv' } as const;
    const line = formatPlanTrailer(made, SHA_B);
    expect(line.endsWith('\n')).toBe(true);
    expect(parsePlanTrailer(line)).toEqual({ ...made, planSha256: SHA_B });
  });

  it('is not recognised when a field is missing or malformed', () => {
    const good = formatPlanTrailer({ action: 'enable', rows: 1, inputSha256: SHA_A, input: 'in.csv' }, SHA_B);
    expect(parsePlanTrailer(good)).toBeDefined();
    expect(parsePlanTrailer(good.replace('action=enable', 'action=delete'))).toBeUndefined();
    expect(parsePlanTrailer(good.replace(SHA_A, 'abc'))).toBeUndefined();
    expect(parsePlanTrailer(good.replace('rows=1', 'rows=x'))).toBeUndefined();
    expect(parsePlanTrailer(good.replace('; input=in.csv', ''))).toBeUndefined();
    expect(parsePlanTrailer('2,140100001,...')).toBeUndefined();
  });
});

describe('what a plan says to do with a row', () => {
  const plan: AppliedPlan = {
    action: 'enable',
    rows: 3,
    inputSha256: SHA_A,
    input: 'in.csv',
    file: 'plan.csv',
    rowsByLine: new Map([
      [2, { deviceSerialNumber: '140100001', userId: 'u-resolved', outcome: 'would-enable', planLine: 3 }],
      [3, { deviceSerialNumber: '140100002', userId: 'u2', outcome: 'not-registered', planLine: 2 }],
    ]),
  };
  const row = (line: number, serial: string) => ({ line, deviceSerialNumber: serial, userId: '', carried: [] });

  it('sends a would-enable row with the user the plan looked it up for', () => {
    expect(plannedFor(plan, row(2, '140100001'))).toEqual({ send: true, userId: 'u-resolved' });
  });

  it('leaves any other row with the plan verdict and the plan line', () => {
    expect(plannedFor(plan, row(3, '140100002'))).toEqual({
      send: false,
      outcome: 'not-registered',
      why: 'the plan said not-registered (plan.csv line 2); not sent',
    });
    expect(plannedFor(plan, row(4, '140100003'))).toMatchObject({
      send: false,
      why: 'the plan has no row for input line 4',
    });
    expect(plannedFor(plan, row(2, '140100009'))).toMatchObject({
      send: false,
      why: expect.stringContaining('another device'),
    });
    // A disable plan's rows are not an enable plan's.
    expect(plannedFor({ ...plan, action: 'disable' }, row(2, '140100001'))).toMatchObject({ send: false });
  });
});

describe('--only-failed', () => {
  it('gives carried columns back the names they had in the input', () => {
    expect(originalName('input.outcome')).toBe('outcome');
    expect(originalName('input.Line')).toBe('Line');
    expect(originalName('input.site')).toBe('input.site');
    expect(originalName('site')).toBe('site');
  });

  it('counts only finished changes and confirmed states as success', () => {
    expect([...SUCCEEDED].sort()).toEqual(['already-disabled', 'already-enabled', 'disabled', 'enabled', 'unchanged']);
  });
});
