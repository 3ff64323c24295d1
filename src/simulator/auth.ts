import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { ApiKey } from '../auth/key-file.js';

/**
 * How the simulated tenant authenticates requests, the way the vendor documents it:
 * - legacy API keys: a JWT signed by the client with header exactly {"typ":"JWT","alg":"RS256"},
 *   `sub` = accessID, `aud` = the key's adminRestApiUrl verbatim, integer `iat`/`exp`, lifetime at
 *   most one hour, 60 s of clock skew;
 * - OAuth clients: the client-credentials grant with a private_key_jwt assertion at `{issuer}/token`,
 *   answered with short-lived opaque access tokens that carry scopes;
 * - a static bearer token (the original demo mode), always accepted.
 */

export const DS100_SCOPES = {
  manage: 'rsa.authenticator.ds100.manage',
  read: 'rsa.authenticator.ds100.read',
  userRead: 'rsa.user.read',
} as const;

export interface SimulatorAuthOptions {
  /** Allowed clock difference, both ways. Default 60 s, as the vendor documents. */
  readonly clockSkewSeconds?: number;
  /** Longest `exp - iat` accepted for an API key JWT. Default 3600 s. */
  readonly maxTokenLifetimeSeconds?: number;
  /**
   * Refuse API key JWTs issued longer ago than this, whatever their `exp` says: a way to make tokens
   * "expire" quickly so that a test sees renewal mid-run. Default: no limit beyond `exp`.
   */
  readonly maxTokenAgeSeconds?: number;
  /** Lifetime of issued OAuth access tokens. Default 3600 s. */
  readonly accessTokenTtlSeconds?: number;
}

export interface ApiKeyRegistration {
  readonly accessID: string;
  /** The public half of the key file's accessKey (a private key is accepted and its public part used). */
  readonly publicKey: KeyObject | string;
  /** The `aud` the tokens must carry, compared verbatim. Default: the simulator's base URL. */
  readonly adminRestApiUrl?: string;
}

/** The registration under which the simulated tenant accepts the tokens of a console key file. */
export const apiKeyRegistration = (key: ApiKey): ApiKeyRegistration => ({
  accessID: key.accessID,
  publicKey: key.accessKey,
  adminRestApiUrl: key.adminRestApiUrl,
});

export interface OAuthClientRegistration {
  readonly clientId: string;
  readonly publicKey: KeyObject | string;
  /** When set, the assertion's `kid` header must equal it. */
  readonly keyId?: string;
  /** Scopes the client may be granted. Default: the two DS100 scopes and rsa.user.read. */
  readonly scopes?: readonly string[];
}

export type AuthResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

interface AccessToken {
  readonly clientId: string;
  readonly scopes: ReadonlySet<string>;
  readonly expiresAtMs: number;
}

const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_ASSERTION_LIFETIME_SECONDS = 600;

const toPublicKey = (key: KeyObject | string): KeyObject =>
  typeof key !== 'string' && key.type === 'public' ? key : createPublicKey(key);

const error = (status: number, code: string, description: string): { status: number; body: object } => ({
  status,
  body: { error: code, error_description: description },
});

const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);

export class SimulatorAuth {
  readonly #staticToken: string;
  readonly #skew: number;
  readonly #maxLifetime: number;
  readonly #maxAge: number | undefined;
  readonly #accessTtl: number;
  readonly #now: () => number;
  readonly #apiKeys = new Map<string, { publicKey: KeyObject; audience: string | undefined; revoked: boolean }>();
  readonly #clients = new Map<
    string,
    { publicKey: KeyObject; keyId: string | undefined; scopes: ReadonlySet<string>; revoked: boolean }
  >();
  readonly #accessTokens = new Map<string, AccessToken>();
  readonly #seenJti = new Set<string>();
  /** The default audience: the simulator's base URL, known once it listens. */
  defaultAudience = '';
  /** Access tokens issued by the token endpoint so far. */
  accessTokensIssued = 0;

  constructor(staticToken: string, options: SimulatorAuthOptions = {}, now: () => number = Date.now) {
    this.#staticToken = staticToken;
    this.#skew = options.clockSkewSeconds ?? 60;
    this.#maxLifetime = options.maxTokenLifetimeSeconds ?? 3600;
    this.#maxAge = options.maxTokenAgeSeconds;
    this.#accessTtl = options.accessTokenTtlSeconds ?? 3600;
    this.#now = now;
  }

