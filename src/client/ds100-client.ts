import { EventEmitter } from 'node:events';
import type { Dispatcher } from 'undici';
import { usageError } from '../errors.js';
import type { Ds100Pair } from '../types.js';
import { createHttpDispatcher, type ProxySettings } from './http-dispatcher.js';
import {
  classifyEnableResponse,
  classifyLookupResponse,
  safeExcerpt,
  type AttemptOutcome,
  type HttpAnswer,
} from './response.js';
import { parseRetryAfter } from './retry-policy.js';
import type { TokenProvider } from './token-provider.js';

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
const MAX_BODY_CHARS = 64 * 1024; // enough for any documented body; a runaway proxy page is cut

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

const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

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
  readonly #http: Dispatcher;
  readonly #base: URL;
  readonly #options: Ds100ClientOptions;

  constructor(options: Ds100ClientOptions) {
    this.#options = options;
    this.#base = normaliseBaseUrl(options.baseUrl);
    this.#http = createHttpDispatcher(this.#base.origin, {
      connections: options.connections,
      timeoutMs: options.timeoutMs,
      proxy: options.proxy,
    });
  }

  /** `PATCH v1/ds100/enable/otp` for one pair. */
  async enableOtp(pair: Ds100Pair): Promise<AttemptOutcome> {
    const body = { deviceSerialNumber: pair.deviceSerialNumber, userId: pair.userId };
    return this.#call('PATCH', 'v1/ds100/enable/otp', body, (response, token) =>
      classifyEnableResponse(response, pair, [token]),
    );
  }

  /**
   * `POST v1/ds100/lookup` for one device: read-only, changes nothing on the tenant. On success the
   * outcome carries the credential and the user the device is registered to; 404 is NOT_FOUND.
   */
  async lookup(deviceSerialNumber: string): Promise<AttemptOutcome> {
    return this.#call('POST', 'v1/ds100/lookup', { deviceSerialNumber }, (response, token) =>
      classifyLookupResponse(response, deviceSerialNumber, [token]),
    );
  }

  /** One attempt of one call: auth, deadline, bounded body; a network failure becomes an outcome. */
  async #call(
    method: 'PATCH' | 'POST',
    relativePath: string,
    body: object,
    classify: (response: HttpAnswer, token: string) => AttemptOutcome,
  ): Promise<AttemptOutcome> {
    const path = new URL(relativePath, this.#base).pathname;
    const { tokenProvider } = this.#options;
    let token: string;
    try {
      token = await tokenProvider.getToken();
    } catch (error) {
      // Providers word their errors without secrets (see oauth-token-provider.ts).
      return { ok: false, code: 'TOKEN_ERROR', message: safeExcerpt(String((error as Error).message ?? error)) };
    }
    // undici takes an EventEmitter as the abort signal (documented); it costs far less than an
    // AbortController per attempt, which showed in the profile (BENCHMARKS.md).
    const deadline = new EventEmitter();
    let isTimedOut = false;
    const timer = setTimeout(() => {
      isTimedOut = true;
      deadline.emit('abort');
    }, this.#options.timeoutMs);
    try {
      const response = await this.#http.request({
        origin: this.#base.origin,
        method,
        path,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
        signal: deadline,
      });
      // A body of known, sane length is read in one go (the common case, and the fastest); anything
      // else is read chunk by chunk and cut, so a runaway proxy page cannot fill memory.
      const length = Number(response.headers['content-length']);
      let text = '';
      if (length <= MAX_BODY_CHARS) {
        text = await response.body.text();
      } else {
        for await (const chunk of response.body) {
          if (text.length < MAX_BODY_CHARS) text += chunk.toString('utf8');
        }
      }
      const outcome = classify(
        {
          status: response.statusCode,
          body: text,
          retryAfterMs: parseRetryAfter(header(response.headers['retry-after']), Date.now()),
          location: header(response.headers['location']),
        },
        token,
      );
      if (!outcome.ok && outcome.code === 'FORBIDDEN' && tokenProvider.invalidate) {
        // The token may have expired or been refused: drop it so the retry carries a fresh one.
        tokenProvider.invalidate(token);
        return { ...outcome, isTokenRenewed: true };
      }
      return outcome;
    } catch (error) {
      return networkFailure(error, isTimedOut);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}
