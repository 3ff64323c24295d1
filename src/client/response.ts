import type { Ds100Pair, FailureCode, TokenRecord } from '../types.js';

export type AttemptOutcome = AttemptSuccess | AttemptFailure;

export interface AttemptSuccess {
  readonly ok: true;
  readonly httpStatus: number;
  readonly token: TokenRecord;
  /** The user the credential is registered to, as the tenant says (lookup). */
  readonly userId?: string | undefined;
  /**
   * Set when this success was read from a lookup because the change's own answer was lost: what
   * happened to that answer (e.g. "ECONNRESET").
   */
  readonly lostAnswer?: string | undefined;
}

/** The parts of an HTTP answer the classifiers look at. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly retryAfterMs?: number | undefined;
  readonly location?: string | undefined;
}

export interface AttemptFailure {
  readonly ok: false;
  readonly code: FailureCode;
  readonly httpStatus?: number | undefined;
  /** Short, single-line, secret-free text for the results file. */
  readonly message: string;
  readonly retryAfterMs?: number | undefined;
  /** A 403 after which the token provider dropped the refused token: one retry may succeed. */
  readonly isTokenRenewed?: boolean | undefined;
  /**
   * The request may have reached the tenant and taken effect, but its answer was lost or unreadable
   * (a reset after sending, a timeout, a gateway's 502/504, a 2xx that is not the documented body).
   * A change is then settled by a lookup before it is retried or reported (see RequestQueue.send).
   */
  readonly isAnswerLost?: boolean | undefined;
}

const EXCERPT_LENGTH = 200;

/**
 * Makes server text safe for a results cell: the JSON error's description or message when there is
 * one, tags stripped from proxy HTML pages, one line, short, and any secret blotted out.
 */
export function safeExcerpt(body: string, secrets: readonly string[] = []): string {
  let text = body;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object') {
      const fields = parsed as Record<string, unknown>;
      const found = [fields['description'], fields['message'], fields['error']].find((v) => typeof v === 'string');
      if (typeof found === 'string') text = found;
    }
  } catch {
    text = body.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ');
  }
  for (const secret of secrets) if (secret) text = text.split(secret).join('[redacted]');
  text = text
    // Control characters would break the one-line cell and could smuggle terminal escapes.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > EXCERPT_LENGTH ? `${text.slice(0, EXCERPT_LENGTH - 1)}…` : text;
}

const failure = (code: FailureCode, httpStatus: number | undefined, message: string): AttemptFailure => ({
  ok: false,
  code,
  httpStatus,
  message,
});

/**
 * Whether a 404's body is the API's own ("the user or the DS100 does not exist"), as API.md shows it:
 * JSON with a `description`, or a `code` naming NOT_FOUND. Anything else (an HTML page, a gateway's or
 * framework's "no such route" such as Spring's `{"status":404,"error":"Not Found","path":...}`) says
 * the request never reached the DS100 API: the base URL is probably wrong. The vendor does not
 * document the DS100 404 body, so this reads the shape it documents for user calls (README, "Error
 * codes", says so too).
 */
export function isApiNotFound(body: string): boolean {
  try {
    const parsed: unknown = JSON.parse(body);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return false;
    const { code, description } = parsed as Record<string, unknown>;
    return typeof description === 'string' || (typeof code === 'string' && code.includes('NOT_FOUND'));
  } catch {
    return false;
  }
}

/** Gateways answer 502 and 504 when the service behind them did not answer: it may have acted. */
const isGatewayStatus = (status: number): boolean => status === 502 || status === 504;

const codeForStatus = (status: number): FailureCode =>
  status === 400
    ? 'BAD_REQUEST'
    : status === 403
      ? 'FORBIDDEN'
      : status === 404
        ? 'NOT_FOUND'
        : status === 429
          ? 'RATE_LIMITED'
          : status >= 500
            ? 'SERVER_ERROR'
            : 'UNEXPECTED_STATUS';

const isString = (value: unknown): value is string => typeof value === 'string';

/**
 * The element of a parsed 200 body that describes `deviceSerialNumber`: the documented body is an
 * array, and the service may return several of the user's credentials, so this device's element is
 * preferred, else the first object that names no device at all. An array that only describes other
 * devices says nothing about this one. A plain loop: this runs for every row.
 */
