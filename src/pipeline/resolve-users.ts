import type { Ds100Client } from '../client/ds100-client.js';
import type { AttemptFailure, UserLookupOutcome } from '../client/response.js';
import type { Logger } from '../log.js';
import type { RequestQueue, Sent } from '../queue/request-queue.js';
import { resultOf, type InputRow, type RowResult } from '../types.js';

/**
 * Rows that name their user by email address get the user's ID from the tenant's read-only
 * `POST v1/users/lookup` before their own request is sent. One lookup per distinct address (compared
 * without case) per run, through the run's request queue, so that pacing, 429s and retries apply to
 * it as to any request.
 */

/** What a row's lookup request came to. */
type LookupSent = Sent<Extract<UserLookupOutcome, { ok: true }>>;

/** What became of a row's address. */
export type RowResolution =
  /** The user's ID is known: `row` has it; `attempts` are the lookup requests this row sent (0 for a cached answer). */
  | { readonly kind: 'ready'; readonly row: InputRow; readonly attempts: number }
  /** The row is decided without its own request: `invalid` (UNKNOWN_EMAIL) or `failed` (the lookup failed). */
  | { readonly kind: 'settled'; readonly result: RowResult }
  /** The run stopped before the lookup could be sent or answered; `sent` is what this row sent of it. */
  | { readonly kind: 'stopped'; readonly sent: LookupSent };

/** The answer for one address, shared by every row that names it. */
type Lookup =
  | { readonly kind: 'resolved'; readonly userId: string }
  | { readonly kind: 'unknown'; readonly httpStatus: number | undefined; readonly message: string }
  | { readonly kind: 'failed'; readonly failure: AttemptFailure }
  | { readonly kind: 'stopped' };

/** What the row that sent a lookup learns: the answer and the requests it took. */
interface SentLookup {
  readonly lookup: Lookup;
  readonly sent: LookupSent;
}

/**
 * Resolves email addresses to user IDs for one run. Answers are kept as promises by lower-cased
 * address, so that rows in flight at the same time share one request. A 404 is kept for the run (the
 * address is unknown to the tenant); a failure after the retries is shared by the rows waiting for it
 * and then forgotten, so that a later row of the address asks again.
 */
export class UserResolver {
  readonly #requests: RequestQueue;
  readonly #client: Ds100Client;
  readonly #logger: Logger;
  readonly #lookups = new Map<string, Promise<SentLookup>>();
  /** Distinct addresses the tenant knew. */
  resolved = 0;
  /** Distinct addresses the tenant did not know (404). */
  unknown = 0;

  constructor(requests: RequestQueue, client: Ds100Client, logger: Logger) {
    this.#requests = requests;
    this.#client = client;
    this.#logger = logger;
  }

  /** The row with its user ID filled in, or its result when the address cannot be resolved. */
  async resolve(row: InputRow): Promise<RowResolution> {
    const email = row.email ?? '';
    const key = email.toLowerCase();
    const pending = this.#lookups.get(key);
    if (pending !== undefined) {
      const { lookup } = await pending;
      return resolutionOf(row, lookup, { outcome: undefined, attempts: 0 });
    }
    const sending = this.#lookUp(email, row.line);
    this.#lookups.set(key, sending);
    const { lookup, sent } = await sending;
    if (lookup.kind === 'failed' || lookup.kind === 'stopped') this.#lookups.delete(key);
    return resolutionOf(row, lookup, sent);
  }

  async #lookUp(email: string, line: number): Promise<SentLookup> {
    const sent = await this.#requests.send(() => this.#client.lookupUser(email));
    const { outcome, attempts } = sent;
    if (outcome === undefined) return { lookup: { kind: 'stopped' }, sent };
    if (outcome.ok) {
      const { userId } = outcome;
      this.resolved++;
      this.#logger.debug({ line, email, userId, attempts }, 'email address resolved');
      return { lookup: { kind: 'resolved', userId }, sent };
    }
    if (outcome.code === 'NOT_FOUND') {
      this.unknown++;
      this.#logger.debug({ line, email, attempts }, 'email address unknown to the tenant');
      const message = `no user on the tenant has the email address ${email} (POST v1/users/lookup answered 404); nothing was sent for this row`;
      return { lookup: { kind: 'unknown', httpStatus: outcome.httpStatus, message }, sent };
    }
    this.#logger.debug({ line, email, attempts, code: outcome.code }, 'email address lookup failed');
    return { lookup: { kind: 'failed', failure: outcome }, sent };
  }
}

function resolutionOf(row: InputRow, lookup: Lookup, sent: LookupSent): RowResolution {
  const { attempts } = sent;
  switch (lookup.kind) {
    case 'resolved':
      return { kind: 'ready', row: { ...row, userId: lookup.userId }, attempts };
    case 'stopped':
      return { kind: 'stopped', sent };
    case 'unknown': {
      const { httpStatus, message } = lookup;
      return {
        kind: 'settled',
        result: resultOf(row, {
          outcome: 'invalid',
          errorCode: 'UNKNOWN_EMAIL',
          errorMessage: message,
          httpStatus,
          attempts,
        }),
      };
    }
    case 'failed': {
      const { code, httpStatus, message } = lookup.failure;
      // The DS100 scopes alone do not open the user lookup: the likeliest cause of a 403 here.
      const hint = code === 'FORBIDDEN' ? ' (an OAuth client needs the scope rsa.user.read to look users up)' : '';
      const errorMessage = `the user lookup for ${row.email ?? ''} failed, so the row was not sent: ${message}${hint}`;
      return {
        kind: 'settled',
        result: resultOf(row, { outcome: 'failed', errorCode: code, errorMessage, httpStatus, attempts }),
      };
    }
  }
}

/** A row's result with the lookup requests it sent counted in its attempts. */
export const withLookups = (result: RowResult, lookups: number): RowResult =>
  lookups === 0 ? result : { ...result, attempts: result.attempts + lookups };
