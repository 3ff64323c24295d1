import { describe, expect, it } from 'vitest';
import { checkSerial, checkUserId, validateRow } from '../../src/input/validate-row.js';

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';

describe('checkSerial', () => {
  it.each(['140100080', '000000001', '1'.repeat(36)])('accepts %s', (serial) => {
    expect(checkSerial(serial)).toBeUndefined();
  });

  it.each([
    ['', 'MISSING_SERIAL'],
    ['   ', 'MISSING_SERIAL'],
    ['1.40100E+08', 'SERIAL_SCIENTIFIC_NOTATION'],
    ['1.401E8', 'SERIAL_SCIENTIFIC_NOTATION'],
    ['1E+08', 'SERIAL_SCIENTIFIC_NOTATION'],
    [' 140100080', 'SERIAL_STRAY_CHARACTERS'],
    ['140100080 ', 'SERIAL_STRAY_CHARACTERS'],
    ['14010008O', 'INVALID_SERIAL'],
    ['140-100-080', 'INVALID_SERIAL'],
    ['1'.repeat(37), 'INVALID_SERIAL'],
  ])('rejects %j as %s', (serial, code) => {
    expect(checkSerial(serial)?.code).toBe(code);
  });

  it('tells the administrator how to fix scientific notation', () => {
    expect(checkSerial('1.40100E+08')?.message).toMatch(/format the column as text/);
  });
});

describe('checkUserId', () => {
  it.each([USER, USER.toUpperCase()])('accepts %s (hex shape only, any version digit)', (userId) => {
    expect(checkUserId(userId)).toBeUndefined();
  });

  it.each([
    ['', 'MISSING_USER_ID'],
    [` ${USER}`, 'USER_ID_STRAY_CHARACTERS'],
    ['ece30fe9414c753654030656220b3046', 'INVALID_USER_ID'],
    ['ece30fe9-414c-7536-5403-0656220b304g', 'INVALID_USER_ID'],
    ['jane.doe@example.com', 'INVALID_USER_ID'],
  ])('rejects %j as %s', (userId, code) => {
    expect(checkUserId(userId)?.code).toBe(code);
  });

  it('calls out an email address for what it is', () => {
    expect(checkUserId('jane.doe@example.com')?.message).toMatch(/looks like an email address/);
  });

  it('says what is stray when the ID is otherwise fine', () => {
    expect(checkUserId(`${USER} `)?.message).toMatch(/has .*space.*; it should be exactly ece30fe9-/);
  });
});

describe('validateRow', () => {
  const fields = { serial: '140100080', userId: USER, fieldCount: 3, expectedFieldCount: 3 };

  it('passes a good row', () => {
    expect(validateRow(fields)).toBeUndefined();
  });

  it('reports the field count before anything else', () => {
    const problem = validateRow({ ...fields, serial: 'x', fieldCount: 2 });
    expect(problem).toEqual({ code: 'WRONG_FIELD_COUNT', message: 'the row has 2 fields but the header has 3' });
  });

  it('checks the serial before the user ID', () => {
    expect(validateRow({ ...fields, serial: '', userId: 'bad' })?.code).toBe('MISSING_SERIAL');
    expect(validateRow({ ...fields, userId: 'bad' })?.code).toBe('INVALID_USER_ID');
  });
});
