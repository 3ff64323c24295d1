import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { onTestFinished } from 'vitest';

/**
 * A server of the test's own (a misbehaving tenant, a proxy, a token endpoint) on a free loopback
 * port, closed with all its connections when the current test finishes. Pass a request listener, or
 * a server already made (https, or one that handles CONNECT). Returns its origin,
 * `http://127.0.0.1:<port>` (`https://` for an https server).
 */
export async function startHttpServer(server: RequestListener | Server | HttpsServer): Promise<string> {
  const listening = typeof server === 'function' ? createServer(server) : server;
  const sockets = new Set<Socket>();
  listening.on('connection', (socket: Socket) => sockets.add(socket));
  listening.listen(0, '127.0.0.1');
  await once(listening, 'listening');
  onTestFinished(async () => {
    for (const socket of sockets) socket.destroy();
    listening.closeAllConnections();
    await new Promise<void>((resolve) => listening.close(() => resolve()));
  });
  const scheme = listening instanceof HttpsServer ? 'https' : 'http';
  return `${scheme}://127.0.0.1:${(listening.address() as AddressInfo).port}`;
}
