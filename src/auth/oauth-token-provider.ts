import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import pRetry from 'p-retry';
import { normaliseBaseUrl } from '../client/base-url.js';
import { HttpClient, type ProxySettings } from '../client/http.js';
import { Ds100Error } from '../errors.js';
import type { OAuthClient } from './key-file.js';
import { safeExcerpt } from '../client/response.js';
import { cachingTokenProvider, type TokenProvider } from './token-cache.js';

/** Both DS100 scopes: enable/disable (manage) and lookup (read). Override with `scope` in the client file. */
export const DEFAULT_OAUTH_SCOPE = 'rsa.authenticator.ds100.manage rsa.authenticator.ds100.read';

export interface OAuthTokenOptions {
  /** Ask for a new access token this long before the current one expires (at most half its life). Default 60 s. */
  readonly renewBeforeSeconds?: number;
  /** Deadline of one token request. Default 30 s. */
  readonly timeoutMs?: number;
  /** Attempts per token request when the endpoint is unreachable or answers 429/5xx. Default 3. */
  readonly attempts?: number;
  /** First pause between those attempts, doubling. Default 1000 ms. */
  readonly retryDelayMs?: number;
  readonly proxy?: ProxySettings | undefined;
  /** Epoch milliseconds; tests pass a fake clock. */
  readonly now?: () => number;
  readonly onIssued?: (expiresAt: Date) => void;
}

const ASSERTION_LIFETIME_SECONDS = 300;

/** `{issuer}/token`, refusing plain http except on loopback: the assertion must not cross a network in clear. */
export function tokenEndpointFor(issuer: string): URL {
  const base = normaliseBaseUrl(issuer, 'the OAuth issuer URL');
  return new URL('token', base);
}

/** Signs the private_key_jwt client assertion: iss = sub = client ID, aud = token endpoint, jti, ~5 min. */
export async function signClientAssertion(client: OAuthClient, tokenEndpoint: string, nowMs: number): Promise<string> {
  const alg = client.privateKey.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
  const issuedAt = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg, typ: 'JWT', ...(client.keyId === undefined ? {} : { kid: client.keyId }) })
    .setIssuer(client.clientId)
    .setSubject(client.clientId)
    .setAudience(tokenEndpoint)
    .setJti(randomUUID())
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ASSERTION_LIFETIME_SECONDS)
    .sign(client.privateKey);
}

class TransientTokenError extends Error {
  override readonly name = 'TransientTokenError';
}

/**
 * A TokenProvider for an OAuth API client: the client-credentials grant with a private_key_jwt
 * assertion, one access token cached for many calls and renewed before it expires. A refusal by the
 * token endpoint (4xx) throws a Ds100Error `AUTH` at once; an unreachable endpoint, 429 or 5xx is
 * tried again a few times first. Error messages carry the endpoint's error code, never a token.
 */
export function oauthTokenProvider(client: OAuthClient, options: OAuthTokenOptions = {}): TokenProvider {
  const endpoint = tokenEndpointFor(client.issuer);
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const attempts = options.attempts ?? 3;
  const renewBeforeMs = (options.renewBeforeSeconds ?? 60) * 1000;
  const scope = client.scope ?? DEFAULT_OAUTH_SCOPE;

  async function requestOnce(): Promise<{ token: string; expiresAtMs: number; renewAtMs: number }> {
    const startedAt = now();
    const assertion = await signClientAssertion(client, endpoint.href, startedAt);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: client.clientId,
      scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    // Token requests are rare (about hourly): a client per request spares the provider a close().
    const http = new HttpClient(endpoint.origin, { connections: 1, timeoutMs, proxy: options.proxy });
    const exchange = await http.send({
      origin: endpoint.origin,
      path: endpoint.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    await http.close();
    if (!exchange.ok) {
      const { code, name } = exchange.error as { code?: string; name?: string };
      const reason = exchange.isTimeout ? 'no answer within the timeout' : (code ?? name);
      throw new TransientTokenError(`the OAuth token endpoint ${endpoint.href} could not be reached (${reason})`);
    }
    const { status, body: text } = exchange;
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
    } catch {
      // handled below: a non-JSON answer is a bad answer
    }
    if (status === 429 || status >= 500) {
      throw new TransientTokenError(`the OAuth token endpoint ${endpoint.href} answered HTTP ${status}`);
    }
    if (status !== 200) {
      const reason = [body['error'], body['error_description']].filter((v) => typeof v === 'string').join(': ');
      throw new Ds100Error(
        'AUTH',
        `the OAuth token endpoint ${endpoint.href} refused client ${client.clientId} (HTTP ${status}` +
          `${reason ? `, ${safeExcerpt(reason, [assertion])}` : ''}); check the client ID, its key and its scopes (${scope})`,
      );
    }
    const token = body['access_token'];
    const type = body['token_type'];
    if (typeof token !== 'string' || token === '' || (typeof type === 'string' && type.toLowerCase() !== 'bearer')) {
      throw new Ds100Error('AUTH', `the OAuth token endpoint ${endpoint.href} answered without a bearer access_token`);
    }
    const lifetimeMs = (typeof body['expires_in'] === 'number' ? body['expires_in'] : 3600) * 1000;
    // Counted from when the request started, so the token is never thought younger than it is.
    const expiresAtMs = startedAt + lifetimeMs;
    return { token, expiresAtMs, renewAtMs: expiresAtMs - Math.min(renewBeforeMs, lifetimeMs / 2) };
  }

  return cachingTokenProvider(
    async () => {
      try {
        return await pRetry(requestOnce, {
          retries: attempts - 1,
          minTimeout: options.retryDelayMs ?? 1000,
          factor: 2,
          // A refusal (4xx) is final at once; only an unreachable or overloaded endpoint is tried again.
          shouldRetry: ({ error }) => error instanceof TransientTokenError,
        });
      } catch (error) {
        throw error instanceof TransientTokenError ? new Ds100Error('AUTH', error.message) : error;
      }
    },
    { renewBeforeMs, now, onIssued: options.onIssued },
  );
}
