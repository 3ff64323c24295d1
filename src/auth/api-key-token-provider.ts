import { SignJWT } from 'jose';
import { usageError } from '../errors.js';
import type { ApiKey } from './key-file.js';
import { cachingTokenProvider, type TokenProvider } from './token-cache.js';

export interface ApiKeyTokenOptions {
  /**
   * Lifetime of each minted token. Default 3300 s (55 min): under the server's one-hour limit with
   * room for its 60 s of clock skew.
   */
  readonly lifetimeSeconds?: number;
  /** Mint the next token this long before the current one expires. Default 300 s. */
  readonly renewBeforeSeconds?: number;
  /** Epoch milliseconds; tests pass a fake clock. */
  readonly now?: () => number;
  readonly onIssued?: (expiresAt: Date) => void;
}

export const API_KEY_TOKEN_DEFAULTS = { lifetimeSeconds: 3300, renewBeforeSeconds: 300 } as const;

/** The server refuses tokens that live longer than an hour. */
const MAX_LIFETIME_SECONDS = 3600;

/**
 * Mints the bearer JWT exactly as the vendor specifies: header `{"typ":"JWT","alg":"RS256"}` and
 * nothing else, `sub` = accessID, `aud` = adminRestApiUrl verbatim (not normalised: the server
 * compares strings), integer `iat` and `exp`.
 */
export async function mintApiKeyToken(key: ApiKey, issuedAtSeconds: number, lifetimeSeconds: number): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ typ: 'JWT', alg: 'RS256' })
    .setSubject(key.accessID)
    .setAudience(key.adminRestApiUrl)
    .setIssuedAt(issuedAtSeconds)
    .setExpirationTime(issuedAtSeconds + lifetimeSeconds)
    .sign(key.accessKey);
}

/** A TokenProvider for the legacy API key: mints one token, reuses it, mints the next before expiry. */
export function apiKeyTokenProvider(key: ApiKey, options: ApiKeyTokenOptions = {}): TokenProvider {
  const lifetime = options.lifetimeSeconds ?? API_KEY_TOKEN_DEFAULTS.lifetimeSeconds;
  const renewBefore = options.renewBeforeSeconds ?? API_KEY_TOKEN_DEFAULTS.renewBeforeSeconds;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > MAX_LIFETIME_SECONDS) {
    throw usageError(`Expected the token lifetime to be a whole number of seconds from 1 to 3600, got ${lifetime}`);
  }
  if (!(renewBefore >= 0 && renewBefore < lifetime)) {
    throw usageError(
      `Expected the renewal margin to be from 0 to under the lifetime (${lifetime} s), got ${renewBefore}`,
    );
  }
  const now = options.now ?? Date.now;
  return cachingTokenProvider(
    async () => {
      const issuedAt = Math.floor(now() / 1000);
      const token = await mintApiKeyToken(key, issuedAt, lifetime);
      return { token, expiresAtMs: (issuedAt + lifetime) * 1000 };
    },
    { renewBeforeMs: renewBefore * 1000, now, onIssued: options.onIssued },
  );
}