  registerApiKey(key: ApiKeyRegistration): void {
    this.#apiKeys.set(key.accessID, {
      publicKey: toPublicKey(key.publicKey),
      audience: key.adminRestApiUrl,
      revoked: false,
    });
  }

  /** From now on every token of this key is refused with 403, as after deleting the key in the console. */
  revokeApiKey(accessID: string): void {
    const key = this.#apiKeys.get(accessID);
    if (key) key.revoked = true;
  }

  registerOAuthClient(client: OAuthClientRegistration): void {
    this.#clients.set(client.clientId, {
      publicKey: toPublicKey(client.publicKey),
      keyId: client.keyId,
      scopes: new Set(client.scopes ?? Object.values(DS100_SCOPES)),
      revoked: false,
    });
  }

  /** The token endpoint refuses the client and its access tokens get 403. */
  revokeOAuthClient(clientId: string): void {
    const client = this.#clients.get(clientId);
    if (client) client.revoked = true;
  }

  /** Checks an Authorization header for a call that needs `scope` (OAuth) or any valid API key. */
  async verifyBearer(authorization: string | undefined, scope: string): Promise<AuthResult> {
    const match = /^Bearer (\S+)$/.exec(authorization ?? '');
    if (!match) return { ok: false, reason: 'no bearer token' };
    const token = match[1]!;
    if (token === this.#staticToken) return { ok: true };
    const access = this.#accessTokens.get(token);
    if (access) return this.#checkAccessToken(access, scope);
    return this.verifyApiKeyJwt(token);
  }

  #checkAccessToken(access: AccessToken, scope: string): AuthResult {
    if (this.#now() >= access.expiresAtMs) return { ok: false, reason: 'access token expired' };
    if (this.#clients.get(access.clientId)?.revoked !== false) return { ok: false, reason: 'client revoked' };
    if (!access.scopes.has(scope)) return { ok: false, reason: `access token lacks scope ${scope}` };
    return { ok: true };
  }

  /** Verifies a legacy API key JWT. */
  async verifyApiKeyJwt(token: string): Promise<AuthResult> {
    let header: Record<string, unknown>;
    let claims: JWTPayload;
    try {
      header = decodeProtectedHeader(token) as Record<string, unknown>;
      claims = decodeJwt(token);
    } catch {
      return { ok: false, reason: 'not a JWT' };
    }
    const headerNames = Object.keys(header).toSorted().join(',');
    if (headerNames !== 'alg,typ' || header['alg'] !== 'RS256' || header['typ'] !== 'JWT') {
      return { ok: false, reason: 'header is not exactly {"typ":"JWT","alg":"RS256"}' };
    }
    const key = typeof claims.sub === 'string' ? this.#apiKeys.get(claims.sub) : undefined;
    if (!key) return { ok: false, reason: 'sub is not a registered accessID' };
    try {
      // Signature only: the claims are checked below, to the vendor's rules rather than jose's.
      await jwtVerify(token, key.publicKey, { algorithms: ['RS256'], clockTolerance: Number.MAX_SAFE_INTEGER });
    } catch {
      return { ok: false, reason: 'bad signature' };
    }
    if (key.revoked) return { ok: false, reason: 'key revoked' };
    if (claims.aud !== (key.audience ?? this.defaultAudience)) {
      return { ok: false, reason: 'aud is not the adminRestApiUrl' };
    }
    const { iat, exp } = claims;
    if (!isInteger(iat) || !isInteger(exp)) return { ok: false, reason: 'iat and exp must be integer seconds' };
    if (exp - iat > this.#maxLifetime || exp <= iat) return { ok: false, reason: 'lifetime over the maximum' };
    const nowSeconds = this.#now() / 1000;
    if (iat > nowSeconds + this.#skew) return { ok: false, reason: 'iat in the future' };
    if (nowSeconds > exp + this.#skew) return { ok: false, reason: 'token expired' };
    // Whole seconds, like iat: a token minted a moment ago is never "too old" by rounding alone.
    if (this.#maxAge !== undefined && Math.floor(nowSeconds) - iat > this.#maxAge) {
      return { ok: false, reason: 'token too old' };
    }
    return { ok: true };
  }

  /**
   * The token endpoint: client credentials with a private_key_jwt assertion. Returns the status and
   * JSON body to send (RFC 6749 error codes).
   */
  async handleTokenRequest(form: URLSearchParams, tokenEndpoint: string): Promise<{ status: number; body: object }> {
    if (form.get('grant_type') !== 'client_credentials') {
      return error(400, 'unsupported_grant_type', 'only client_credentials is supported');
    }
    const clientId = form.get('client_id');
    const assertion = form.get('client_assertion');
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE || !clientId || !assertion) {
      return error(400, 'invalid_request', 'client_id and a jwt-bearer client_assertion are required');
    }
    const client = this.#clients.get(clientId);
    if (!client || client.revoked) return error(401, 'invalid_client', 'unknown or disabled client');
    let header: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(assertion) as Record<string, unknown>;
    } catch {
      return error(401, 'invalid_client', 'the client assertion is not a JWT');
    }
    const algorithm = client.publicKey.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
    if (header['alg'] !== algorithm) return error(401, 'invalid_client', `the assertion must be signed ${algorithm}`);
    if (client.keyId !== undefined && header['kid'] !== client.keyId) {
      return error(401, 'invalid_client', 'the assertion kid is not the registered key');
    }
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(assertion, client.publicKey, {
        algorithms: [algorithm],
        issuer: clientId,
        subject: clientId,
        audience: tokenEndpoint,
        clockTolerance: this.#skew,
        currentDate: new Date(this.#now()),
        requiredClaims: ['jti', 'iat', 'exp'],
      }));
    } catch (cause) {
      return error(401, 'invalid_client', `the client assertion is invalid (${(cause as { code?: string }).code})`);
    }
    if ((claims.exp ?? 0) - (claims.iat ?? 0) > MAX_ASSERTION_LIFETIME_SECONDS) {
      return error(401, 'invalid_client', 'the client assertion lives too long');
    }
    if (this.#seenJti.has(`${clientId} ${claims.jti}`)) return error(401, 'invalid_client', 'assertion replayed');
    this.#seenJti.add(`${clientId} ${claims.jti}`);
    const requested = (form.get('scope') ?? '').split(' ').filter(Boolean);
    if (requested.length === 0 || !requested.every((scope) => client.scopes.has(scope))) {
      return error(400, 'invalid_scope', 'a requested scope is not granted to this client');
    }
    const accessToken = randomBytes(32).toString('base64url');
    this.#accessTokens.set(accessToken, {
      clientId,
      scopes: new Set(requested),
      expiresAtMs: this.#now() + this.#accessTtl * 1000,
    });
    this.accessTokensIssued++;
    return {
      status: 200,
      body: {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: this.#accessTtl,
        scope: requested.join(' '),
      },
    };
  }
}
