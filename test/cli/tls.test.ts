import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/auth/token-cache.js';
import { run } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { makeTempDir, shipmentCsv } from '../helpers/credentials.js';
import { countBy, readResults } from '../helpers/results.js';

const hasOpenssl = ((): boolean => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let dir: string;
let cleanup: () => Promise<void>;
let server: Server | undefined;
let requests = 0;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  requests = 0;
});
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  await cleanup();
});

/**
 * An https stand-in tenant with a certificate no public CA signed, made fresh for the test (no key is
 * committed). It enables whatever it is asked to.
 */
async function startHttpsTenant(): Promise<{ baseUrl: string; certFile: string }> {
  const keyFile = join(dir, 'tls-key.pem');
  const certFile = join(dir, 'tls-cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2'].concat([
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]),
    { stdio: 'ignore' },
  );
  server = createServer({ key: await readFile(keyFile), cert: await readFile(certFile) }, (request, response) => {
    requests++;
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const { deviceSerialNumber, userId } = JSON.parse(body) as Record<string, string>;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify([
          { userId, deviceSerialNumber, tokenSerialNumber: `0${deviceSerialNumber}00`, tokenStatus: 'Enabled' },
        ]),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `https://127.0.0.1:${port}/AdminInterface/restapi/`, certFile };
}

describe.skipIf(!hasOpenssl)('TLS', () => {
  it('verifies certificates: an unknown CA is a TLS_ERROR, not retried, and no request gets through', async () => {
    const { baseUrl } = await startHttpsTenant();
    const input = join(dir, 'in.csv');
    await writeFile(input, shipmentCsv(2));
    const out = join(dir, 'out.csv');
    await run({
      input,
      out,
      baseUrl,
      tokenProvider: staticTokenProvider('t'),
    });
    const results = await readResults(out);
    expect(countBy(results, 'errorCode')).toEqual({ TLS_ERROR: 2 });
    expect(countBy(results, 'attempts')).toEqual({ '1': 2 });
    expect(results[0]!['errorMessage']).toMatch(/SELF_SIGNED.*not trusted; .* set NODE_EXTRA_CA_CERTS/);
    expect(requests).toBe(0);
  });

  it(
    'an untrusted certificate on every row stops the run like a revoked key: exit 3',
    { timeout: 30_000 },
    async () => {
      const { baseUrl } = await startHttpsTenant();
      const input = join(dir, 'in.csv');
      await writeFile(input, shipmentCsv(20));
      const out = join(dir, 'out.csv');
      const cli = await runCli(['enable', input, '--out', out, '--base-url', baseUrl, '--log-level', 'silent'], {
        DS100_TOKEN: 't',
      });
      expect(cli.code).toBe(3);
      expect(cli.stdout).toMatch(/rows in a row failed on the server's TLS certificate/);
      const outcomes = countBy(await readResults(out), 'outcome');
      expect(outcomes['not-attempted']).toBeGreaterThan(0);
      expect(requests).toBe(0);
    },
  );

  it('trusts a private CA given with NODE_EXTRA_CA_CERTS (as the README says)', { timeout: 30_000 }, async () => {
    const { baseUrl, certFile } = await startHttpsTenant();
    const input = join(dir, 'in.csv');
    await writeFile(input, shipmentCsv(3));
    const out = join(dir, 'out.csv');
    const cli = await runCli(['enable', input, '--out', out, '--base-url', baseUrl, '--log-level', 'silent'], {
      DS100_TOKEN: 't',
      NODE_EXTRA_CA_CERTS: certFile,
    });
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(countBy(await readResults(out), 'outcome')).toEqual({ enabled: 3 });
    expect(requests).toBe(3);
  });
});
