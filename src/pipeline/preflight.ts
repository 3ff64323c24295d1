import type { Ds100Client } from '../client/ds100-client.js';
import type { AttemptOutcome } from '../client/response.js';
import { Ds100Error } from '../errors.js';
import type { Logger } from '../log.js';
import type { RequestQueue } from '../queue/request-queue.js';

/**
 * The device the preflight looks up. Any serial proves the path: the tenant answers the API's own
 * 404 for a device it does not know, a credential for one it does. Nine digits, like a real one.
 */
export const PREFLIGHT_SERIAL = '000000000';

/**
 * Why a run cannot succeed, from the outcome of the preflight lookup; undefined when the tenant
 * answered as the API does. A 404 or 400 in the API's own shape is such an answer: it proves the
 * base URL, TLS and the credentials. Pure.
 */
export function preflightProblem(outcome: AttemptOutcome | undefined, baseUrl: string): string | undefined {
  // Stopped before it was sent (Ctrl-C, --max-runtime): the run records every row not-attempted.
  if (outcome === undefined || outcome.ok) return undefined;
  const { code, message, httpStatus } = outcome;
  const at = `the tenant at ${baseUrl}`;
  switch (code) {
    case 'NOT_FOUND':
    case 'BAD_REQUEST':
      return undefined;
    case 'ENDPOINT_NOT_FOUND':
      return (
        `${at} has no DS100 API: POST v1/ds100/lookup was answered ${message}. ` +
        'Check --base-url (or the key file\'s adminRestApiUrl): it usually ends in "/AdminInterface/restapi/"'
      );
    case 'BAD_RESPONSE':
      return (
        `${at} answered the read-only lookup with something that is not the API's JSON (${message}). ` +
        'An HTML login page or a proxy page is the usual cause: check --base-url and HTTPS_PROXY'
      );
    case 'FORBIDDEN':
      return (
        `${at} refused the credentials for the read-only lookup (403, even with a fresh token: ${message}). ` +
        'The key may be revoked or for another tenant, or its role may not use the DS100 API'
      );
    case 'NETWORK_ERROR':
    case 'TIMEOUT':
      return `${at} cannot be reached (${message}) after every retry: check the base URL, the network and any proxy`;
    case 'RATE_LIMITED':
    case 'SERVER_ERROR':
      return `${at} kept answering ${httpStatus ?? code} (${message}) to the read-only lookup: try again later`;
    default:
      // TLS_ERROR, TOKEN_ERROR, UNEXPECTED_STATUS (a redirect): their messages say what to do.
      return `${at} cannot be used: ${message}`;
  }
}

/**
 * One read-only call before anything is written or changed: a run whose base URL, TLS, credentials
 * or network cannot work stops here, with a sentence saying what is probably wrong (exit 2), instead
 * of failing every row. Paced and retried like any request, with each retry logged.
 */
export async function preflight(
  requests: RequestQueue,
  client: Ds100Client,
  baseUrl: string,
  logger: Logger,
): Promise<void> {
  logger.info({ baseUrl }, 'checking the tenant with one read-only lookup before the run');
  const { outcome } = await requests.send(() => client.lookup(PREFLIGHT_SERIAL), {
    onRetry: (failure, delayMs, attempts) =>
      logger.warn(
        { code: failure.code, reason: failure.message, attempt: attempts, retryInMs: Math.round(delayMs) },
        'the tenant did not answer the preflight lookup; trying again',
      ),
  });
  const problem = preflightProblem(outcome, baseUrl);
  if (problem !== undefined) throw new Ds100Error('TENANT', problem);
}
