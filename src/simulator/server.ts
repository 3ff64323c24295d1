import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DS100_SCOPES,
  SimulatorAuth,
  type ApiKeyRegistration,
  type OAuthClientRegistration,
  type SimulatorAuthOptions,
} from './auth.js';
import { Faults, type FaultOptions, type FaultStep } from './faults.js';
import { Tenant, seededRandom, type Ds100Action, type Registry, type TenantOptions } from './tenant.js';

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
  /** Seeds the random failures of `errorRate`, so that a run can be repeated. Default 1. */
  readonly seed?: number;
  /** Keep a log of every call (tests); off for long benchmarks. Default true. */
  readonly recordCalls?: boolean;
  /** API keys whose signed JWTs are accepted (the static `token` stays accepted too). */
  readonly apiKeys?: readonly ApiKeyRegistration[];
  /** OAuth clients the token endpoint (`{oauthIssuer}/token`) serves. */
  readonly oauthClients?: readonly OAuthClientRegistration[];
  /** JWT and access-token rules: clock skew, lifetimes, a maximum token age to force renewals. */
  readonly auth?: SimulatorAuthOptions;
}

export interface SimulatorCall {
  readonly method: string;
  readonly path: string;
  readonly serial: string | undefined;
  readonly status: number;
  /** performance.now() when the request arrived. */
  readonly at: number;
  /** Why the request was refused with 403, when it was. */
  readonly authError?: string | undefined;
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
  close(): Promise<void>;
}

export const SIMULATOR_BASE_PATH = '/AdminInterface/restapi/';
export const SIMULATOR_OAUTH_PATH = '/oauth';
/** Outside the API's base path, so that it can never be mistaken for a tenant call. No token needed. */
export const SIMULATOR_STATS_PATH = '/__simulator/stats';
const MAX_BODY_BYTES = 1024 * 1024;

interface Ds100Route {
  readonly action: Ds100Action;
  /** The OAuth scope an access token needs for it. */
  readonly scope: string;
  /** The body's properties: exactly these, all strings. */
  readonly fields: readonly string[];
}

