import { EventEmitter } from 'node:events';
import { EnvHttpProxyAgent, Pool, type Dispatcher } from 'undici';

/**
 * Where outgoing requests go through a proxy. Read from the usual environment variables by
 * `proxySettingsFromEnv`; undefined means "connect directly", which keeps the plain keep-alive Pool.
 */
export interface ProxySettings {
  /** Proxy for https:// targets (HTTPS_PROXY). */
  readonly httpsProxy?: string | undefined;
  /** Proxy for http:// targets (HTTP_PROXY); also used for https when HTTPS_PROXY is unset, as undici does. */
  readonly httpProxy?: string | undefined;
  /** Comma- or space-separated hosts (`example.com`, `.example.com`, `host:port`, `*`) reached directly. */
  readonly noProxy?: string | undefined;
}

/** Reads HTTPS_PROXY / HTTP_PROXY / NO_PROXY (lower case wins, as curl does). Pure: `env` is passed in. */
export function proxySettingsFromEnv(env: Readonly<Record<string, string | undefined>>): ProxySettings | undefined {
  const pick = (name: string): string | undefined => env[name.toLowerCase()] || env[name] || undefined;
  const settings = { httpsProxy: pick('HTTPS_PROXY'), httpProxy: pick('HTTP_PROXY'), noProxy: pick('NO_PROXY') };
  return settings.httpsProxy || settings.httpProxy ? settings : undefined;
}

/** A proxy URL for logs: scheme, host and port only, never the user:password it may carry. */
export const describeProxy = (proxy: string): string => {
  try {
    const url = new URL(proxy);
    return `${url.protocol}//${url.host}`;
  } catch {
    return '(unparsable proxy URL)';
  }
};

/** What came back for one request: an HTTP answer, or the error that ended it (network, deadline). */
export type Exchange =
  | {
      readonly ok: true;
      readonly status: number;
      /** The body as text, cut at `MAX_BODY_BYTES`. */
      readonly body: string;
      readonly retryAfter: string | undefined;
      readonly location: string | undefined;
    }
  | { readonly ok: false; readonly error: unknown; readonly isTimeout: boolean };

/** Enough for any documented body; a runaway proxy page is cut here rather than filling memory. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface HttpClientOptions {
  /** Keep-alive connections; match the run's concurrency. */
  readonly connections: number;
  /** Deadline of one request, headers and body together. */
  readonly timeoutMs: number;
  readonly proxy?: ProxySettings | undefined;
}

export interface HttpRequest {
  readonly origin: string;
  readonly method: 'PATCH' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const firstValue = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

/**
 * The body as text, at most MAX_BODY_BYTES of it. A body of known, sane length (every documented
 * answer) is read in one go; anything else chunk by chunk and cut, so that a runaway proxy page cannot
 * fill memory, and read to its end, so that the connection stays usable for the next request.
 */
async function readCapped(response: Dispatcher.ResponseData): Promise<string> {
  if (Number(response.headers['content-length']) <= MAX_BODY_BYTES) return response.body.text();
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    if (bytes < MAX_BODY_BYTES) chunks.push(chunk.subarray(0, MAX_BODY_BYTES - bytes));
    bytes += chunk.length;
  }
  // Decoded once at the end, so a character split across two chunks comes out whole.
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * HTTP for one origin over undici. Without a proxy: a keep-alive Pool. With one: an
 * EnvHttpProxyAgent given the settings explicitly (empty strings, so that it does not read
 * process.env behind our back), which honours NO_PROXY and tunnels through the proxy with CONNECT.
 * Redirects are never followed: neither dispatcher has a redirect interceptor. TLS certificates are
 * always verified; a private CA is added with NODE_EXTRA_CA_CERTS.
 */
export class HttpClient {
  readonly #dispatcher: Dispatcher;
  readonly #timeoutMs: number;

  constructor(origin: string, options: HttpClientOptions) {
    // undici's own timeouts only bound the gaps between bytes; they back up the deadline below.
    const common = {
      connections: options.connections,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    };
    this.#dispatcher = options.proxy
      ? new EnvHttpProxyAgent({
          ...common,
          httpProxy: options.proxy.httpProxy ?? '',
          httpsProxy: options.proxy.httpsProxy ?? '',
          noProxy: options.proxy.noProxy ?? '',
        })
      : new Pool(origin, common);
    this.#timeoutMs = options.timeoutMs;
  }

  /** One request with a deadline for the whole exchange; never rejects: failures come back as `ok: false`. */
  async send(request: HttpRequest): Promise<Exchange> {
    // undici takes an EventEmitter as the abort signal (a documented form of its `signal` option);
    // an AbortController per request cost about a twentieth of the CPU at thousands of rows a
    // second (BENCHMARKS.md, "Client efficiency").
    const deadline = new EventEmitter();
    let isTimedOut = false;
    const timer = setTimeout(() => {
      isTimedOut = true;
      deadline.emit('abort');
    }, this.#timeoutMs);
    try {
      const { origin, method, path, headers, body } = request;
      const response = await this.#dispatcher.request({ origin, method, path, headers, body, signal: deadline });
      return {
        ok: true,
        status: response.statusCode,
        body: await readCapped(response),
        retryAfter: firstValue(response.headers['retry-after']),
        location: firstValue(response.headers['location']),
      };
    } catch (error) {
      return { ok: false, error, isTimeout: isTimedOut };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}
