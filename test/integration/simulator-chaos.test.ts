import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { describe, expect, it, vi } from 'vitest';
import {
  FAULT_KINDS,
  Registry,
  startSimulator,
  type FaultStep,
  type RunningSimulator,
  type SimulatorCall,
  type SimulatorOptions,
} from '../../src/simulator/index.js';
import { waitFor } from '../helpers/cli.js';
import { fakeClock } from '../helpers/fake-time.js';
import { startTestSimulator } from '../helpers/simulator.js';

// Every kind of fault as a client meets it over loopback (undici's request, so that socket errors
// keep their codes), held against what the simulator's journal and registry say it really did.

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';
const SERIAL = '140100080';
const PAIR = { deviceSerialNumber: SERIAL, userId: USER };

/** What the client saw: an answer, or the code of the error the request failed with. */
type Seen =
  | { readonly status: number; readonly headers: Record<string, unknown>; readonly text: string }
  | { readonly error: string };

async function send(
  sim: RunningSimulator,
  route: 'enable' | 'disable' | 'lookup',
  body: object,
  timeoutMs = 5_000,
): Promise<Seen> {
  const path = route === 'lookup' ? 'v1/ds100/lookup' : `v1/ds100/${route}/otp`;
  try {
    const response = await request(new URL(path, sim.baseUrl), {
      method: route === 'lookup' ? 'POST' : 'PATCH',
      headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
  } catch (error) {
    // A DOMException (the abort of a timeout) has a numeric code; socket errors have string codes.
    const { code, name } = error as { code?: unknown; name: string };
    return { error: typeof code === 'string' ? code : name };
  }
}

const enable = (sim: RunningSimulator, pair: object = PAIR, timeoutMs?: number): Promise<Seen> =>
  send(sim, 'enable', pair, timeoutMs);

const registered = (...serials: string[]): Registry => {
  const registry = new Registry();
  for (const serial of serials) registry.register({ deviceSerialNumber: serial, userId: USER });
  return registry;
};

const scripted = (...steps: FaultStep[]): SimulatorOptions['faults'] => new Map([[SERIAL, steps]]);

const start = (options: SimulatorOptions): Promise<RunningSimulator> =>
  startTestSimulator({ registry: registered(SERIAL), ...options });

const statusOf = (sim: RunningSimulator, serial = SERIAL): string | undefined => sim.registry.get(serial)?.tokenStatus;

/** The journal's account of each call, without the arrival time. */
const journal = (sim: RunningSimulator): Array<Omit<SimulatorCall, 'at' | 'authError'>> =>
  sim.calls.map(({ method, path, serial, userId, status, fault, changed }) => ({
    method,
    path,
    serial,
    userId,
    status,
    fault,
    changed,
  }));

const ENABLE_PATH = '/AdminInterface/restapi/v1/ds100/enable/otp';
const entry = (fields: Partial<SimulatorCall>): Omit<SimulatorCall, 'at' | 'authError'> => ({
  method: 'PATCH',
  path: ENABLE_PATH,
  serial: SERIAL,
  userId: USER,
  status: 200,
  fault: undefined,
  changed: false,
  ...fields,
});

describe('connection resets', () => {
  it('resets before the change: the client sees ECONNRESET, the registry is untouched and the journal says so', async () => {
    const sim = await start({ faults: scripted({ kind: 'resetBeforeChange' }) });
    expect(await enable(sim)).toEqual({ error: 'ECONNRESET' });
    expect(statusOf(sim)).toBe('Disabled');
    expect(await enable(sim)).toMatchObject({ status: 200 });
    expect(journal(sim)).toEqual([
      entry({ status: undefined, fault: 'resetBeforeChange', changed: false }),
      entry({ status: 200, changed: true }),
    ]);
    expect(sim.stats().countsByStatus).toEqual({ '200': 1 });
  });

  it('resets after the change: the credential is enabled, the client sees a socket error, the journal says changed', async () => {
    const sim = await start({ faults: scripted({ kind: 'resetAfterChange' }) });
    expect(await enable(sim)).toEqual({ error: 'ECONNRESET' });
    expect(statusOf(sim)).toBe('Enabled');
    expect(await enable(sim)).toMatchObject({ status: 200 });
    expect(journal(sim)).toEqual([
      entry({ status: undefined, fault: 'resetAfterChange', changed: true }),
      entry({ status: 200, changed: false }),
    ]);
  });
});

describe('an answer that never comes', () => {
  it('applies the change and holds the request until the client gives up', async () => {
    const sim = await start({ faults: scripted({ kind: 'hangAfterChange' }) });
    expect(await enable(sim, PAIR, 50)).toEqual({ error: 'TimeoutError' });
    expect(statusOf(sim)).toBe('Enabled');
    expect(journal(sim)).toEqual([entry({ status: undefined, fault: 'hangAfterChange', changed: true })]);
    expect(await send(sim, 'disable', PAIR)).toMatchObject({ status: 200 });
    expect(sim.calls.at(-1)).toMatchObject({ path: '/AdminInterface/restapi/v1/ds100/disable/otp', changed: true });
  });

  it('does not keep the simulator from closing: a held request is cut off by close()', async () => {
    const sim = await start({ chaos: { hangAfterChange: 1 } });
    const held = [enable(sim), send(sim, 'lookup', { deviceSerialNumber: SERIAL })];
    await waitFor(() => sim.calls.length === 2, 'both requests to be held');
    await sim.close();
    expect(await Promise.all(held)).toEqual([{ error: 'UND_ERR_SOCKET' }, { error: 'UND_ERR_SOCKET' }]);
    expect(sim.calls.map((call) => [call.fault, call.status, call.changed])).toEqual(
      expect.arrayContaining([
        ['hangAfterChange', undefined, true],
        ['hangAfterChange', undefined, false],
      ]),
    );
  });

  it('journals an answer whose client gave up before it was ready as not sent, with the change made', async () => {
    const sim = await start({ faults: scripted({ delayMs: 150 }) });
    expect(await enable(sim, PAIR, 20)).toEqual({ error: 'TimeoutError' });
    await waitFor(() => sim.calls.length === 1, 'the slow answer');
    expect(journal(sim)).toEqual([entry({ status: undefined, changed: true })]);
    expect(sim.stats().countsByStatus).toEqual({});
  });
});

describe('answers that are not what the API documents', () => {
  it('sends a proxy HTML 502 without the tenant seeing the request', async () => {
    const sim = await start({ chaos: { proxyHtml502: 1 } });
    const seen = await enable(sim);
    expect(seen).toMatchObject({ status: 502, headers: { 'content-type': 'text/html' } });
    expect((seen as { text: string }).text).toContain('<h1>502 Bad Gateway</h1>');
    expect(statusOf(sim)).toBe('Disabled');
    expect(journal(sim)).toEqual([entry({ status: 502, fault: 'proxyHtml502' })]);
  });

  it('sends garbled 200s after the real change: an empty body, a bare object, another device', async () => {
    const sim = await start({
      faults: scripted({ kind: 'emptyOk' }, { kind: 'objectOk' }, { kind: 'otherDeviceOk' }),
    });
    expect(await enable(sim)).toMatchObject({ status: 200, text: '' });
    expect(statusOf(sim)).toBe('Enabled');

    const object = await send(sim, 'disable', PAIR);
    expect(object).toMatchObject({ status: 200, headers: { 'content-type': 'application/json' } });
    const record = JSON.parse((object as { text: string }).text) as Record<string, unknown>;
    expect(Array.isArray(record)).toBe(false);
    expect(record).toMatchObject({ deviceSerialNumber: SERIAL, userId: USER, tokenStatus: 'Disabled' });
    expect(statusOf(sim)).toBe('Disabled');

    const other = await enable(sim);
    const records = JSON.parse((other as { text: string }).text) as Array<Record<string, unknown>>;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ deviceSerialNumber: '140100081', tokenStatus: 'Enabled' });
    expect(records[0]!['userId']).not.toBe(USER);
    expect(records[0]!['tokenSerialNumber']).toMatch(/^0140100081\d\d$/);
    expect(statusOf(sim)).toBe('Enabled');

    expect(journal(sim).map(({ fault, status, changed }) => [fault, status, changed])).toEqual([
      ['emptyOk', 200, true],
      ['objectOk', 200, true],
      ['otherDeviceOk', 200, true],
    ]);
  });

  it('lets a 404 through untouched, with no fault journaled, when a garbled 200 meets an unknown pair', async () => {
    const sim = await start({ chaos: { otherDeviceOk: 1 } });
    expect(await enable(sim, { deviceSerialNumber: '140100099', userId: USER })).toMatchObject({ status: 404 });
    expect(sim.calls[0]).toMatchObject({ status: 404, fault: undefined, changed: false });
  });
});

