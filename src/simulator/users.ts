import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Ds100Error } from '../errors.js';
import { isEmailColumn, isUserIdColumn } from '../input/columns.js';
import { cannotRead } from '../input/file-checks.js';
import { readCsv } from '../input/read-csv.js';
import { checkEmail, checkUserId } from '../input/validate-row.js';

/**
 * The simulated tenant's users, for `POST v1/users/lookup`: a directory of email address -> user ID,
 * or, without one, every well-formed address as a user whose ID is made from the address (so that a
 * demo with a file of addresses works with nothing set up).
 */

/** Email address (any case) -> user ID. */
export type UserDirectory = ReadonlyMap<string, string>;

/** What the user lookup answers: the user object, or 404 with the service's description. */
export type UserAnswer =
  | { readonly status: 200; readonly user: { readonly id: string; readonly emailAddress: string } }
  | { readonly status: 404; readonly description: string };

/**
 * The user ID the simulator gives an address when it has no directory: SHA-256 of the lower-cased
 * address, its first 16 bytes written as 8-4-4-4-12 hex. The same address always gets the same ID.
 */
export function derivedUserId(email: string): string {
  const hex = createHash('sha256').update(email.toLowerCase()).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The simulated tenant's users. */
export class Users {
  readonly #byEmail: ReadonlyMap<string, string> | undefined;

  /** `directory`: the only users there are; without it, every well-formed address is one. */
  constructor(directory?: UserDirectory) {
    this.#byEmail = directory && new Map([...directory].map(([email, userId]) => [email.toLowerCase(), userId]));
  }

  /** The user ID of an address, or undefined when no user has it. */
  userIdOf(email: string): string | undefined {
    if (this.#byEmail) return this.#byEmail.get(email.toLowerCase());
    return checkEmail(email) === undefined ? derivedUserId(email) : undefined;
  }

  /** `POST v1/users/lookup`'s answer for an address. */
  lookup(email: string): UserAnswer {
    const id = this.userIdOf(email);
    return id === undefined
      ? { status: 404, description: `User ${email} not found` }
      : { status: 200, user: { id, emailAddress: email.toLowerCase() } };
  }
}

/**
 * Reads a user directory: a CSV with an email column and a user ID column (the names the input file
 * takes for them, e.g. `email,userId`); other columns are ignored. Throws a Ds100Error INPUT_FILE
 * naming the file, the line and the field for a file it cannot use.
 */
export async function readUserDirectory(file: string): Promise<UserDirectory> {
  const handle = await open(file, 'r').catch((error: unknown) => {
    throw cannotRead(file, error);
  });
  const directory = new Map<string, string>();
  const fail = (line: number, what: string): Ds100Error =>
    new Ds100Error('INPUT_FILE', `${file}: line ${line}: ${what}`);
  try {
    let columns: { readonly email: number; readonly userId: number } | undefined;
    for await (const item of readCsv(handle, { file, checkUtf8: true })) {
      if ('error' in item) throw fail(item.line, `not valid CSV: ${item.error.message}`);
      const { record, line } = item;
      if (columns === undefined) {
        columns = { email: record.findIndex(isEmailColumn), userId: record.findIndex(isUserIdColumn) };
        if (columns.email < 0 || columns.userId < 0) {
          throw fail(line, 'a user directory needs an email column and a userId column, e.g. "email,userId"');
        }
        continue;
      }
      const email = record[columns.email] ?? '';
      const userId = record[columns.userId] ?? '';
      const problem = checkEmail(email, 'email') ?? checkUserId(userId, 'userId');
      if (problem) throw fail(line, problem.message);
      directory.set(email.toLowerCase(), userId);
    }
    if (columns === undefined) throw fail(1, 'the file is empty; expected a header such as "email,userId"');
    return directory;
  } finally {
    await handle.close();
  }
}
