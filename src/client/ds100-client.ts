import { EventEmitter } from 'node:events';
import { Pool } from 'undici';
import { usageError } from '../errors.js';
import type { Ds100Pair } from '../types.js';
import { classifyEnableResponse, safeExcerpt, type AttemptOutcome } from './response.js';
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
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const MAX_BODY_CHARS = 64 * 1024; // enough for any documented body; a runaway proxy page is cut

/**
 * Checks a base URL and returns it with a trailing slash, so that relative API paths resolve under
 * it. Plain http is refused except on loopback (the simulator): the bearer token must not cross a
 * network unencrypted.
 */
export function normaliseBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`Expected the base URL to be an absolute https:// URL, got "${raw}"`);
  }
  const isLoopback = LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith('127.');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback)) {
    throw usageError(`Expected the base URL to use https:// (plain http only on loopback), got "${raw}"`);
  }
  if (url.search || url.hash) throw usageError(`Expected the base URL without ?query or #fragment, got "${raw}"`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

function networkFailure(error: unknown, isTimeout: boolean): AttemptOutcome {
  if (isTimeout) return { ok: false, code: 'TIMEOUT', message: 'no complete response within the timeout' };
  const { code, message } = error as { code?: string; message?: string };
  const detail = safeExcerpt(code ?? message ?? String(error));
  const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
  return timedOut
    ? { ok: false, code: 'TIMEOUT', message: detail }
    : { ok: false, code: 'NETWORK_ERROR', message: detail };
}

/** The tenant's DS100 endpoints over one pooled keep-alive client. Never throws per request. */
export class Ds100Client {
  readonly #pool: Pool;
  readonly #base: URL;
  readonly #enablePath: string;
  readonly #options: Ds100ClientOptions;

  constructor(options: Ds100ClientOptions) {
    this.#options = options;
    this.#base = normaliseBaseUrl(options.baseUrl);
    this.#enablePath = new URL('v1/ds100/enable/otp', this.#base).pathname;
    this.#pool = new Pool(this.#base.origin, {
      connections: options.connections,
      // Backstops for the per-attempt deadline below; undici's defaults are five minutes.
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** `PATCH v1/ds100/enable/otp` for one pair. */
  async enableOtp(pair: Ds100Pair): Promise<AttemptOutcome> {
    const token = await this.#options.tokenProvider.getToken();
    // undici takes an EventEmitter as the abort signal (documented); it costs far less than an
    // AbortController per attempt, which showed in the profile (BENCHMARKS.md).
    const deadline = new EventEmitter();
    let isTimedOut = false;
    const timer = setTimeout(() => {
      isTimedOut = true;
      deadline.emit('abort');
    }, this.#options.timeoutMs);
    try {
      const response = await this.#pool.request({
        method: 'PATCH',
        path: this.#enablePath,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ deviceSerialNumber: pair.deviceSerialNumber, userId: pair.userId }),
        signal: deadline,
      });
      // A body of known, sane length is read in one go (the common case, and the fastest); anything
      // else is read chunk by chunk and cut, so a runaway proxy page cannot fill memory.
      const length = Number(response.headers['content-length']);
      let body = '';
      if (length <= MAX_BODY_CHARS) {
        body = await response.body.text();
      } else {
        for await (const chunk of response.body) {
          if (body.length < MAX_BODY_CHARS) body += chunk.toString('utf8');
        }
      }
      return classifyEnableResponse(
        {
          status: response.statusCode,
          body,
          retryAfterMs: parseRetryAfter(header(response.headers['retry-after']), Date.now()),
          location: header(response.headers['location']),
        },
        pair,
        [token],
      );
    } catch (error) {
      return networkFailure(error, isTimedOut);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