describe('429 answers', () => {
  it('says Retry-After in seconds, as an HTTP-date, not at all, or absurdly, and changes nothing', async () => {
    fakeClock(['Date']);
    vi.setSystemTime(new Date('2025-03-04T05:06:07.250Z'));
    const sim = await start({
      throttleRetryAfterSeconds: 3,
      faults: scripted(
        { kind: 'throttleSeconds' },
        { kind: 'throttleDate' },
        { kind: 'throttleNoRetryAfter' },
        { kind: 'throttleAbsurd' },
      ),
    });
    const retryAfters: unknown[] = [];
    for (let index = 0; index < 4; index++) {
      const seen = await enable(sim);
      expect(seen).toMatchObject({
        status: 429,
        text: '{"code":"429 TOO_MANY_REQUESTS","description":"Too many requests"}',
      });
      retryAfters.push((seen as { headers: Record<string, unknown> }).headers['retry-after']);
    }
    // The date is rounded up to the next whole second, then 3 s on.
    expect(retryAfters).toEqual(['3', 'Tue, 04 Mar 2025 05:06:11 GMT', undefined, '86400']);
    expect(statusOf(sim)).toBe('Disabled');
    expect(sim.calls.map((call) => call.fault)).toEqual([
      'throttleSeconds',
      'throttleDate',
      'throttleNoRetryAfter',
      'throttleAbsurd',
    ]);
  });

  it("journals the rate limit's own 429 as rateLimit", async () => {
    const sim = await start({ rateLimit: { perSecond: 1, burst: 1 } });
    expect(await enable(sim)).toMatchObject({ status: 200 });
    expect(await enable(sim)).toMatchObject({ status: 429, headers: { 'retry-after': '1' } });
    expect(journal(sim)).toEqual([
      entry({ changed: true }),
      entry({ status: 429, fault: 'rateLimit', serial: undefined, userId: undefined }),
    ]);
  });
});

