import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { usageError } from '../errors.js';
import {
  DS100_SCOPES,
  SimulatorAuth,
  type ApiKeyRegistration,
  type OAuthClientRegistration,
  type SimulatorAuthOptions,
} from './auth.js';
import {
  ABSURD_RETRY_AFTER_SECONDS,
  changesFirst,
  Faults,
  type FaultKind,
  type FaultOptions,
  type FaultStep,
  type JournalFault,
} from './faults.js';
import {
  Tenant,
  seededRandom,
  tokenSerialFor,
  type Ds100Action,
  type Registry,
  type TenantAnswer,
  type TenantOptions,
} from './tenant.js';
import { Users, type UserDirectory } from './users.js';

/**
 * The simulator's HTTP side: routes, request bodies, answers and the record of what was answered.
 * What a DS100 call answers is the tenant's business (tenant.ts), who may call is auth.ts's, and
 * deliberate misbehaviour is faults.ts's.
 */

/** Everything a simulator can be told; the tenant's and the faults' options are documented with them. */
export interface SimulatorOptions extends TenantOptions, FaultOptions {
  readonly port?: number;
  readonly host?: string;
  /** The bearer token the tenant accepts; a random one by default. */
  readonly token?: string;
  /** Seeds the random faults (`errorRate`, `chaos`, `random429`), so that a run can be repeated. Default 1. */
  readonly seed?: number;
  /** Keep a journal of every call (`calls`, for tests); off for long benchmarks. Default true. */
  readonly recordCalls?: boolean;
  /** Outages to stage, e.g. `[{ afterRequests: 500, durationMs: 200 }]`. None by default. */
  readonly outages?: readonly ScheduledOutage[];
  /** API keys whose signed JWTs are accepted (the static `token` stays accepted too). */
  readonly apiKeys?: readonly ApiKeyRegistration[];
  /** OAuth clients the token endpoint (`{oauthIssuer}/token`) serves. */
  readonly oauthClients?: readonly OAuthClientRegistration[];
  /** JWT and access-token rules: clock skew, lifetimes, a maximum token age to force renewals. */
  readonly auth?: SimulatorAuthOptions;
  /**
   * The users `POST v1/users/lookup` knows, email address (any case) -> user ID; any other address is
   * answered 404. Default: every well-formed address is a user whose ID is derived from it (see
   * `derivedUserId`), so that files of addresses work with nothing set up.
   */
  readonly users?: UserDirectory;
}

/**
 * The simulator going away (listener and every connection closed, requests in flight cut off) and
 * listening again on the same port.
 */
export interface ScheduledOutage {
  /** The outage starts when the API request after this many arrives; that request is cut off with the rest. */
  readonly afterRequests: number;
  /** How long nothing listens. */
  readonly durationMs: number;
}

/**
 * One entry of the journal: what the simulator really did with a request. Entries are added when a
 * request's fate is settled (answered, reset, held open), so a slow answer comes after a quick one
 * that arrived later.
 */
export interface SimulatorCall {
  readonly method: string;
  readonly path: string;
  readonly serial: string | undefined;
  /** The body's userId (enable and disable), once the body was read. */
  readonly userId?: string | undefined;
  /** The body's email (`POST v1/users/lookup`), once the body was read. */
  readonly email?: string | undefined;
  /**
   * The status sent, or undefined when nothing was: a reset, a hang, the request that set off an
   * outage, or an answer whose connection had already closed (the client gave up, an outage).
   */
  readonly status: number | undefined;
  /** performance.now() when the request arrived. */
  readonly at: number;
  /** Why the request was refused with 403, when it was. */
  readonly authError?: string | undefined;
  /** The deliberate fault the request met, if any (see `JournalFault`). */
  readonly fault?: JournalFault | undefined;
  /** True when this call moved a credential Disabled -> Enabled or Enabled -> Disabled in the registry. */
  readonly changed: boolean;
}

/** What the simulator has answered so far: `GET /__simulator/stats` returns this as JSON. */
export interface SimulatorStats {
  /** API requests answered (the stats endpoint itself is not counted). */
  readonly requests: number;
  /** Answers by HTTP status, e.g. `{ "200": 980, "429": 20 }`. */
  readonly countsByStatus: Readonly<Record<string, number>>;
  /** Milliseconds between the first and the last API request's arrival (0 before two requests). */
  readonly spanMs: number;
}

