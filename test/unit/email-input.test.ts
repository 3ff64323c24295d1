import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openInput, type ReadItem } from '../../src/input/open-input.js';
import { checkEmail, validateRow } from '../../src/input/validate-row.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

/** Files that name their users by email address: the offline checks of one row and across rows. */

async function readAll(text: string): Promise<ReadItem[]> {
  const input = await openInput(writeFile(tempDir(), 'emails.csv', text));
  const all: ReadItem[] = [];
  for await (const item of input.items) all.push(item);
  return all;
}

const verdicts = (items: readonly ReadItem[]) =>
  items.map((item) => [item.row.line, item.kind === 'invalid' ? item.problem.code : 'row']);

describe('checkEmail', () => {
  it.each([
    'user.one@example.com',
    'User.One@Example.COM',
    "o'brien@example.co.uk",
    'first+tag@sub.example.org',
    `${'a'.repeat(64)}@${'b'.repeat(185)}.com`, // 254 characters
  ])('accepts %j', (email) => {
    expect(checkEmail(email)).toBeUndefined();
  });

  it.each([
    ['', 'MISSING_EMAIL'],
    ['   ', 'MISSING_EMAIL'],
    [' user.one@example.com', 'EMAIL_STRAY_CHARACTERS'],
    ['user.one@example.com\u200b', 'EMAIL_STRAY_CHARACTERS'],
    ['"user.one@example.com"', 'EMAIL_STRAY_CHARACTERS'],
    ['<user.one@example.com>', 'EMAIL_STRAY_CHARACTERS'],
    ['user.one', 'INVALID_EMAIL'],
    ['user.one@example', 'INVALID_EMAIL'],
    ['user@@example.com', 'INVALID_EMAIL'],
    ['a@b@example.com', 'INVALID_EMAIL'],
    ['@example.com', 'INVALID_EMAIL'],
    ['user one@example.com', 'INVALID_EMAIL'],
    ['user@example..com', 'INVALID_EMAIL'],
    ['user@.example.com', 'INVALID_EMAIL'],
    [`${'a'.repeat(64)}@${'b'.repeat(186)}.com`, 'INVALID_EMAIL'], // 255 characters
  ])('rejects %j as %s', (email, code) => {
    expect(checkEmail(email)?.code).toBe(code);
  });

  it('says what to fix, in the column name of the file', () => {
    expect(checkEmail(' a@example.com', 'mail')?.message).toBe(
      'mail " a@example.com" has spaces around it; it should be exactly a@example.com',
    );
    expect(checkEmail('<a@example.com>', 'upn')?.message).toMatch(
      /has angle brackets; it should be exactly a@example.com$/,
    );
    expect(checkEmail('nobody', 'email')?.message).toBe(
      'email "nobody" is not an email address (expected one @, a name before it and a domain with a dot after it, e.g. user.one@example.com)',
    );
    expect(checkEmail('ece30fe9-414c-7536-5403-0656220b3046')?.message).toMatch(
      /looks like a user ID: name the column userId$/,
    );
    expect(checkEmail(`${'a'.repeat(250)}@x.com`)?.message).toBe(
      'email is 256 characters long; an email address has at most 254',
    );
  });

  it('is what validateRow checks instead of the user ID in a file of addresses', () => {
    const names = { serial: 'serial', userId: 'mail', email: 'mail' };
    const row = { serial: '140100080', userId: '', fieldCount: 2, expectedFieldCount: 2 };
    expect(validateRow({ ...row, email: 'a@example.com' }, names)).toBeUndefined();
    expect(validateRow({ ...row, email: 'nobody' }, names)?.message).toMatch(/^mail "nobody" is not an email address/);
    expect(validateRow({ ...row, email: '' }, names)?.code).toBe('MISSING_EMAIL');
    // The serial is still checked first.
    expect(validateRow({ ...row, serial: '', email: 'nobody' }, names)?.code).toBe('MISSING_SERIAL');
  });
});

describe('a file of email addresses, read and judged', () => {
  it('gives rows their address, no user ID yet, and the address as a carried column', async () => {
    const [item] = await readAll('deviceSerialNumber,Email Address,site\n140100080,User.One@example.com,Berlin\n');
    expect(item).toEqual({
      kind: 'row',
      row: {
        line: 2,
        deviceSerialNumber: '140100080',
        userId: '',
        email: 'User.One@example.com',
        carried: ['User.One@example.com', 'Berlin'],
      },
      warning: undefined,
    });
  });

  it('keys the rules across rows on the address, without case', async () => {
    const devices = Array.from(
      { length: 6 },
      (_, index) => `14020000${index},${index % 2 ? 'Six' : 'six'}@Example.com`,
    );
    const items = await readAll(
      [
        'serial,mail',
        '140100001,a@example.com', // line 2
        '140100001,A@EXAMPLE.COM', // line 3: the same user again
        '140100002,b@example.com', // line 4
        '140100002,c@example.com', // line 5: the serial of line 4 for another user
        ...devices, // lines 6-11: six DS100s for one user
      ].join('\n'),
    );
    expect(verdicts(items)).toEqual([
      [2, 'row'],
      [3, 'DUPLICATE_ROW'],
      [4, 'CONFLICTING_ROW'],
      [5, 'CONFLICTING_ROW'],
      ...devices.map((_, index) => [6 + index, 'TOO_MANY_DEVICES']),
    ]);
    const message = (line: number) => {
      const item = items.find((found) => found.row.line === line);
      return item?.kind === 'invalid' ? item.problem.message : undefined;
    };
    expect(message(4)).toMatch(/^serial 140100002 is also given to another user, c@example.com, on line 5/);
    expect(message(6)).toMatch(/^mail six@example.com is given 6 DS100s in this file/);
  });

  it('uses the user ID column when there is one, and only carries the address', async () => {
    const items = await readAll('serial,email,userId\n140100001,not an address,ece30fe9-414c-7536-5403-0656220b3046\n');
    expect(items[0]).toMatchObject({
      kind: 'row',
      row: { userId: 'ece30fe9-414c-7536-5403-0656220b3046', email: undefined, carried: ['not an address'] },
    });
  });

  it('refuses a header with neither column, naming both lists', async () => {
    await expect(openInput(join(tempDir(), 'missing.csv'))).rejects.toThrow(/cannot read/);
    await expect(openInput(writeFile(tempDir(), 'in.csv', 'serial,name\n1,a\n'))).rejects.toThrow(
      /no user ID or email column \(looked for userId, .*, or email, e-mail, mail, .*upn, in any case\)/,
    );
  });
});