describe('bursts of 500s', () => {
  it('answers this and the next errorBurstLength - 1 requests of any serial 500, then recovers', async () => {
    const sim = await start({ errorBurstLength: 3, faults: scripted({ kind: 'errorBurst' }), autoRegister: true });
    const serials = [SERIAL, '140100081', '140100082', '140100083'];
    const seen: unknown[] = [];
    for (const serial of serials) seen.push(await enable(sim, { deviceSerialNumber: serial, userId: USER }));
    expect(seen.map((answer) => (answer as { status: number }).status)).toEqual([500, 500, 500, 200]);
    expect(sim.calls.map((call) => [call.serial, call.fault, call.changed])).toEqual([
      [SERIAL, 'errorBurst', false],
      ['140100081', 'errorBurst', false],
      ['140100082', 'errorBurst', false],
      ['140100083', undefined, true],
    ]);
    expect(statusOf(sim)).toBe('Disabled');
  });
});

describe('outages', () => {
  it('goes away (refusing connections) and comes back on the same port', async () => {
    const sim = await start({});
    expect(await enable(sim)).toMatchObject({ status: 200 });
    await sim.goAway();
    expect(await enable(sim)).toEqual({ error: 'ECONNREFUSED' });
    await sim.comeBack();
    expect(await enable(sim)).toMatchObject({ status: 200 });
    expect(sim.calls.map((call) => call.status)).toEqual([200, 200]);
  });

  it('cuts off the requests in flight, and outage(ms) comes back by itself', async () => {
    const sim = await start({ faults: scripted({ kind: 'hangAfterChange' }) });
    const held = enable(sim);
    await waitFor(() => sim.calls.length === 1, 'the request to be held');
    const outage = sim.outage(30);
    expect(await held).toEqual({ error: 'UND_ERR_SOCKET' });
    await outage;
    expect(await enable(sim)).toMatchObject({ status: 200 });
  });

  it('stages scheduled outages: the request after N is cut off, then the same port answers again', async () => {
    const sim = await start({ outages: [{ afterRequests: 2, durationMs: 30 }], autoRegister: true });
    expect(await enable(sim)).toMatchObject({ status: 200 });
    expect(await enable(sim)).toMatchObject({ status: 200 });
    expect(await enable(sim)).toEqual({ error: 'UND_ERR_SOCKET' });
    let seen = await enable(sim);
    for (let tries = 0; 'error' in seen && tries < 200; tries++) {
      expect(seen).toEqual({ error: 'ECONNREFUSED' });
      await sleep(5);
      seen = await enable(sim);
    }
    expect(seen).toMatchObject({ status: 200 });
    expect(sim.calls.map((call) => [call.fault, call.status])).toEqual([
      [undefined, 200],
      [undefined, 200],
      ['outage', undefined],
      [undefined, 200],
    ]);
  });

  it('ends an outage when closed, without waiting it out or listening again', async () => {
    const sim = await start({});
    const outage = sim.outage(60_000);
    await sim.close();
    await outage;
    expect(await enable(sim)).toEqual({ error: 'ECONNREFUSED' });
  });

  it('fails to come back when the port was taken meanwhile, and close() reports a scheduled outage that failed', async () => {
    const sim = await startSimulator({ outages: [{ afterRequests: 0, durationMs: 100 }] });
    expect(await enable(sim)).toEqual({ error: 'UND_ERR_SOCKET' });
    const squatter = createServer();
    squatter.listen(Number(new URL(sim.baseUrl).port), '127.0.0.1');
    await once(squatter, 'listening');
    try {
      await expect(sim.comeBack()).rejects.toThrow('EADDRINUSE');
      await sleep(300); // the scheduled outage tries to come back too
      await expect(sim.close()).rejects.toThrow('EADDRINUSE');
    } finally {
      squatter.close();
    }
  });

  it('refuses an outage that is not whole requests and milliseconds', async () => {
    await expect(startSimulator({ outages: [{ afterRequests: 1.5, durationMs: 10 }] })).rejects.toThrow(
      'Expected an outage to have a whole afterRequests from 0 and a durationMs from 0, got 1.5 and 10',
    );
  });
});