function recordFor(parsed: readonly unknown[], deviceSerialNumber: string): Record<string, unknown> | undefined {
  let unnamed: Record<string, unknown> | undefined;
  for (const item of parsed) {
    if (!item || typeof item !== 'object') continue;
    const record = item as Record<string, unknown>;
    const device = record['deviceSerialNumber'];
    if (device === deviceSerialNumber) return record;
    if (device === undefined) unnamed ??= record;
  }
  return unnamed;
}

/**
 * Reads the token record for `deviceSerialNumber` out of a parsed 200 body, with the element it came
 * from, or says what is wrong with the body.
 */
function readTokenRecord(
  parsed: unknown,
  deviceSerialNumber: string,
): { readonly token: TokenRecord; readonly record: Record<string, unknown> } | string {
  if (!Array.isArray(parsed)) return 'the 200 response is not the documented JSON array';
  const record = recordFor(parsed, deviceSerialNumber);
  if (!record) {
    return parsed.length === 0
      ? 'the 200 response is an empty array'
      : `the 200 response describes other devices, not ${deviceSerialNumber}`;
  }
  if (!isString(record['tokenSerialNumber']) || !isString(record['tokenStatus'])) {
    return 'the 200 response has no tokenSerialNumber or tokenStatus';
  }
  const token: TokenRecord = {
    tokenSerialNumber: record['tokenSerialNumber'],
    tokenStatus: record['tokenStatus'],
    tokenStatusChangedAt: isString(record['tokenStatusChangedAt']) ? record['tokenStatusChangedAt'] : '',
    tokenStatusChangedBy: isString(record['tokenStatusChangedBy']) ? record['tokenStatusChangedBy'] : '',
  };
  return { token, record };
}

/** The outcome of a non-2xx answer; the same for every call. */
function classifyFailure(response: HttpAnswer, secrets: readonly string[]): AttemptFailure {
  const { status, body } = response;
  if (status >= 300 && status < 400) {
    // Following a redirect could carry the Authorization header to another host.
    const target = response.location ? ` to ${safeExcerpt(response.location, secrets)}` : '';
    return failure('UNEXPECTED_STATUS', status, `redirect${target} not followed; check the base URL`);
  }
  const message = safeExcerpt(body, secrets) || `HTTP ${status}`;
  if (status === 404 && !isApiNotFound(body)) {
    // The code says what it means (a wrong base URL, most likely); the breaker and the preflight say so in words.
    return failure('ENDPOINT_NOT_FOUND', status, `404 without the API's error body (${message})`);
  }
  return {
    ok: false,
    code: codeForStatus(status),
    httpStatus: status,
    message,
    retryAfterMs: response.retryAfterMs,
    isAnswerLost: isGatewayStatus(status) || undefined,
  };
}

/** A 2xx whose body cannot be read: the tenant acted, most likely, but did not say how. */
const unreadable = (status: number, message: string): AttemptFailure => ({
  ok: false,
  code: 'BAD_RESPONSE',
  httpStatus: status,
  message,
  isAnswerLost: true,
});

/**
 * A 2xx answer's body as JSON, or the outcome of one that is not JSON: an empty body is an answer
 * lost on the way (asked again, or settled by a lookup); a page of text or HTML is a login page or a
 * proxy's, which asking again does not cure (BAD_RESPONSE).
 */
function readJsonBody(
  status: number,
  body: string,
  secrets: readonly string[],
): { readonly parsed: unknown } | { readonly outcome: AttemptFailure } {
  try {
    return { parsed: JSON.parse(body) as unknown };
  } catch {
    const message = safeExcerpt(`the 200 response is not JSON: ${safeExcerpt(body)}`, secrets);
    return { outcome: body.trim() === '' ? unreadable(status, message) : failure('BAD_RESPONSE', status, message) };
  }
}

/**
 * Turns a lookup call's HTTP response into an outcome. Pure. A 200 with an empty array is taken as
 * "not registered" (NOT_FOUND), like the documented 404: there is no credential for the device.
 */
