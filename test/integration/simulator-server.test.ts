import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mintApiKeyToken } from '../../src/auth/api-key-token-provider.js';
import { oauthTokenProvider } from '../../src/auth/oauth-token-provider.js';
import { Registry, type RunningSimulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { makeApiKey, makeOAuthClient } from '../helpers/credentials.js';
import { fakeClock } from '../helpers/fake-time.js';
import { startTestSimulator } from '../helpers/simulator.js';

// The simulator as a client sees it: a real server on port 0 per test, plain fetch, every answer
// checked by status, headers and body.

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';
const OTHER_USER = 'bf42b589-d2dd-601d-7848-b1a07af6750b';
const SERIAL = '140100080';

const start = (options: SimulatorOptions = {}): Promise<RunningSimulator> =>
  startTestSimulator({ token: 'test-token', ...options });

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

async function call(
  sim: RunningSimulator,
  method: string,
  route: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(new URL(route, sim.baseUrl), {
    method,
    headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}

const enable = (sim: RunningSimulator, pair: object, headers?: Record<string, string>): Promise<Answer> =>
  call(sim, 'PATCH', 'v1/ds100/enable/otp', pair, headers);
const disable = (sim: RunningSimulator, pair: object): Promise<Answer> =>
  call(sim, 'PATCH', 'v1/ds100/disable/otp', pair);
const lookup = (sim: RunningSimulator, serial: string, headers?: Record<string, string>): Promise<Answer> =>
  call(sim, 'POST', 'v1/ds100/lookup', { deviceSerialNumber: serial }, headers);

const registered = (): Registry => {
  const registry = new Registry();
  registry.register({ deviceSerialNumber: SERIAL, userId: USER });
  return registry;
};

describe('the simulator over HTTP', () => {
  it('enables, looks up and disables a registered pair with the documented record shapes', async () => {
    const sim = await start({ registry: registered() });
    const enabled = await enable(sim, { deviceSerialNumber: SERIAL, userId: USER });
    expect(enabled.status).toBe(200);
    expect(enabled.headers.get('content-type')).toBe('application/json');
    const [record] = enabled.body as Array<Record<string, unknown>>;
    expect(Object.keys(record!)).toEqual([
      'userId',
      'tokenSerialNumber',
      'tokenStatus',
      'tokenStatusChangedAt',
      'tokenStatusChangedBy',
      'deviceSerialNumber',
    ]);
    expect(record).toMatchObject({ userId: USER, deviceSerialNumber: SERIAL, tokenStatus: 'Enabled' });
    expect(record!['tokenSerialNumber']).toMatch(new RegExp(`^0${SERIAL}\\d\\d$`));

    const found = await lookup(sim, SERIAL);
    expect(found.status).toBe(200);
    expect(found.body).toEqual([{ ...record, tokenState: 'Assigned', deviceType: 'SecurID DS100' }]);

    const disabled = await disable(sim, { deviceSerialNumber: SERIAL, userId: USER });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject([{ tokenStatus: 'Disabled' }]);
    expect(sim.registry.get(SERIAL)?.tokenStatus).toBe('Disabled');
  });

  it('answers 404 for an unknown serial and for a pair registered to another user', async () => {
    const sim = await start({ registry: registered() });
    expect(await enable(sim, { deviceSerialNumber: '140100081', userId: USER })).toMatchObject({
      status: 404,
      body: { code: '404', description: 'DS100 with serial number 140100081 not found' },
    });
    expect(await enable(sim, { deviceSerialNumber: SERIAL, userId: OTHER_USER })).toMatchObject({
      status: 404,
      body: { code: '404', description: `DS100 ${SERIAL} is not registered to user ${OTHER_USER}` },
    });
    expect((await lookup(sim, '140100081')).status).toBe(404);
    expect(sim.registry.get(SERIAL)?.tokenStatus).toBe('Disabled');
  });

  it('registers an unknown pair on enable with autoRegister, but keeps nothing when stateless', async () => {
    const kept = await start({ autoRegister: true });
    expect((await lookup(kept, SERIAL)).status).toBe(404); // a lookup names no user to register
    expect((await enable(kept, { deviceSerialNumber: SERIAL, userId: USER })).status).toBe(200);
    expect(kept.registry.size).toBe(1);
    expect((await lookup(kept, SERIAL)).status).toBe(200);
    await kept.close();

    const stateless = await start({ autoRegister: true, stateless: true });
    expect(await enable(stateless, { deviceSerialNumber: SERIAL, userId: USER })).toMatchObject({
      status: 200,
      body: [{ tokenStatus: 'Enabled' }],
    });
    expect(stateless.registry.size).toBe(0);
  });

  it('answers unknown routes 404, a missing token 403, a wrong content type 415 and bad bodies 400', async () => {
    const sim = await start({ autoRegister: true });
    const pair = { deviceSerialNumber: SERIAL, userId: USER };
    expect(await call(sim, 'GET', 'v1/ds100/enable/otp', undefined)).toMatchObject({
      status: 404,
      // Not the API's 404 body: the framework's, as for any path the service does not have.
      body: { status: 404, error: 'Not Found', path: '/AdminInterface/restapi/v1/ds100/enable/otp' },
    });
    const forbidden = await enable(sim, pair, { authorization: 'Bearer wrong' });
    expect(forbidden).toMatchObject({
      status: 403,
      body: {
        status: 403,
        error: 'Forbidden',
        message: 'Server failed to process provided access token',
        path: '/AdminInterface/restapi/v1/ds100/enable/otp',
      },
    });
    expect(await enable(sim, pair, { 'content-type': 'text/plain' })).toMatchObject({
      status: 415,
      body: { code: '415 UNSUPPORTED_MEDIA_TYPE', description: 'Content type must be application/json' },
    });
    expect(await enable(sim, { ...pair, extra: 'x' })).toMatchObject({
      status: 400,
      body: { code: '400', description: 'Wrong number of properties in the request body.' },
    });
    expect((await call(sim, 'PATCH', 'v1/ds100/enable/otp', '{not json')).body).toMatchObject({
      description: 'Malformed JSON in the request body.',
    });
    expect((await call(sim, 'PATCH', 'v1/ds100/enable/otp', '[]')).body).toMatchObject({
      description: 'The request body must be a JSON object.',
    });
    const huge = JSON.stringify({ deviceSerialNumber: 'x'.repeat(1024 * 1024), userId: USER });
    expect((await call(sim, 'PATCH', 'v1/ds100/enable/otp', huge)).body).toMatchObject({
      description: 'The request body is too large.',
    });
    expect(sim.calls.find((entry) => entry.status === 403)?.authError).toBe('not a JWT');
  });

  it('limits the rate with a token bucket: a burst passes, then 429 with Retry-After', async () => {
    const sim = await start({ autoRegister: true, rateLimit: { perSecond: 1, burst: 2 } });
    const pair = { deviceSerialNumber: SERIAL, userId: USER };
    expect((await enable(sim, pair)).status).toBe(200);
    expect((await enable(sim, pair)).status).toBe(200);
    const limited = await enable(sim, pair);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.body).toEqual({ code: '429 TOO_MANY_REQUESTS', description: 'Too many requests' });
  });

  it('plays scripted faults per serial in order, then answers normally', async () => {
    const sim = await start({
      autoRegister: true,
      faults: new Map([
        [
          SERIAL,
          [
            { status: 429, retryAfter: '7' },
            { status: 502, body: 'bad gateway' },
            { status: 500, echoAuthorization: true },
            { delayMs: 30 },
          ],
        ],
      ]),
    });
    const pair = { deviceSerialNumber: SERIAL, userId: USER };
    const first = await enable(sim, pair);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('7');
    expect(first.body).toEqual({ code: '429 TOO_MANY_REQUESTS', description: 'Too many requests' });
    const second = await fetch(new URL('v1/ds100/enable/otp', sim.baseUrl), {
      method: 'PATCH',
      headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(pair),
    });
    expect(second.status).toBe(502);
    expect(await second.text()).toBe('bad gateway');
    expect(await enable(sim, pair)).toMatchObject({ status: 500, body: { description: 'rejected Bearer test-token' } });
    const before = performance.now();
    expect((await enable(sim, pair)).status).toBe(200);
    expect(performance.now() - before).toBeGreaterThanOrEqual(25);
    expect((await enable(sim, pair)).status).toBe(200);
    expect(sim.calls.map((entry) => entry.status)).toEqual([429, 502, 500, 200, 200]);
    expect(sim.calls.every((entry) => entry.serial === SERIAL)).toBe(true);
  });

  it('answers a seeded share of requests with a random 500, the same ones for the same seed', async () => {
    const statuses = async (seed: number): Promise<number[]> => {
      const sim = await start({ autoRegister: true, errorRate: 0.5, seed });
      const answers: number[] = [];
      for (let index = 0; index < 20; index++) {
        answers.push((await enable(sim, { deviceSerialNumber: String(140_100_000 + index), userId: USER })).status);
      }
      await sim.close();
      return answers;
    };
    const first = await statuses(3);
    expect(first).toContain(500);
    expect(first).toContain(200);
    expect(await statuses(3)).toEqual(first);
  });

  it('adds its latency, counted from the arrival', async () => {
    const sim = await start({ autoRegister: true, latencyMs: 60 });
    const before = performance.now();
    expect((await lookup(sim, SERIAL)).status).toBe(404);
    expect(performance.now() - before).toBeGreaterThanOrEqual(55);
  });

  it('serves stats outside the API path, without a token and without counting itself', async () => {
    const clock = fakeClock(['performance']);
    const sim = await start({ autoRegister: true });
    await enable(sim, { deviceSerialNumber: SERIAL, userId: USER });
    clock.advance(250);
    await enable(sim, { deviceSerialNumber: SERIAL, userId: USER }, { authorization: 'Bearer wrong' });
    clock.advance(1000); // the stats request itself is not counted, nor is its time
    const response = await fetch(new URL('/__simulator/stats', sim.baseUrl));
    expect(response.status).toBe(200);
    const stats = (await response.json()) as Record<string, unknown>;
    expect(stats).toEqual({ requests: 2, countsByStatus: { '200': 1, '403': 1 }, spanMs: 250 });
    expect(sim.stats()).toEqual(stats);
    expect([...sim.bearerTokensSeen].toSorted()).toEqual(['test-token', 'wrong']);
  });

  it('keeps no call log when recordCalls is false, but still counts', async () => {
    const sim = await start({ autoRegister: true, recordCalls: false });
    await enable(sim, { deviceSerialNumber: SERIAL, userId: USER });
    expect(sim.calls).toEqual([]);
    expect(sim.bearerTokensSeen.size).toBe(0);
    expect(sim.countsByStatus.get(200)).toBe(1);
  });

  it('takes API keys and OAuth clients registered while it runs, and revokes them', async () => {
    const sim = await start({ autoRegister: true });
    const key = makeApiKey();
    const token = await mintApiKeyToken(
      { accessID: key.accessID, accessKey: key.privateKey, adminRestApiUrl: sim.baseUrl },
      Math.floor(Date.now() / 1000),
      300,
    );
    const pair = { deviceSerialNumber: SERIAL, userId: USER };
    expect((await enable(sim, pair, { authorization: `Bearer ${token}` })).status).toBe(403);
    sim.registerApiKey({ accessID: key.accessID, publicKey: key.publicKey });
    expect((await enable(sim, pair, { authorization: `Bearer ${token}` })).status).toBe(200);

    const client = makeOAuthClient('ec');
    const provider = oauthTokenProvider({
      clientId: client.clientId,
      issuer: sim.oauthIssuer,
      privateKey: createPrivateKey(client.privateKeyPem),
    });
    sim.registerOAuthClient({ clientId: client.clientId, publicKey: client.publicKey });
    const accessToken = await provider.getToken();
    expect((await lookup(sim, SERIAL, { authorization: `Bearer ${accessToken}` })).status).toBe(200);
    sim.revokeOAuthClient(client.clientId);
    expect((await lookup(sim, SERIAL, { authorization: `Bearer ${accessToken}` })).status).toBe(403);
    expect(sim.calls.at(-1)?.authError).toBe('client revoked');
  });

  it('answers a scripted status with its documented error body', async () => {
    const sim = await start({ autoRegister: true, faults: new Map([[SERIAL, [{ status: 404 }]]]) });
    expect(await enable(sim, { deviceSerialNumber: SERIAL, userId: USER })).toMatchObject({
      status: 404,
      body: { code: '404 NOT_FOUND', description: 'Resource not found' },
    });
  });
});