export interface RunningSimulator {
  /** The adminRestApiUrl to point a run at. */
  readonly baseUrl: string;
  readonly token: string;
  readonly registry: Registry;
  /** The journal: every API request and what was really done with it (empty with `recordCalls: false`). */
  readonly calls: SimulatorCall[];
  readonly countsByStatus: Map<number, number>;
  /** The OAuth issuer URL; its token endpoint is `{oauthIssuer}/token`. */
  readonly oauthIssuer: string;
  /** Every distinct bearer token presented to the API endpoints (when recording calls). */
  readonly bearerTokensSeen: Set<string>;
  /** Access tokens the token endpoint issued. */
  readonly accessTokensIssued: () => number;
  registerApiKey(key: ApiKeyRegistration): void;
  /** Every later request with this key's tokens is answered 403. */
  revokeApiKey(accessID: string): void;
  registerOAuthClient(client: OAuthClientRegistration): void;
  revokeOAuthClient(clientId: string): void;
  stats(): SimulatorStats;
  /** Closes the listener and every connection, cutting off requests in flight; until `comeBack`, nothing listens. */
  goAway(): Promise<void>;
  /** Listens again on the same port after `goAway`. */
  comeBack(): Promise<void>;
  /** `goAway`, `ms` of silence, `comeBack`: resolves once it listens again (or once it is closed for good). */
  outage(ms: number): Promise<void>;
  /** Closes for good; a scheduled outage that could not listen again rejects here. */
  close(): Promise<void>;
}

export const SIMULATOR_BASE_PATH = '/AdminInterface/restapi/';
export const SIMULATOR_OAUTH_PATH = '/oauth';
/** Outside the API's base path, so that it can never be mistaken for a tenant call. No token needed. */
export const SIMULATOR_STATS_PATH = '/__simulator/stats';
const MAX_BODY_BYTES = 1024 * 1024;

type Ds100Route =
  | {
      /** A DS100 call. */
      readonly action: Ds100Action;
      /** The OAuth scope an access token needs for it. */
      readonly scope: string;
      /** The body's properties: exactly these, all strings. */
      readonly fields: readonly string[];
    }
  /** `POST v1/users/lookup`, answered from the users, not the registry; its body is read by readUserLookupBody. */
  | { readonly action: 'userLookup'; readonly scope: string };

const PAIR_FIELDS = ['deviceSerialNumber', 'userId'];
/** By `${method} ${path below the base path}`. */
const DS100_ROUTES: ReadonlyMap<string, Ds100Route> = new Map([
  ['PATCH v1/ds100/enable/otp', { action: 'enable', scope: DS100_SCOPES.manage, fields: PAIR_FIELDS }],
  ['PATCH v1/ds100/disable/otp', { action: 'disable', scope: DS100_SCOPES.manage, fields: PAIR_FIELDS }],
  ['POST v1/ds100/lookup', { action: 'lookup', scope: DS100_SCOPES.read, fields: ['deviceSerialNumber'] }],
  ['POST v1/users/lookup', { action: 'userLookup', scope: DS100_SCOPES.userRead }],
]);

const ERROR_BODIES: Record<number, (path: string) => object> = {
  400: () => ({ code: '400 BAD_REQUEST', description: 'Wrong number of properties in the request body.' }),
  403: (path) => ({
    timestamp: Date.now(),
    status: 403,
    error: 'Forbidden',
    message: 'Server failed to process provided access token',
    path,
  }),
  404: () => ({ code: '404 NOT_FOUND', description: 'Resource not found' }),
  415: () => ({ code: '415 UNSUPPORTED_MEDIA_TYPE', description: 'Content type must be application/json' }),
  429: () => ({ code: '429 TOO_MANY_REQUESTS', description: 'Too many requests' }),
  500: () => ({ code: '500 INTERNAL_SERVER_ERROR', description: 'An internal error occurred.' }),
};

