import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/auth/token-cache.js';
import { run } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { startHttpServer } from '../helpers/http-server.js';
import { shipmentCsv } from '../helpers/input.js';
import { countBy, readResults } from '../helpers/results.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

const hasOpenssl = ((): boolean => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let dir: string;
let requests = 0;

beforeEach(() => {
  dir = tempDir();
  requests = 0;
});

/**
 * An https stand-in tenant with a certificate no public CA signed, made fresh for the test (no key is
 * committed). It enables whatever it is asked to, and knows no device when asked to look one up.
 */
async function startHttpsTenant(): Promise<{ baseUrl: string; certFile: string }> {
  const keyFile = join(dir, 'tls-key.pem');
  const certFile = join(dir, 'tls-cert.pem');
  execFileSync(
    'openssl',
    // An EC key: made in milliseconds (RSA 2048 takes some 200 ms per test).
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]),
    { stdio: 'ignore' },
  );
  const server = createServer({ key: await readFile(keyFile), cert: await readFile(certFile) }, (request, response) => {
    requests++;
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const { deviceSerialNumber, userId } = JSON.parse(body) as Record<string, string>;
      if (request.method === 'POST') {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end('{"code":"404 NOT_FOUND","description":"DS100 not found"}');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify([
          { userId, deviceSerialNumber, tokenSerialNumber: `0${deviceSerialNumber}00`, tokenStatus: 'Enabled' },
        ]),
      );
    });
  });
  return { baseUrl: `${await startHttpServer(server)}/AdminInterface/restapi/`, certFile };
}

describe.skipIf(!hasOpenssl)('TLS', () => {
  it('verifies certificates: an unknown CA stops the run at the preflight, and no request gets through', async () => {
    const { baseUrl } = await startHttpsTenant();
    const input = writeFile(dir, 'in.csv', shipmentCsv(2));
    const out = join(dir, 'out.csv');
    const running = run({ input, out, baseUrl, tokenProvider: staticTokenProvider('t'), rate: 1000 });
    await expect(running).rejects.toMatchObject({
      code: 'TENANT',
      message: expect.stringMatching(/SELF_SIGNED.*not trusted; .* set NODE_EXTRA_CA_CERTS/),
    });
    expect(existsSync(out)).toBe(false);
    expect(requests).toBe(0);
  });

  it('an untrusted certificate ends the CLI with exit 2 and a sentence, before any row or file', async () => {
    const { baseUrl } = await startHttpsTenant();
    const input = writeFile(dir, 'in.csv', shipmentCsv(20));
    const out = join(dir, 'out.csv');
    const cli = await runCli(
      ['enable', input, '--out', out, '--base-url', baseUrl, '--rate', '1000', '--log-level', 'silent'],
      { DS100_TOKEN: 't' },
    );
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/the tenant at https:.* cannot be used: .*not trusted; .* set NODE_EXTRA_CA_CERTS/);
    expect(existsSync(out)).toBe(false);
    expect(requests).toBe(0);
  });

  it('trusts a private CA given with NODE_EXTRA_CA_CERTS (as the README says)', async () => {
    const { baseUrl, certFile } = await startHttpsTenant();
    const input = writeFile(dir, 'in.csv', shipmentCsv(3));
    const out = join(dir, 'out.csv');
    const cli = await runCli(
      ['enable', input, '--out', out, '--base-url', baseUrl, '--rate', '1000', '--log-level', 'silent'],
      { DS100_TOKEN: 't', NODE_EXTRA_CA_CERTS: certFile },
    );
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(countBy(readResults(out), 'outcome')).toEqual({ enabled: 3 });
    expect(requests).toBe(3 + 1); // and the preflight lookup
  });
});
