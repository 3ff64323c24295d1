import { describe, expect, it } from 'vitest';
import { classifyUserLookupResponse } from '../../src/client/response.js';
import { derivedUserId, readUserDirectory } from '../../src/simulator/index.js';
import { Users } from '../../src/simulator/users.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';

describe('classifyUserLookupResponse', () => {
  it("reads the user object's id as the user ID", () => {
    const body = JSON.stringify({ id: USER, emailAddress: 'user.one@example.com', firstName: 'User' });
    expect(classifyUserLookupResponse({ status: 200, body })).toEqual({ ok: true, httpStatus: 200, userId: USER });
  });

  it('takes the documented 404 for an unknown address', () => {
    const body = '{"code":"404 NOT_FOUND","description":"User john.doe@example.com not found"}';
    expect(classifyUserLookupResponse({ status: 404, body })).toMatchObject({
      ok: false,
      code: 'NOT_FOUND',
      httpStatus: 404,
      message: 'User john.doe@example.com not found',
    });
  });

  it.each([
    ['an object without id', JSON.stringify({ emailAddress: 'a@example.com' }), /has no string id/],
    ['a numeric id', JSON.stringify({ id: 42 }), /has no string id/],
    ['an id that is no user ID', JSON.stringify({ id: 'abc' }), /id "abc" is not a user ID/],
    ['an array', JSON.stringify([{ id: USER }]), /not the documented user object/],
    ['null', 'null', /not the documented user object/],
    ['an HTML page', '<html>login</html>', /not JSON: login/],
  ])('calls a 200 with %s BAD_RESPONSE', (_, body, message) => {
    const outcome = classifyUserLookupResponse({ status: 200, body });
    expect(outcome).toMatchObject({ ok: false, code: 'BAD_RESPONSE', httpStatus: 200 });
    expect(outcome.ok ? '' : outcome.message).toMatch(message);
    expect(outcome.ok || outcome.isAnswerLost).toBeFalsy();
  });

  it('takes an empty 200 for an answer lost on the way (asked again)', () => {
    expect(classifyUserLookupResponse({ status: 200, body: '' })).toMatchObject({
      code: 'BAD_RESPONSE',
      isAnswerLost: true,
    });
  });

  it('classifies other failures as every call does, secrets blotted out', () => {
    expect(classifyUserLookupResponse({ status: 429, body: '', retryAfterMs: 2000 })).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterMs: 2000,
    });
    expect(classifyUserLookupResponse({ status: 403, body: 'bad token s3cret' }, ['s3cret'])).toMatchObject({
      code: 'FORBIDDEN',
      message: 'bad token [redacted]',
    });
    expect(classifyUserLookupResponse({ status: 404, body: '<html>no route</html>' })).toMatchObject({
      code: 'ENDPOINT_NOT_FOUND',
    });
  });
});

describe("the simulator's users", () => {
  it('without a directory, knows every well-formed address, under an ID derived from it in any case', () => {
    const users = new Users();
    const id = derivedUserId('user.one@example.com');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(users.userIdOf('User.One@EXAMPLE.com')).toBe(id);
    expect(derivedUserId('user.two@example.com')).not.toBe(id);
    expect(users.lookup('nobody')).toEqual({ status: 404, description: 'User nobody not found' });
  });

  it('with a directory, knows only its addresses, in any case', () => {
    const users = new Users(new Map([['User.One@example.com', USER]]));
    expect(users.lookup('user.one@EXAMPLE.COM')).toEqual({
      status: 200,
      user: { id: USER, emailAddress: 'user.one@example.com' },
    });
    expect(users.userIdOf('user.two@example.com')).toBeUndefined();
  });

  it('reads a directory CSV with email and user ID columns in any order and spelling', async () => {
    const file = writeFile(tempDir(), 'users.csv', `name,User ID,E-Mail\nOne,${USER},User.One@example.com\n`);
    expect(await readUserDirectory(file)).toEqual(new Map([['user.one@example.com', USER]]));
  });

  it.each([
    [
      'no email column',
      `userId\n${USER}\n`,
      /users\.csv: line 1: a user directory needs an email column and a userId column/,
    ],
    ['a bad address', `email,userId\nnobody,${USER}\n`, /users\.csv: line 2: email "nobody" is not an email address/],
    ['a bad user ID', 'email,userId\na@example.com,42\n', /users\.csv: line 2: userId "42" is not a user ID/],
    ['nothing', '', /users\.csv: line 1: the file is empty/],
  ])('refuses a directory with %s, naming the file, line and field', async (_, text, message) => {
    await expect(readUserDirectory(writeFile(tempDir(), 'users.csv', text))).rejects.toThrow(message);
  });
});
