import { describe, expect, it } from 'vitest';
import { mapColumns } from '../../src/input/columns.js';
import { Ds100Error } from '../../src/errors.js';

describe('mapColumns', () => {
  it('finds the canonical names and carries the others through in order', () => {
    expect(mapColumns(['site', 'deviceSerialNumber', 'ticket', 'userId'], 'in.csv')).toEqual({
      serialIndex: 1,
      userIdIndex: 3,
      width: 4,
      carriedIndexes: [0, 2],
      carriedNames: ['site', 'ticket'],
    });
  });

  it.each([
    ['DEVICESERIALNUMBER', 'USERID'],
    ['serial', 'user_id'],
    ['Serial Number', 'User ID'],
    ['device_serial', 'userid'],
    ['serial_no', 'userUuid'],
    ['DS100 Serial', 'user-id'],
  ])('recognises %j and %j', (serial, user) => {
    const columns = mapColumns([serial, user], 'in.csv');
    expect([columns.serialIndex, columns.userIdIndex]).toEqual([0, 1]);
  });

  it('names the file, the line and both lists of aliases when there is neither a user ID nor an email column', () => {
    expect(() => mapColumns(['serial', 'name'], 'in.csv')).toThrow(
      /^in\.csv: line 1: the header has no user ID or email column \(looked for userId, user_id, userid, userUuid, or email, e-mail, mail, emailAddress, userEmail, userPrincipalName, upn, in any case\); found: "serial", "name"$/,
    );
  });

  it.each(['email', 'E-Mail', 'mail', 'emailAddress', 'Email Address', 'userEmail', 'userPrincipalName', 'UPN'])(
    'takes %j as the email column of a file without user IDs, and carries it too',
    (name) => {
      expect(mapColumns(['serial', name, 'site'], 'in.csv')).toEqual({
        serialIndex: 0,
        userIdIndex: -1,
        emailIndex: 1,
        width: 3,
        carriedIndexes: [1, 2],
        carriedNames: [name, 'site'],
      });
    },
  );

  it('uses the user ID column when there is an email column too, and only carries the address', () => {
    const columns = mapColumns(['mail', 'serial', 'userId'], 'in.csv');
    expect(columns).toMatchObject({ serialIndex: 1, userIdIndex: 2, carriedNames: ['mail'] });
    expect(columns.emailIndex).toBeUndefined();
  });

  it('carries two email columns next to a user ID column, and refuses them without one', () => {
    expect(mapColumns(['serial', 'userId', 'email', 'upn'], 'in.csv').carriedNames).toEqual(['email', 'upn']);
    expect(() => mapColumns(['serial', 'email', 'upn'], 'in.csv')).toThrow(
      /^in\.csv: line 1: the header has more than one email column: "email" \(column 2\) and "upn" \(column 3\); keep one$/,
    );
  });

  it('refuses two serial columns instead of guessing', () => {
    expect(() => mapColumns(['serial', 'deviceSerialNumber', 'userId'], 'in.csv')).toThrow(
      /more than one device serial column/,
    );
  });

  it('recognises a data row where the header should be', () => {
    expect(() => mapColumns(['140100080', 'ece30fe9-414c-7536-5403-0656220b3046'], 'in.csv')).toThrow(
      /line 1 looks like data, not a header/,
    );
  });

  it('throws an INPUT_FILE Ds100Error', () => {
    try {
      mapColumns(['a', 'b'], 'in.csv');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(Ds100Error);
      expect((error as Ds100Error).code).toBe('INPUT_FILE');
    }
  });

  it('gives unnamed carried columns a name', () => {
    expect(mapColumns(['serial', 'userId', ''], 'in.csv').carriedNames).toEqual(['column3']);
  });
});