const errorBody = (status: number, path: string): string =>
  JSON.stringify((ERROR_BODIES[status] ?? ERROR_BODIES[500]!)(path));

const PROXY_502_PAGE =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n' +
  '<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

/** The Retry-After of a throttle fault; undefined for none. */
function retryAfterFor(kind: FaultKind, seconds: number): string | undefined {
  if (kind === 'throttleSeconds') return String(seconds);
  if (kind === 'throttleAbsurd') return String(ABSURD_RETRY_AFTER_SECONDS);
  if (kind === 'throttleNoRetryAfter') return undefined;
  // An HTTP-date has whole seconds: round up, so that it never asks for less than the seconds given.
  return new Date(Math.ceil(Date.now() / 1000) * 1000 + seconds * 1000).toUTCString();
}

const OTHER_USERS = ['bf42b589-d2dd-601d-7848-b1a07af6750b', '5d0b3c1e-8f2a-4e6b-9c7d-1a2b3c4d5e6f'];

/** The same record for a device next to it, registered to someone else: what a mixed-up answer says. */
function anotherDevice(record: object): object {
  const fields = record as Record<string, unknown>;
  const serial = String(fields['deviceSerialNumber']);
  const last = serial.at(-1) ?? '';
  const other = /\d/.test(last) ? `${serial.slice(0, -1)}${(Number(last) + 1) % 10}` : `${serial}1`;
  const userId = fields['userId'] === OTHER_USERS[0] ? OTHER_USERS[1] : OTHER_USERS[0];
  return { ...fields, userId, tokenSerialNumber: tokenSerialFor(other), deviceSerialNumber: other };
}

/** The body of a garbled 200 in place of the tenant's records. */
function garbledBody(kind: 'emptyOk' | 'objectOk' | 'otherDeviceOk', records: readonly object[]): string {
  if (kind === 'emptyOk') return '';
  if (kind === 'objectOk') return JSON.stringify(records[0] ?? {});
  return JSON.stringify(records.map(anotherDevice));
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A request body that must be a JSON object, or the service's 400 description of what it is instead. */
function readJsonObject(body: string): Record<string, unknown> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'Malformed JSON in the request body.';
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return 'The request body must be a JSON object.';
  return parsed as Record<string, unknown>;
}

/** Parses a body that must hold exactly the named string properties, as the service demands. */
function readExactProperties(body: string, names: readonly string[]): Record<string, string> | string {
  const fields = readJsonObject(body);
  if (typeof fields === 'string') return fields;
  const keys = Object.keys(fields);
  if (keys.length !== names.length || !names.every((name) => typeof fields[name] === 'string')) {
    return 'Wrong number of properties in the request body.';
  }
  return fields as Record<string, string>;
}

/**
 * Parses a user lookup's body: `email`, a string, and `searchUnsynched`, a boolean the vendor's
 * example always sends (not required here); nothing else.
 */
function readUserLookupBody(body: string): { readonly email: string } | string {
  const fields = readJsonObject(body);
  if (typeof fields === 'string') return fields;
  const { email, searchUnsynched, ...others } = fields;
  if (typeof email !== 'string' || (searchUnsynched !== undefined && typeof searchUnsynched !== 'boolean')) {
    return 'The request body needs a string email and, if given, a boolean searchUnsynched.';
  }
  if (Object.keys(others).length > 0) return 'Wrong number of properties in the request body.';
  return { email };
}

