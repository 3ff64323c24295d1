import { describe, expect, it } from 'vitest';
import { DEFAULT_FIELD_NAMES, DEFAULT_RULES } from '../../src/input/validate-row.js';
import { crossRowVerdict, type CrossRowFacts, type WellFormedRow } from '../../src/input/verdict.js';

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';
const OTHER = 'bf42b589-d2dd-601d-7848-b1a07af6750b';
const THIRD = '6c485d21-a925-6eda-6e96-480e4611b881';

const CLEAN: CrossRowFacts = {
  hasLeadingZeros: false,
  repeatedSerials: new Set(),
  conflicts: new Map(),
  usersOverLimit: new Map(),
};

const verdict = (row: WellFormedRow, facts: Partial<CrossRowFacts> = {}, rules = DEFAULT_RULES) =>
  crossRowVerdict(row, { ...CLEAN, ...facts }, rules, DEFAULT_FIELD_NAMES);

const codeOf = (row: WellFormedRow, facts: Partial<CrossRowFacts> = {}, rules = DEFAULT_RULES) => {
  const { problem, warning } = verdict(row, facts, rules);
  return problem ? problem.code : warning ? `warning ${warning.code}` : 'fine';
};

describe('crossRowVerdict', () => {
  it('passes a row the file has nothing against', () => {
    expect(verdict({ serial: '140100001', userId: USER })).toEqual({});
  });

  it('decides in order: lost zeros, conflict, repeat, too many devices, length', () => {
    const everything: Partial<CrossRowFacts> = {
      conflicts: new Map([['1401001', { userId: OTHER, line: 9 }]]),
      usersOverLimit: new Map([[USER, 6]]),
    };
    const first = { userId: USER, line: 2 };
    expect(codeOf({ serial: '1401001', userId: USER, first }, everything)).toBe('SERIAL_LEADING_ZEROS_LOST');
    const zeros = { ...everything, hasLeadingZeros: true };
    expect(codeOf({ serial: '1401001', userId: USER, first }, zeros)).toBe('CONFLICTING_ROW');
    expect(codeOf({ serial: '1401001', userId: USER, first }, { ...zeros, conflicts: new Map() })).toBe(
      'DUPLICATE_ROW',
    );
    expect(codeOf({ serial: '1401001', userId: USER }, { ...zeros, conflicts: new Map() })).toBe('TOO_MANY_DEVICES');
    expect(codeOf({ serial: '1401001', userId: USER }, { hasLeadingZeros: true })).toBe('warning SERIAL_LENGTH');
  });

  it("names the second claimant on the first user's rows, and the first row on everyone else's", () => {
    const facts = { conflicts: new Map([['140100009', { userId: OTHER, line: 10 }]]) };
    const first = { userId: USER, line: 9 };
    const naming = (userId: string, line: number) =>
      `deviceSerialNumber 140100009 is also given to another user, ${userId}, on line ${line}; a DS100 belongs ` +
      'to one user, so neither row is sent: keep the right one';
    expect(verdict({ serial: '140100009', userId: USER }, facts).problem?.message).toBe(naming(OTHER, 10));
    expect(verdict({ serial: '140100009', userId: USER, first }, facts).problem?.message).toBe(naming(OTHER, 10));
    expect(verdict({ serial: '140100009', userId: OTHER, first }, facts).problem?.message).toBe(naming(USER, 9));
    expect(verdict({ serial: '140100009', userId: THIRD, first }, facts).problem?.message).toBe(naming(USER, 9));
  });

  it('words a repeat with the line of the first row', () => {
    expect(verdict({ serial: '140100001', userId: USER, first: { userId: USER, line: 2 } }).problem).toEqual({
      code: 'DUPLICATE_ROW',
      message: 'the same device and user are already on line 2; only that line is used',
    });
  });

  it('states the exact number of devices, however many', () => {
    const facts = { usersOverLimit: new Map([[USER, 300]]) };
    expect(verdict({ serial: '140100001', userId: USER }, facts).problem).toEqual({
      code: 'TOO_MANY_DEVICES',
      message:
        `userId ${USER} is given 300 DS100s in this file; a user can have at most 5, ` +
        "so none of this user's rows is sent: keep at most 5",
    });
  });

  it('makes the length warning an error with --strict, and ignores length with --serial-length 0', () => {
    const long = { serial: '1234567890123456789', userId: USER };
    expect(verdict(long).warning?.message).toBe(
      'warning: deviceSerialNumber 1234567890123456789 has 19 digits; DS100 serials have 9',
    );
    expect(verdict(long, {}, { serialLength: 9, strict: true })).toEqual({
      problem: {
        code: 'SERIAL_LENGTH',
        message:
          'deviceSerialNumber 1234567890123456789 has 19 digits; DS100 serials have 9 (an error because of --strict)',
      },
    });
    expect(verdict(long, {}, { serialLength: 0, strict: true })).toEqual({});
    expect(verdict({ serial: '1', userId: USER }, {}, { serialLength: 0, strict: false })).toEqual({});
  });

  it('reads a short serial as lost zeros only when no serial of the file starts with 0', () => {
    expect(verdict({ serial: '40100001', userId: USER }).problem?.message).toMatch(
      /^deviceSerialNumber 40100001 has 8 digits where 9 are expected, and no serial in this file starts with 0: .*it would be 040100001/,
    );
    expect(codeOf({ serial: '40100001', userId: USER }, { hasLeadingZeros: true })).toBe('warning SERIAL_LENGTH');
  });
});
