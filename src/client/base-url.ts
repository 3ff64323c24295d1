import { usageError } from '../errors.js';

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
