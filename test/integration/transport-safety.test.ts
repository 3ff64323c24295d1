import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { beforeEach, describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/auth/token-cache.js';
import { run } from '../../src/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { startHttpServer } from '../helpers/http-server.js';
import { shipmentCsv } from '../helpers/input.js';
import { readResults } from '../helpers/results.js';
import { startTestSimulator } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});

const simulator = (): Promise<RunningSimulator> => startTestSimulator({ autoRegister: true });

/** A forward proxy that only tunnels (CONNECT), recording each target, as corporate proxies do. */
async function startTunnelProxy(): Promise<{ url: string; targets: string[] }> {
  const targets: string[] = [];
  const proxy = createServer((_request, response) => response.writeHead(405).end());
  proxy.on('connect', (request, client: Socket, head: Buffer) => {
    targets.push(request.url ?? '');
    const [host, port] = (request.url ?? '').split(':');
    const upstream = connect(Number(port), host!, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  });
  return { url: await startHttpServer(proxy), targets };
}

async function runAgainst(baseUrl: string, token: string, input: string, extra: object = {}) {
  const out = join(dir, 'out.csv');
  const summary = await run({ input, out, baseUrl, tokenProvider: staticTokenProvider(token), rate: 1000, ...extra });
  return { summary, results: readResults(out) };
}

describe('proxy (HTTPS_PROXY / HTTP_PROXY / NO_PROXY)', () => {
  it('sends every request through the proxy when one is set', async () => {
    const sim = await simulator();
    const proxy = await startTunnelProxy();
    const input = writeFile(dir, 'in.csv', shipmentCsv(6));
    const { summary } = await runAgainst(sim.baseUrl, sim.token, input, { proxy: { httpProxy: proxy.url } });
    expect(summary.byOutcome.enabled).toBe(6);
    expect(proxy.targets.length).toBeGreaterThan(0);
    expect(new Set(proxy.targets)).toEqual(new Set([new URL(sim.baseUrl).host]));
  });

  it('goes direct to hosts listed in NO_PROXY', async () => {
    const sim = await simulator();
    const proxy = await startTunnelProxy();
    const input = writeFile(dir, 'in.csv', shipmentCsv(6));
    const { summary } = await runAgainst(sim.baseUrl, sim.token, input, {
      proxy: { httpProxy: proxy.url, noProxy: 'localhost,127.0.0.1' },
    });
    expect(summary.byOutcome.enabled).toBe(6);
    expect(proxy.targets).toEqual([]);
  });
});

describe('redirects', () => {
  it('are never followed, so the Authorization header never reaches another host', async () => {
    const trapped: Array<string | undefined> = [];
    const trap = await startHttpServer(
      createServer((request, response) => {
        trapped.push(request.headers.authorization);
        response.end('[]');
      }),
    );
    let redirected = 0;
    // The lookup is answered as the API would (so the preflight passes); every enable is redirected.
    const tenant = await startHttpServer(
      createServer((request, response) => {
        request.resume();
        if (request.method === 'POST') {
          response.writeHead(404, { 'content-type': 'application/json' });
          response.end('{"code":"404 NOT_FOUND","description":"DS100 not found"}');
          return;
        }
        redirected++;
        response.writeHead(307, { location: `${trap}/steal` }).end();
      }),
    );
    const input = writeFile(dir, 'in.csv', shipmentCsv(3));
    const { results } = await runAgainst(`${tenant}/AdminInterface/restapi/`, 'secret-token', input);
    expect(trapped).toEqual([]);
    expect(redirected).toBe(3);
    for (const row of results) {
      expect(row).toMatchObject({
        outcome: 'failed',
        errorCode: 'UNEXPECTED_STATUS',
        httpStatus: '307',
        attempts: '1',
      });
      expect(row['errorMessage']).toMatch(/redirect to .* not followed/);
    }
  });

  it('on the read-only preflight lookup stop the run before any row, naming where they pointed', async () => {
    const trap = await startHttpServer(createServer((_, response) => response.end('[]')));
    const tenant = await startHttpServer(
      createServer((request, response) => {
        request.resume();
        response.writeHead(302, { location: `${trap}/login` }).end();
      }),
    );
    const input = writeFile(dir, 'in.csv', shipmentCsv(3));
    await expect(runAgainst(`${tenant}/AdminInterface/restapi/`, 'secret-token', input)).rejects.toMatchObject({
      code: 'TENANT',
      message: expect.stringMatching(/cannot be used: redirect to http:.*\/login not followed; check the base URL/),
    });
    expect(existsSync(join(dir, 'out.csv'))).toBe(false);
  });
});

describe('spreadsheet formula neutralisation', () => {
  it('prefixes cells starting with = + - @ tab or CR with a quote, in carried columns and echoed input', async () => {
    const sim = await simulator();
    const dangerous = ['=1+1', '+SUM(A1)', '-2+3', '@cmd', '\tindent', '\rcarriage'];
    const rows = dangerous.map((value, index) => [
      String(140_100_000 + index),
      `aaaaaaaa-bbbb-cccc-dddd-00000000000${index}`,
      value,
      `=HYPERLINK("http://x/${index}")`,
    ]);
    // An invalid serial is echoed back in the results too.
    rows.push(['=cmd|/c calc', 'aaaaaaaa-bbbb-cccc-dddd-00000000000f', 'bad serial', '@x']);
    const input = writeFile(dir, 'in.csv', stringify([['deviceSerialNumber', 'userId', 'note', 'link'], ...rows]));
    const { results } = await runAgainst(sim.baseUrl, sim.token, input);
    expect(results).toHaveLength(7);
    const byLine = new Map(results.map((row) => [Number(row['line']), row]));
    dangerous.forEach((value, index) => {
      const row = byLine.get(index + 2)!;
      expect(row['outcome']).toBe('enabled');
      expect(row['note']).toBe(`'${value}`);
      expect(row['link']).toBe(`'=HYPERLINK("http://x/${index}")`);
    });
    // Line 9: the CR inside the quoted cell on line 7 counts as a line break, as csv-parse and most editors count it.
    expect(byLine.get(9)).toMatchObject({ outcome: 'invalid', deviceSerialNumber: "'=cmd|/c calc", link: "'@x" });
  });
});
