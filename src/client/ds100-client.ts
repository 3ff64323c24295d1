import { usageError } from '../errors.js';
import type { Ds100Pair } from '../types.js';
import { createHttpDispatcher, type ProxySettings } from './http.js';
import { HttpExchanger } from './http-exchange.js';
import {
  classifyEnableResponse,
  classifyLookupResponse,
  safeExcerpt,
  type AttemptOutcome,
  type HttpAnswer,
} from './response.js';
import { parseRetryAfter } from './retry-policy.js';
import type { TokenProvider } from '../auth/token-cache.js';

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

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Checks a base URL and returns it with a trailing slash, so that relative API paths resolve under
 * it. Plain http is refused except on loopback (the simulator): the bearer token must not cross a
 * network unencrypted.
 */
export function normaliseBaseUrl(raw: string, what = 'the base URL'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`Expected ${what} to be an absolute https:// URL, got "${raw}"`);
  }
  const isLoopback = LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith('127.');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback)) {
    throw usageError(`Expected ${what} to use https:// (plain http only on loopback), got "${raw}"`);
  }
  if (url.search || url.hash) throw usageError(`Expected ${what} without ?query or #fragment, got "${raw}"`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

// OpenSSL's verification codes as Node reports them: retrying cannot fix a certificate.
const TLS_CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME_INVALID/;

function networkFailure(error: unknown, isTimeout: boolean): AttemptOutcome {
  if (isTimeout) return { ok: false, code: 'TIMEOUT', message: 'no complete response within the timeout' };
  const { code, message } = error as { code?: string; message?: string };
  const detail = safeExcerpt(code ?? message ?? String(error));
  if (code !== undefined && TLS_CERTIFICATE_ERROR.test(code)) {
    return {
      ok: false,
      code: 'TLS_ERROR',
      message: `${detail}: the server's TLS certificate is not trusted; for a private CA or a TLS-inspecting proxy set NODE_EXTRA_CA_CERTS`,
    };
  }
  const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
  return timedOut
    ? { ok: false, code: 'TIMEOUT', message: detail }
    : { ok: false, code: 'NETWORK_ERROR', message: detail };
}

/** The tenant's DS100 endpoints over one pooled keep-alive client. Never throws per request. */
export class Ds100Client {
  readonly #http: HttpExchanger;
  readonly #origin: string;
  readonly #tokenProvider: TokenProvider;
  // Resolved once: URL parsing per request showed in the profile.
  readonly #enablePath: string;
  readonly #lookupPath: string;
  #headers: { readonly token: string; readonly headers: Record<string, string> } | undefined;

  constructor(options: Ds100ClientOptions) {
    const base = normaliseBaseUrl(options.baseUrl);
    this.#origin = base.origin;
    this.#tokenProvider = options.tokenProvider;
    this.#enablePath = new URL('v1/ds100/enable/otp', base).pathname;
    this.#lookupPath = new URL('v1/ds100/lookup', base).pathname;
    const dispatcher = createHttpDispatcher(base.origin, {
      connections: options.connections,
      timeoutMs: options.timeoutMs,
      proxy: options.proxy,
    });
    this.#http = new HttpExchanger(dispatcher, options.timeoutMs);
  }

  /** `PATCH v1/ds100/enable/otp` for one pair. */
  async enableOtp(pair: Ds100Pair): Promise<AttemptOutcome> {
    const body = JSON.stringify({ deviceSerialNumber: pair.deviceSerialNumber, userId: pair.userId });
    return this.#call('PATCH', this.#enablePath, body, (response, token) =>
      classifyEnableResponse(response, pair, [token]),
    );
  }

  /**
   * `POST v1/ds100/lookup` for one device: read-only, changes nothing on the tenant. On success the
   * outcome carries the credential and the user the device is registered to; 404 is NOT_FOUND.
   */
  async lookup(deviceSerialNumber: string): Promise<AttemptOutcome> {
    return this.#call('POST', this.#lookupPath, JSON.stringify({ deviceSerialNumber }), (response, token) =>
      classifyLookupResponse(response, deviceSerialNumber, [token]),
    );
  }

  /** The request headers for `token`, built once per token rather than once per request. */
  #headersFor(token: string): Record<string, string> {
    if (this.#headers?.token !== token) {
      this.#headers = {
        token,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': 'application/json' },
      };
    }
    return this.#headers.headers;
  }

  /** One attempt of one call: auth, deadline, bounded body; a network failure becomes an outcome. */
  async #call(
    method: 'PATCH' | 'POST',
    path: string,
    body: string,
    classify: (response: HttpAnswer, token: string) => AttemptOutcome,
  ): Promise<AttemptOutcome> {
    const tokenProvider = this.#tokenProvider;
    let token: string;
    try {
      token = await tokenProvider.getToken();
    } catch (error) {
      // Providers word their errors without secrets (see oauth-token-provider.ts).
      return { ok: false, code: 'TOKEN_ERROR', message: safeExcerpt(String((error as Error).message ?? error)) };
    }
    const exchange = await this.#http.send({
      origin: this.#origin,
      method,
      path,
      headers: this.#headersFor(token),
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