describe('seeded chaos and the journal', () => {
  // Every kind but the hang, which would hold each run for a client timeout.
  const chaos = Object.fromEntries(
    FAULT_KINDS.filter((kind) => kind !== 'hangAfterChange').map((kind) => [kind, 0.06]),
  );

  async function run(seed: number): Promise<{ faults: unknown[]; seen: Seen[]; sim: RunningSimulator }> {
    const sim = await startTestSimulator({ autoRegister: true, chaos, seed, errorBurstLength: 2 });
    const seen: Seen[] = [];
    for (let index = 0; index < 60; index++) {
      seen.push(await enable(sim, { deviceSerialNumber: String(140_100_000 + index), userId: USER }));
    }
    return { faults: sim.calls.map((call) => call.fault), seen, sim };
  }

  it('gives the same faults for the same seed, and the journal matches what the client saw and the registry', async () => {
    const first = await run(11);
    const again = await run(11);
    expect(again.faults).toEqual(first.faults);
    expect(new Set(first.faults).size).toBeGreaterThanOrEqual(6);
    expect((await run(12)).faults).not.toEqual(first.faults);

    const { sim, seen } = first;
    sim.calls.forEach((call, index) => {
      const answer = seen[index]!;
      expect('error' in answer ? undefined : answer.status).toBe(call.status);
    });
    const changed = new Set(sim.calls.filter((call) => call.changed).map((call) => call.serial));
    const enabled = new Set(
      [...sim.registry].filter((c) => c.tokenStatus === 'Enabled').map((c) => c.deviceSerialNumber),
    );
    expect(enabled).toEqual(changed);
    expect([...sim.registry.values()]).toHaveLength(sim.registry.size);
  });

  it('records nothing with recordCalls: false, faults and all, while the registry still changes', async () => {
    const sim = await start({
      recordCalls: false,
      faults: scripted({ kind: 'resetAfterChange' }, { kind: 'proxyHtml502' }),
      outages: [{ afterRequests: 3, durationMs: 1 }],
    });
    expect(await enable(sim)).toEqual({ error: 'ECONNRESET' });
    expect(await enable(sim)).toMatchObject({ status: 502 });
    expect(await send(sim, 'lookup', { deviceSerialNumber: SERIAL })).toMatchObject({ status: 200 });
    expect(sim.calls).toEqual([]);
    expect(statusOf(sim)).toBe('Enabled');
  });
});