export function classifyLookupResponse(
  response: HttpAnswer,
  deviceSerialNumber: string,
  secrets: readonly string[] = [],
): AttemptOutcome {
  const { status, body } = response;
  if (status < 200 || status >= 300) return classifyFailure(response, secrets);
  // An empty or misshapen 200 is taken as an answer lost on the way (a lookup changes nothing, so it
  // is simply asked again); a page of text or HTML is a login page or a proxy, which asking again
  // does not cure.
  const json = readJsonBody(status, body, secrets);
  if ('outcome' in json) return json.outcome;
  const { parsed } = json;
  if (!Array.isArray(parsed)) return unreadable(status, 'the 200 response is not the documented JSON array');
  if (parsed.length === 0) return failure('NOT_FOUND', status, 'the lookup found no credential for this device');
  const read = readTokenRecord(parsed, deviceSerialNumber);
  if (typeof read === 'string') return unreadable(status, safeExcerpt(read, secrets));
  const userId = read.record['userId'];
  if (!isString(userId)) return unreadable(status, 'the lookup response has no userId');
  return { ok: true, httpStatus: status, token: read.token, userId };
}

/**
 * Turns an enable or disable call's HTTP response into an outcome. Pure. A 200 whose credential does
 * not have the status the call sets (`Enabled`, `Disabled`) is unreadable: the call may have acted,
 * and the lookup that settles a lost answer tells.
 */
function classifyChangeResponse(
  response: HttpAnswer,
  pair: Ds100Pair,
  expectedStatus: 'Enabled' | 'Disabled',
  secrets: readonly string[] = [],
): AttemptOutcome {
  const { status, body } = response;
  if (status >= 200 && status < 300) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      // Unlike a lookup's, any unreadable change answer is settled by a lookup: the call may have acted.
      return unreadable(status, safeExcerpt(`the 200 response is not JSON: ${safeExcerpt(body)}`, secrets));
    }
    const read = readTokenRecord(parsed, pair.deviceSerialNumber);
    if (typeof read === 'string') return unreadable(status, safeExcerpt(read, secrets));
    const { token } = read;
    if (token.tokenStatus !== expectedStatus) {
      return unreadable(
        status,
        `the credential's tokenStatus is "${safeExcerpt(token.tokenStatus)}", not "${expectedStatus}"`,
      );
    }
    return { ok: true, httpStatus: status, token };
  }
  return classifyFailure(response, secrets);
}

/** Turns an enable call's HTTP response into an outcome. Pure. */
export const classifyEnableResponse = (
  response: HttpAnswer,
  pair: Ds100Pair,
  secrets: readonly string[] = [],
): AttemptOutcome => classifyChangeResponse(response, pair, 'Enabled', secrets);

/** Turns a disable call's HTTP response into an outcome. Pure. */
export const classifyDisableResponse = (
  response: HttpAnswer,
  pair: Ds100Pair,
  secrets: readonly string[] = [],
): AttemptOutcome => classifyChangeResponse(response, pair, 'Disabled', secrets);

/** What `POST v1/users/lookup` found: the user ID of the address, or why not. */
export type UserLookupOutcome =
  { readonly ok: true; readonly httpStatus: number; readonly userId: string } | AttemptFailure;

// The enable call takes 8-4-4-4-12 hex (API.md): any other `id` would only be refused there.
const USER_ID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Turns a user lookup's HTTP response into an outcome. Pure. 200 is documented as the user object,
 * whose `id` is the user ID; anything else in a 200 (not JSON, an array, no string `id`, an `id` that
 * is no user ID) is BAD_RESPONSE. The documented 404 is NOT_FOUND: no user has the address.
 */
export function classifyUserLookupResponse(response: HttpAnswer, secrets: readonly string[] = []): UserLookupOutcome {
  const { status, body } = response;
  if (status < 200 || status >= 300) return classifyFailure(response, secrets);
  const read = readJsonBody(status, body, secrets);
  if ('outcome' in read) return read.outcome;
  const { parsed } = read;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return failure('BAD_RESPONSE', status, 'the user lookup response is not the documented user object');
  }
  const id = (parsed as Record<string, unknown>)['id'];
  if (!isString(id)) return failure('BAD_RESPONSE', status, 'the user lookup response has no string id');
  if (!USER_ID_SHAPE.test(id)) {
    return failure(
      'BAD_RESPONSE',
      status,
      `the user lookup response's id ${safeExcerpt(JSON.stringify(id), secrets)} is not a user ID`,
    );
  }
  return { ok: true, httpStatus: status, userId: id };
}