/**
 * Starts a local stand-in for a tenant's Cloud Administration API: the DS100 enable, disable and
 * lookup calls with the documented status codes and error bodies, and whatever faults it is told to
 * stage.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const tenant = new Tenant(options);
  const users = new Users(options.users);
  const seed = options.seed ?? 1;
  // Random 429s draw from a stream of their own, so that turning them on moves no other fault of a seed.
  const faults = new Faults(options, seededRandom(seed), seededRandom(seed ^ 0x429));
  const token = options.token ?? randomBytes(24).toString('base64url');
  const calls: SimulatorCall[] = [];
  const countsByStatus = new Map<number, number>();
  const recordCalls = options.recordCalls ?? true;
  const auth = new SimulatorAuth(token, options.auth);
  const bearerTokensSeen = new Set<string>();
  const outages = [...(options.outages ?? [])].sort((a, b) => a.afterRequests - b.afterRequests);
  for (const { afterRequests, durationMs } of outages) {
    if (!Number.isInteger(afterRequests) || afterRequests < 0 || !(durationMs >= 0 && durationMs < 2 ** 31)) {
      throw usageError(
        `Expected an outage to have a whole afterRequests from 0 and a durationMs from 0, got ${afterRequests} and ${durationMs}`,
      );
    }
  }
  const host = options.host ?? '127.0.0.1';
  let port = 0;
  let origin = '';
  let requests = 0;
  let firstAt = 0;
  let lastAt = 0;
  const stats = (): SimulatorStats => ({
    requests,
    countsByStatus: Object.fromEntries(countsByStatus),
    spanMs: requests > 1 ? lastAt - firstAt : 0,
  });

  // Going away, coming back and closing run one after another, so that an outage that ends while
  // the simulator closes, or two outages at once, cannot listen twice or after the end.
  let transitions: Promise<void> = Promise.resolve();
  const inTurn = (step: () => Promise<void>): Promise<void> => (transitions = transitions.then(step, step));
  let isAway = false;
  let isClosed = false;
  let outageError: unknown;
  // Each outage's wait, ended early by close() so that no timer outlives the simulator.
  const outageWaits = new Set<() => void>();
  const closeListener = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // After close(), which stops new connections: the ones open now, held requests included, go too.
      server.closeAllConnections();
    });
  const goAway = (): Promise<void> =>
    inTurn(async () => {
      if (isAway) return;
      isAway = true;
      await closeListener();
    });
  const comeBack = (): Promise<void> =>
    inTurn(async () => {
      if (!isAway || isClosed) return;
      server.listen(port, host);
      await once(server, 'listening');
      isAway = false;
    });
  const outage = async (ms: number): Promise<void> => {
    await goAway();
    if (isClosed) return;
    await new Promise<void>((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        outageWaits.delete(end);
        resolve();
      };
      const timer = setTimeout(end, ms);
      outageWaits.add(end);
    });
    await comeBack();
  };
  // A scheduled outage has no caller to tell: close() does.
  const startOutage = (ms: number): void => void outage(ms).catch((error: unknown) => (outageError ??= error));

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const at = performance.now();
    // Kept: a request stream left unread (a body too large) lets go of its socket.
    const socket = request.socket;
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (path === SIMULATOR_STATS_PATH && request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(stats()));
      return;
    }
    if (requests++ === 0) firstAt = at;
    lastAt = at;
    // Filled in as the request is understood; calls settled before that are journaled without them.
    const call: {
      serial?: string;
      userId?: string;
      email?: string;
      authError?: string;
      fault?: JournalFault;
      changed?: boolean;
    } = {};
    const record = (status: number | undefined): void => {
      if (!recordCalls) return;
      calls.push({
        method: request.method ?? '',
        path,
        serial: call.serial,
        userId: call.userId,
        email: call.email,
        status,
        at,
        authError: call.authError,
        fault: call.fault,
        changed: call.changed ?? false,
      });
    };
    const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
      // The client gave up or an outage cut the connection while the answer was being made: the
      // change (if any) is done, but nothing reaches anyone.
      if (socket.destroyed) return record(undefined);
      countsByStatus.set(status, (countsByStatus.get(status) ?? 0) + 1);
      record(status);
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(body);
    };
    const sendError = (status: number, description?: string, headers?: Record<string, string>): void =>
      send(
        status,
        description === undefined ? errorBody(status, path) : JSON.stringify({ code: `${status}`, description }),
        headers,
      );

    const sendTooMany = (retryAfterSeconds: number | undefined): void =>
      sendError(429, undefined, retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) });

    const sendFault = (step: FaultStep & { readonly status: number }): void => {
      const headers: Record<string, string> = step.retryAfter === undefined ? {} : { 'retry-after': step.retryAfter };
      const echoed = step.echoAuthorization
        ? JSON.stringify({ description: `rejected ${request.headers.authorization ?? ''}` })
        : undefined;
      send(step.status, echoed ?? step.body ?? errorBody(step.status, path), headers);
    };

    /** Plays a fault kind; false when it does not apply to the tenant's answer (a garbled 200 of a 404). */
    const misbehave = (kind: FaultKind, answer: TenantAnswer | undefined): boolean => {
      switch (kind) {
        case 'resetBeforeChange':
        case 'resetAfterChange':
          record(undefined);
          // A TCP reset, as a crashing process or a dropping middlebox sends, not a polite FIN.
          if (!socket.destroyed) socket.resetAndDestroy();
          return true;
        case 'hangAfterChange':
          // Nothing is ever written and nothing waits: the connection stays open until the client
          // closes it or the simulator closes every connection.
          record(undefined);
          return true;
        case 'proxyHtml502':
          send(502, PROXY_502_PAGE, { 'content-type': 'text/html' });
          return true;
        case 'errorBurst':
          sendError(500);
          return true;
        case 'throttleSeconds':
        case 'throttleDate':
        case 'throttleNoRetryAfter':
        case 'throttleAbsurd': {
          const retryAfter = retryAfterFor(kind, faults.throttleRetryAfterSeconds);
          sendError(429, undefined, retryAfter === undefined ? {} : { 'retry-after': retryAfter });
          return true;
        }
        case 'emptyOk':
        case 'objectOk':
        case 'otherDeviceOk': {
          if (answer?.status !== 200) return false;
          send(200, garbledBody(kind, answer.records));
          return true;
        }
      }
    };

    /**
     * Answers a call whose faults are scripted by `key` (a serial, or an address) as `perform` says,
     * unless a fault drawn for the key answers instead: a scripted step or the error rate before
     * anything is done, a fault that acts before the change before `perform`, any other after it on
     * what `perform` saw (`seen`: a 200's records; the garbled 200s need one).
     */
    const answerWithFaults = async (
      key: string,
      perform: () => { readonly seen: TenantAnswer | undefined; readonly reply: () => void },
    ): Promise<void> => {
      const { delayMs, fault } = faults.next(key);
      if (delayMs) await sleep(delayMs);
      call.fault = fault?.kind;
      if (fault?.kind === 'scripted') return sendFault(fault.step);
      if (fault?.kind === 'errorRate') return sendError(500);
      if (fault && !changesFirst(fault.kind) && misbehave(fault.kind, undefined)) return;
      const { seen, reply } = perform();
      if (fault && misbehave(fault.kind, seen)) return;
      call.fault = undefined;
      reply();
    };

    /**
     * `POST v1/users/lookup`, after the checks every route has: faults are scripted by the email
     * address (as DS100 calls' are by serial) and drawn like theirs. Of the garbled 200s, emptyOk sends
     * an empty body and otherDeviceOk an array; objectOk sends the user as is (already an object).
     */
    const lookUpUser = async (body: string): Promise<void> => {
      const fields = readUserLookupBody(body);
      if (typeof fields === 'string') return sendError(400, fields);
      const { email } = fields;
      call.email = email;
      return answerWithFaults(email, () => {
        const answer = users.lookup(email);
        return answer.status === 200
          ? { seen: { status: 200, records: [answer.user] }, reply: () => send(200, JSON.stringify(answer.user)) }
          : {
              seen: undefined,
              // The body the real service sends for an unknown address (API.md).
              reply: () => send(404, JSON.stringify({ code: '404 NOT_FOUND', description: answer.description })),
            };
      });
    };

    const outage = outages[0];
    if (outage && requests > outage.afterRequests) {
      while (outages[0] && requests > outages[0].afterRequests) outages.shift();
      call.fault = 'outage';
      record(undefined);
      // Closes every connection, this request's among them.
      startOutage(outage.durationMs);
      return;
    }

    const body = await readBody(request);
    const route = path.startsWith(SIMULATOR_BASE_PATH)
      ? DS100_ROUTES.get(`${request.method} ${path.slice(SIMULATOR_BASE_PATH.length)}`)
      : undefined;
    if (route && recordCalls && request.headers.authorization?.startsWith('Bearer ')) {
      bearerTokensSeen.add(request.headers.authorization.slice('Bearer '.length));
    }
    // Authentication and the limits are asked before the latency is spent, so that a request holds
    // its place in a concurrency limit for as long as its answer takes, as on a slow tenant.
    const verdict = route && (await auth.verifyBearer(request.headers.authorization, route.scope));
    const admission = verdict?.ok ? faults.limiter?.admit(performance.now()) : undefined;
    const noise = verdict?.ok && admission?.ok !== false ? faults.random429?.admit(performance.now()) : undefined;
    try {
      // Counted from the request's arrival, so that reading the body does not add to it.
      const latency = faults.latencyLeft(performance.now() - at);
      if (latency !== undefined) await sleep(latency);

      if (path === `${SIMULATOR_OAUTH_PATH}/token` && request.method === 'POST') {
        const form = new URLSearchParams(body ?? '');
        const answer = await auth.handleTokenRequest(form, `${origin}${SIMULATOR_OAUTH_PATH}/token`);
        return send(answer.status, JSON.stringify(answer.body), { 'cache-control': 'no-store' });
      }
      // Not the API's own 404 body: a path the service does not have is answered by the web framework
      // in front of it (Spring's shape), which is how a client tells a wrong base URL from an unknown device.
      if (!route || !verdict) {
        return send(404, JSON.stringify({ timestamp: Date.now(), status: 404, error: 'Not Found', path }));
      }
      if (!verdict.ok) {
        call.authError = verdict.reason;
        return sendError(403);
      }
      if (admission?.ok === false) {
        call.fault = 'rateLimit';
        return sendTooMany(admission.retryAfterSeconds);
      }
      if (noise?.ok === false) {
        call.fault = 'random429';
        return sendTooMany(noise.retryAfterSeconds);
      }
      if (!String(request.headers['content-type']).startsWith('application/json')) return sendError(415);
      if (body === undefined) return sendError(400, 'The request body is too large.');
      if (route.action === 'userLookup') return await lookUpUser(body);
      const fields = readExactProperties(body, route.fields);
      if (typeof fields === 'string') return sendError(400, fields);
      const serial = fields['deviceSerialNumber']!;
      call.serial = serial;
      call.userId = fields['userId'];

      return await answerWithFaults(serial, () => {
        const { answer, changed } = tenant.perform(route.action, { deviceSerialNumber: serial, userId: call.userId });
        call.changed = changed;
        return {
          seen: answer,
          reply: () =>
            answer.status === 404 ? sendError(404, answer.description) : send(200, JSON.stringify(answer.records)),
        };
      });
    } finally {
      // A limiter that counts requests in flight frees the slot of an admitted one once it is answered.
      if (admission?.ok) faults.limiter?.release?.();
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ code: '500 INTERNAL_SERVER_ERROR', description: String(error) }));
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const bound = server.address() as AddressInfo;
  // An outage listens again on this port: the one asked for, or the one picked for port 0.
  port = bound.port;
  origin = `http://${bound.address.includes(':') ? `[${bound.address}]` : bound.address}:${port}`;
  auth.defaultAudience = `${origin}${SIMULATOR_BASE_PATH}`;
  for (const key of options.apiKeys ?? []) auth.registerApiKey(key);
  for (const client of options.oauthClients ?? []) auth.registerOAuthClient(client);

  return {
    baseUrl: `${origin}${SIMULATOR_BASE_PATH}`,
    token,
    registry: tenant.registry,
    calls,
    countsByStatus,
    oauthIssuer: `${origin}${SIMULATOR_OAUTH_PATH}`,
    bearerTokensSeen,
    accessTokensIssued: () => auth.accessTokensIssued,
    registerApiKey: (key) => auth.registerApiKey(key),
    revokeApiKey: (accessID) => auth.revokeApiKey(accessID),
    registerOAuthClient: (client) => auth.registerOAuthClient(client),
    revokeOAuthClient: (clientId) => auth.revokeOAuthClient(clientId),
    stats,
    goAway,
    comeBack,
    outage,
    close: async () => {
      isClosed = true;
      for (const end of outageWaits) end();
      await goAway();
      if (outageError !== undefined) throw outageError;
    },
  };
}
