import { createServer, type RequestListener, type Server } from 'node:http';
import { expect, it, onTestFinished } from 'vitest';
import { HttpClient, MAX_BODY_BYTES } from '../../src/client/http.js';
import { startHttpServer } from '../helpers/http-server.js';

let server: Server;

/** A raw HTTP server on port 0, and a client with one keep-alive connection to it. */
async function serve(listener: RequestListener, timeoutMs = 5000): Promise<{ origin: string; http: HttpClient }> {
  server = createServer(listener);
  const origin = await startHttpServer(server);
  const http = new HttpClient(origin, { connections: 1, timeoutMs });
  onTestFinished(() => http.close());
  return { origin, http };
}

it('cuts a runaway body at MAX_BODY_BYTES and keeps the connection usable for the next request', async () => {
  const remotePorts: number[] = [];
  const { origin, http } = await serve((request, response) => {
    remotePorts.push(request.socket.remotePort!);
    if (request.url === '/big') {
      response.writeHead(502, { 'content-type': 'text/html' });
      // Streamed in many chunks without a Content-Length, as a proxy error page might be.
      for (let index = 0; index < 40; index++) response.write('<p>'.padEnd(10_000, 'x'));
      response.end();
    } else {
      response.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    }
  });
  const big = await http.send({ origin, path: '/big', method: 'POST', headers: {}, body: '' });
  const small = await http.send({ origin, path: '/small', method: 'POST', headers: {}, body: '' });
  expect(big).toMatchObject({ ok: true, status: 502 });
  expect(big.ok && Buffer.byteLength(big.body)).toBe(MAX_BODY_BYTES);
  expect(small).toMatchObject({ ok: true, status: 200, body: '[]' });
  // One connection for both: the cut body was still read to its end.
  expect(new Set(remotePorts).size).toBe(1);
});

it('decodes a character split across two chunks whole', async () => {
  const text = JSON.stringify({ description: 'Gerät nicht gefunden: ✓' });
  const bytes = Buffer.from(text);
  const split = bytes.indexOf(Buffer.from('✓')) + 1; // inside the three bytes of ✓
  const { origin, http } = await serve((_request, response) => {
    response.writeHead(404, { 'content-type': 'application/json' });
    response.write(bytes.subarray(0, split));
    setTimeout(() => response.end(bytes.subarray(split)), 20);
  });
  expect(await http.send({ origin, path: '/', method: 'POST', headers: {}, body: '' })).toMatchObject({
    ok: true,
    status: 404,
    body: text,
  });
});

it('hands back Retry-After and Location as the server sent them', async () => {
  const { origin, http } = await serve((request, response) => {
    const headers = request.url === '/limited' ? { 'retry-after': '7' } : { location: 'https://elsewhere.example/' };
    response.writeHead(request.url === '/limited' ? 429 : 302, headers).end();
  });
  expect(await http.send({ origin, path: '/limited', method: 'POST', headers: {}, body: '' })).toMatchObject({
    status: 429,
    retryAfter: '7',
    location: undefined,
  });
  expect(await http.send({ origin, path: '/moved', method: 'POST', headers: {}, body: '' })).toMatchObject({
    status: 302,
    location: 'https://elsewhere.example/',
  });
});

it('ends an exchange whose body trickles past the deadline, though each gap is short', async () => {
  // undici's own body timeout only bounds the gap between chunks; the exchange's deadline is total.
  const { origin, http } = await serve((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    const timer = setInterval(() => response.write(' '), 10);
    response.on('close', () => clearInterval(timer));
  }, 150);
  const exchange = await http.send({ origin, path: '/', method: 'POST', headers: {}, body: '' });
  expect(exchange).toMatchObject({ ok: false, isTimeout: true });
});

it('reports a refused connection as a failed exchange, not a thrown error', async () => {
  const { origin, http } = await serve((_request, response) => response.end());
  server.close();
  server.closeAllConnections();
  const exchange = await http.send({ origin, path: '/', method: 'POST', headers: {}, body: '' });
  expect(exchange).toMatchObject({ ok: false, isTimeout: false });
  expect(exchange.ok ? undefined : (exchange.error as { code?: string }).code).toBe('ECONNREFUSED');
});
