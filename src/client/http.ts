import { createRequire } from 'node:module';
import type { Dispatcher, EnvHttpProxyAgent as EnvHttpProxyAgentClass, Pool as PoolClass } from 'undici';

// undici's classes are loaded from their own modules rather than from its index, which also loads
// its fetch and cookie modules; those read Node's global Headers, which loads Node's own bundled copy
// of undici and compiles a second HTTP parser: about 90 ms and 8 MB at every start (BENCHMARKS.md).
// The index also gives every dispatcher its request()/connect() methods (the proxy agent's CONNECT
// tunnel needs connect()); that one line is done here the same way.
const requireUndici = createRequire(import.meta.url);
const Pool = requireUndici('undici/lib/dispatcher/pool.js') as typeof PoolClass;
const EnvHttpProxyAgent = requireUndici(
  'undici/lib/dispatcher/env-http-proxy-agent.js',
) as typeof EnvHttpProxyAgentClass;
Object.assign(
  (requireUndici('undici/lib/dispatcher/dispatcher.js') as { prototype: object }).prototype,
  requireUndici('undici/lib/api/index.js'),
);

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

export interface HttpDispatcherOptions {
  readonly connections: number;
  /** Backstop for the per-attempt deadline; undici's defaults are five minutes. */
  readonly timeoutMs: number;
  readonly proxy?: ProxySettings | undefined;
}

/**
 * The undici dispatcher for one origin. Without a proxy: a keep-alive Pool (the fast path). With one:
 * an EnvHttpProxyAgent given the settings explicitly (empty strings, so that it does not read
 * process.env behind our back), which honours NO_PROXY and tunnels through the proxy with CONNECT.
 * Redirects are never followed: neither dispatcher has a redirect interceptor.
 * TLS certificates are always verified; a private CA is added with NODE_EXTRA_CA_CERTS.
 */
export function createHttpDispatcher(origin: string, options: HttpDispatcherOptions): Dispatcher {
  const common = {
    connections: options.connections,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  };
  if (!options.proxy) return new Pool(origin, common);
  return new EnvHttpProxyAgent({
    ...common,
    httpProxy: options.proxy.httpProxy ?? '',
    httpsProxy: options.proxy.httpsProxy ?? '',
    noProxy: options.proxy.noProxy ?? '',
  });
}