const PAIR_FIELDS = ['deviceSerialNumber', 'userId'];
/** By `${method} ${path below the base path}`. */
const DS100_ROUTES: ReadonlyMap<string, Ds100Route> = new Map([
  ['PATCH v1/ds100/enable/otp', { action: 'enable', scope: DS100_SCOPES.manage, fields: PAIR_FIELDS }],
  ['PATCH v1/ds100/disable/otp', { action: 'disable', scope: DS100_SCOPES.manage, fields: PAIR_FIELDS }],
  ['POST v1/ds100/lookup', { action: 'lookup', scope: DS100_SCOPES.read, fields: ['deviceSerialNumber'] }],
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

/** Parses a body that must hold exactly the named string properties, as the service demands. */
function readExactProperties(body: string, names: readonly string[]): Record<string, string> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'Malformed JSON in the request body.';
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return 'The request body must be a JSON object.';
  const fields = parsed as Record<string, unknown>;
  const keys = Object.keys(fields);
  if (keys.length !== names.length || !names.every((name) => typeof fields[name] === 'string')) {
    return 'Wrong number of properties in the request body.';
  }
  return fields as Record<string, string>;
}

/**
 * Starts a local stand-in for a tenant's Cloud Administration API: the DS100 enable, disable and
 * lookup calls with the documented status codes and error bodies.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const tenant = new Tenant(options);
  const faults = new Faults(options, seededRandom(options.seed ?? 1));
  const token = options.token ?? randomBytes(24).toString('base64url');
  const calls: SimulatorCall[] = [];
  const countsByStatus = new Map<number, number>();
  const recordCalls = options.recordCalls ?? true;
  const auth = new SimulatorAuth(token, options.auth);
  const bearerTokensSeen = new Set<string>();
  let origin = '';
  let requests = 0;
  let firstAt = 0;
  let lastAt = 0;
  const stats = (): SimulatorStats => ({
    requests,
    countsByStatus: Object.fromEntries(countsByStatus),
    spanMs: requests > 1 ? lastAt - firstAt : 0,
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const at = performance.now();
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (path === SIMULATOR_STATS_PATH && request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(stats()));
      return;
    }
    if (requests++ === 0) firstAt = at;
    lastAt = at;
    // Filled in as the request is understood; calls answered before that are logged without them.
    const call: { serial?: string; authError?: string } = {};
    const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
      countsByStatus.set(status, (countsByStatus.get(status) ?? 0) + 1);
      if (recordCalls) {
        calls.push({ method: request.method ?? '', path, serial: call.serial, status, at, authError: call.authError });
      }
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(body);
    };
    const sendError = (status: number, description?: string, headers?: Record<string, string>): void =>
      send(
        status,
        description === undefined ? errorBody(status, path) : JSON.stringify({ code: `${status}`, description }),
        headers,
      );

    const sendFault = (status: number, step: FaultStep): void => {
      const headers: Record<string, string> = step.retryAfter === undefined ? {} : { 'retry-after': step.retryAfter };
      const echoed = step.echoAuthorization
        ? JSON.stringify({ description: `rejected ${request.headers.authorization ?? ''}` })
        : undefined;
      send(status, echoed ?? step.body ?? errorBody(status, path), headers);
    };

    const body = await readBody(request);
    // Counted from the request's arrival, so that reading the body does not add to it.
    const latency = faults.latencyLeft(performance.now() - at);
    if (latency !== undefined) await sleep(latency);

    if (path === `${SIMULATOR_OAUTH_PATH}/token` && request.method === 'POST') {
      const form = new URLSearchParams(body ?? '');
      const answer = await auth.handleTokenRequest(form, `${origin}${SIMULATOR_OAUTH_PATH}/token`);
      return send(answer.status, JSON.stringify(answer.body), { 'cache-control': 'no-store' });
    }
    const route = path.startsWith(SIMULATOR_BASE_PATH)
      ? DS100_ROUTES.get(`${request.method} ${path.slice(SIMULATOR_BASE_PATH.length)}`)
      : undefined;
    // Not the API's own 404 body: a path the service does not have is answered by the web framework
    // in front of it (Spring's shape), which is how a client tells a wrong base URL from an unknown device.
    if (!route) {
      return send(404, JSON.stringify({ timestamp: Date.now(), status: 404, error: 'Not Found', path }));
    }
    if (recordCalls && request.headers.authorization?.startsWith('Bearer ')) {
      bearerTokensSeen.add(request.headers.authorization.slice('Bearer '.length));
    }
    const verdict = await auth.verifyBearer(request.headers.authorization, route.scope);
    if (!verdict.ok) {
      call.authError = verdict.reason;
      return sendError(403);
    }
    const admission = faults.limiter?.admit(performance.now());
    if (admission && !admission.ok) {
      return sendError(429, undefined, { 'retry-after': String(admission.retryAfterSeconds) });
    }
    try {
      if (!String(request.headers['content-type']).startsWith('application/json')) return sendError(415);
      if (body === undefined) return sendError(400, 'The request body is too large.');
      const fields = readExactProperties(body, route.fields);
      if (typeof fields === 'string') return sendError(400, fields);
      const serial = fields['deviceSerialNumber']!;
      call.serial = serial;

      const step = faults.nextStep(serial);
      if (step?.delayMs) await sleep(step.delayMs);
      // A scripted status comes first; a step with only a delay leaves room for a random failure.
      const failure = step?.status === undefined ? faults.randomFailure() : step;
      if (failure?.status !== undefined) return sendFault(failure.status, failure);

      const answer = tenant.answer(route.action, { deviceSerialNumber: serial, userId: fields['userId'] });
      if (answer.status === 404) return sendError(404, answer.description);
      return send(200, JSON.stringify(answer.records));
    } finally {
      // Only admitted requests get here: a limiter that counts requests in flight frees the slot.
      if (admission) faults.limiter?.release?.();
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ code: '500 INTERNAL_SERVER_ERROR', description: String(error) }));
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  origin = `http://${host}:${port}`;
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
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
