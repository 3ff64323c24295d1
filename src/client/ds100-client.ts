import type { Ds100Pair } from '../types.js';
import { normaliseBaseUrl } from './base-url.js';
import { HttpClient, type ProxySettings } from './http.js';
import {
  classifyDisableResponse,
  classifyEnableResponse,
  classifyLookupResponse,
  classifyUserLookupResponse,
  safeExcerpt,
  type AttemptFailure,
  type AttemptOutcome,
  type HttpAnswer,
  type UserLookupOutcome,
} from './response.js';
import { parseRetryAfter } from './retry-policy.js';

/**
 * Supplies the bearer token for each request (src/auth/ has the providers). A provider may cache and renew its token; the client
 * asks before every attempt, so a renewed token is picked up at once.
 */
export interface TokenProvider {
  getToken(): Promise<string>;
  /**
   * Called with the token a request was refused with (403). A provider that can renew drops it, if it
   * is still the cached one, so that the next getToken() obtains a fresh token; several rows refused
   * with the same token cause one renewal, not one each. Providers that cannot renew leave it out.
   */
  invalidate?(token: string): void;
}

export interface Ds100ClientOptions {
  /** The tenant's adminRestApiUrl, with or without the trailing slash. */
  readonly baseUrl: string;
  readonly tokenProvider: TokenProvider;
  /** Deadline of one attempt, headers and body together. */
  readonly timeoutMs: number;
  /** Keep-alive connections in the pool; match the run's concurrency. */
  readonly connections: number;
  /** Send through a proxy (HTTPS_PROXY / NO_PROXY); direct when undefined. */
  readonly proxy?: ProxySettings | undefined;
}

// OpenSSL's verification codes as Node reports them: retrying cannot fix a certificate.
const TLS_CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME_INVALID/;

// Failures before a connection existed: the request cannot have reached the tenant. Every other
// network failure (a reset, a socket closed mid-answer, a timeout) may have come after the request
// was sent, so its answer counts as lost.
const NEVER_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function networkFailure(error: unknown, isTimeout: boolean): AttemptFailure {
  if (isTimeout) {
    return { ok: false, code: 'TIMEOUT', message: 'no complete response within the timeout', isAnswerLost: true };
  }
  const { code, message } = error as { code?: string; message?: string };
  const detail = safeExcerpt(code ?? message ?? String(error));
  if (code !== undefined && TLS_CERTIFICATE_ERROR.test(code)) {
    return {
      ok: false,
      code: 'TLS_ERROR',
      message: `${detail}: the server's TLS certificate is not trusted; for a private CA or a TLS-inspecting proxy set NODE_EXTRA_CA_CERTS`,
    };
  }
  const isAnswerLost = code === undefined || !NEVER_SENT.has(code);
  const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
  return timedOut
    ? { ok: false, code: 'TIMEOUT', message: detail, isAnswerLost }
    : { ok: false, code: 'NETWORK_ERROR', message: detail, isAnswerLost };
}

/** The tenant's DS100 endpoints over one pooled keep-alive client. Never throws per request. */
export class Ds100Client {
  readonly #http: HttpClient;
  readonly #base: URL;
  readonly #tokenProvider: TokenProvider;
  /** The API paths under the base URL, resolved once. */
  readonly #paths: {
    readonly enable: string;
    readonly disable: string;
    readonly lookup: string;
    readonly userLookup: string;
  };

  constructor(options: Ds100ClientOptions) {
    this.#base = normaliseBaseUrl(options.baseUrl);
    this.#paths = {
      enable: new URL('v1/ds100/enable/otp', this.#base).pathname,
      disable: new URL('v1/ds100/disable/otp', this.#base).pathname,
      lookup: new URL('v1/ds100/lookup', this.#base).pathname,
      userLookup: new URL('v1/users/lookup', this.#base).pathname,
    };
    this.#tokenProvider = options.tokenProvider;
    this.#http = new HttpClient(this.#base.origin, {
      connections: options.connections,
      timeoutMs: options.timeoutMs,
      proxy: options.proxy,
    });
  }

  /** `PATCH v1/ds100/enable/otp` for one pair. */
  async enableOtp(pair: Ds100Pair): Promise<AttemptOutcome> {
    const body = JSON.stringify({ deviceSerialNumber: pair.deviceSerialNumber, userId: pair.userId });
    return this.#call('PATCH', this.#paths.enable, body, (response, token) =>
      classifyEnableResponse(response, pair, [token]),
    );
  }

  /** `PATCH v1/ds100/disable/otp` for one pair: the same body as enable. */
  async disableOtp(pair: Ds100Pair): Promise<AttemptOutcome> {
    const body = JSON.stringify({ deviceSerialNumber: pair.deviceSerialNumber, userId: pair.userId });
    return this.#call('PATCH', this.#paths.disable, body, (response, token) =>
      classifyDisableResponse(response, pair, [token]),
    );
  }

  /**
   * `POST v1/ds100/lookup` for one device: read-only, changes nothing on the tenant. On success the
   * outcome carries the credential and the user the device is registered to; 404 is NOT_FOUND.
   */
  async lookup(deviceSerialNumber: string): Promise<AttemptOutcome> {
    return this.#call('POST', this.#paths.lookup, JSON.stringify({ deviceSerialNumber }), (response, token) =>
      classifyLookupResponse(response, deviceSerialNumber, [token]),
    );
  }

  /**
   * `POST v1/users/lookup` for one email address: read-only. On success the outcome carries the
   * user's ID; 404 is NOT_FOUND (no such user). Only synchronised users are searched
   * (`searchUnsynched: false`), as the vendor's own example does. Needs the OAuth scope rsa.user.read.
   */
  async lookupUser(email: string): Promise<UserLookupOutcome> {
    const body = JSON.stringify({ email, searchUnsynched: false });
    return this.#call('POST', this.#paths.userLookup, body, (response, token) =>
      classifyUserLookupResponse(response, [token]),
    );
  }

  /** One attempt of one call: auth, deadline, bounded body; a network failure becomes an outcome. */
  async #call<Outcome extends AttemptOutcome | UserLookupOutcome>(
    method: 'PATCH' | 'POST',
    path: string,
    body: string,
    classify: (response: HttpAnswer, token: string) => Outcome,
  ): Promise<Outcome | AttemptFailure> {
    const tokenProvider = this.#tokenProvider;
    let token: string;
    try {
      token = await tokenProvider.getToken();
    } catch (error) {
      // Providers word their errors without secrets (see oauth-token-provider.ts).
      return { ok: false, code: 'TOKEN_ERROR', message: safeExcerpt(String((error as Error).message ?? error)) };
    }
    const exchange = await this.#http.send({
      origin: this.#base.origin,
      method,
      path,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': 'application/json' },
      body,
    });
    if (!exchange.ok) return networkFailure(exchange.error, exchange.isTimeout);
    const outcome = classify(
      {
        status: exchange.status,
        body: exchange.body,
        retryAfterMs: parseRetryAfter(exchange.retryAfter, Date.now()),
        location: exchange.location,
      },
      token,
    );
    if (!outcome.ok && outcome.code === 'FORBIDDEN' && tokenProvider.invalidate) {
      // The token may have expired or been refused: drop it so the retry carries a fresh one.
      tokenProvider.invalidate(token);
      return { ...outcome, isTokenRenewed: true };
    }
    return outcome;
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}
