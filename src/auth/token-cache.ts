import type { TokenProvider } from '../client/ds100-client.js';

export type { TokenProvider } from '../client/ds100-client.js';

/** A fixed token, e.g. from DS100_TOKEN. It cannot be renewed, so a 403 is final. */
export const staticTokenProvider = (token: string): TokenProvider => ({ getToken: async () => token });

/** A token and the moment it stops being usable. */
export interface IssuedToken {
  readonly token: string;
  /** Epoch milliseconds. */
  readonly expiresAtMs: number;
  /** Epoch milliseconds after which a new token is obtained; default `renewBeforeMs` before expiry. */
  readonly renewAtMs?: number | undefined;
}

export interface CachingOptions {
  /** Obtain a new token before the cached one has less than this left. */
  readonly renewBeforeMs: number;
  /** Epoch milliseconds; tests pass a fake clock. */
  readonly now?: () => number;
  /** Told about every new token (its expiry only: the token itself is never handed out here). */
  readonly onIssued?: (expiresAt: Date) => void;
}

/**
 * Turns a way of obtaining tokens into a TokenProvider that caches one token for many calls, renews
 * it `renewBeforeMs` before it expires, and is single-flight: rows asking while a token is being
 * obtained share that one request instead of each minting or calling the token endpoint.
 */
export function cachingTokenProvider(obtain: () => Promise<IssuedToken>, options: CachingOptions): TokenProvider {
  const now = options.now ?? Date.now;
  let current: IssuedToken | undefined;
  let pending: Promise<IssuedToken> | undefined;
  const isFresh = (issued: IssuedToken | undefined): issued is IssuedToken =>
    issued !== undefined && now() < (issued.renewAtMs ?? issued.expiresAtMs - options.renewBeforeMs);
  return {
    async getToken() {
      if (isFresh(current)) return current.token;
      pending ??= obtain()
        .then((issued) => {
          current = issued;
          options.onIssued?.(new Date(issued.expiresAtMs));
          return issued;
        })
        .finally(() => {
          pending = undefined;
        });
      return (await pending).token;
    },
    invalidate(token) {
      if (current?.token === token) current = undefined;
    },
  };
}
