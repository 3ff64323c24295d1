import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  keyFileJson,
  makeApiKey,
  makeOAuthClient,
  pemBody,
  pemFragments,
  writeSecretFile,
} from '../helpers/credentials.js';
import { shipmentCsv } from '../helpers/input.js';
import { countBy, readResults } from '../helpers/results.js';
import { startTestSimulator } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

const TENANT_URL = 'https://example.access.securid.com/AdminInterface/restapi/';
const key = makeApiKey();
const oauth = makeOAuthClient('rsa');

let dir: string;
beforeEach(() => {
  dir = tempDir();
});

const writeKeyFile = (mode = 0o600): Promise<string> =>
  writeSecretFile(join(dir, 'tenant.key'), keyFileJson(key, TENANT_URL), mode);

/** Everything the tool wrote: stdout, stderr, the log file and the results file. */
function everyOutput(cli: { stdout: string; stderr: string }, files: string[]): Record<string, string> {
  const outputs: Record<string, string> = { stdout: cli.stdout, stderr: cli.stderr };
  for (const file of files) outputs[file] = readFileSync(file, 'utf8');
  return outputs;
}

function expectNoSecret(outputs: Record<string, string>, secrets: readonly string[]): void {
  expect(secrets.length).toBeGreaterThan(3);
  for (const [where, text] of Object.entries(outputs)) {
    for (const secret of secrets) {
      if (text.includes(secret)) throw new Error(`a secret (${secret.slice(0, 6)}…) leaked into ${where}`);
    }
  }
}

describe('secrets never leak, even at --log-level trace with failures, retries and 403s', () => {
  it('API key file: no part of the accessKey and no bearer token in any output', async () => {
    const simulator = await startTestSimulator({
      autoRegister: true,
      apiKeys: [{ accessID: key.accessID, publicKey: key.publicKey, adminRestApiUrl: TENANT_URL }],
      faults: new Map([
        // Retried at once (a Retry-After of 0 instead of the backoff, which the CLI cannot shorten).
        ['140100001', [{ status: 500, retryAfter: '0' }]],
        ['140100002', [{ status: 403 }]], // token dropped, re-minted, row retried
        ['140100003', [{ status: 404 }]], // failed
        ['140100004', [{ status: 429, retryAfter: '0' }]], // retried
        // A careless server echoing the token back in an error body: it must be blotted out.
        ['140100005', [{ status: 400, echoAuthorization: true }]],
      ]),
    });
    const input = writeFile(dir, 'in.csv', `${shipmentCsv(8)}not-a-serial,aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee,bad\n`);
    const out = join(dir, 'out.csv');
    const log = join(dir, 'log.json');
    const keyFile = await writeKeyFile();
    const cli = await runCli([
      'enable',
      input,
      '--out',
      out,
      '--base-url',
      simulator.baseUrl,
      '--key-file',
      keyFile,
      '--log-level',
      'trace',
      '--log-file',
      log,
      '--retries',
      '2',
      '--rate',
      '1000',
    ]);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(1);
    const results = readResults(out);
    expect(countBy(results, 'outcome')).toEqual({ enabled: 6, failed: 2, invalid: 1 });
    expect(results.find((row) => row['deviceSerialNumber'] === '140100002')).toMatchObject({
      outcome: 'enabled',
      attempts: '2',
    });
    expect(simulator.countsByStatus.get(403)).toBe(1);
    expect(results.find((row) => row['deviceSerialNumber'] === '140100005')?.['errorMessage']).toBe(
      'rejected Bearer [redacted]',
    );
    const logText = readFileSync(log, 'utf8');
    expect(logText).toMatch(/"msg":"row done"/);
    expect(logText).toMatch(/"msg":"new bearer token obtained"/);

    const tokens = [...simulator.bearerTokensSeen];
    expect(tokens.length).toBeGreaterThanOrEqual(1);
    expectNoSecret(everyOutput(cli, [log, out]), [
      pemBody(key.accessKeyPem),
      ...pemFragments(key.accessKeyPem),
      ...tokens,
      ...tokens.map((token) => token.split('.')[2]!),
    ]);
  });

  it('OAuth client: no part of the private key and no access token in any output', async () => {
    const simulator = await startTestSimulator({
      autoRegister: true,
      oauthClients: [{ clientId: oauth.clientId, publicKey: oauth.publicKey, keyId: oauth.keyId }],
      faults: new Map([
        ['140100001', [{ status: 503, retryAfter: '0' }]], // retried at once
        ['140100002', [{ status: 403 }]],
        ['140100003', [{ status: 404 }]],
      ]),
    });
    const clientFile = await writeSecretFile(
      join(dir, 'client.json'),
      JSON.stringify({
        clientId: oauth.clientId,
        issuer: simulator.oauthIssuer,
        privateKey: oauth.privateKeyPem,
        keyId: oauth.keyId,
        adminRestApiUrl: simulator.baseUrl,
      }),
    );
    const input = writeFile(dir, 'in.csv', shipmentCsv(6));
    const out = join(dir, 'out.csv');
    const log = join(dir, 'log.json');
    const cli = await runCli([
      'enable',
      input,
      '--out',
      out,
      '--oauth-client',
      clientFile,
      '--log-level',
      'trace',
      '--log-file',
      log,
      '--retries',
      '2',
      '--rate',
      '1000',
    ]);
    expect(cli.code).toBe(1);
    expect(countBy(readResults(out), 'outcome')).toEqual({ enabled: 5, failed: 1 });
    // The 403 dropped the access token: a second one was fetched for the retry.
    expect(simulator.accessTokensIssued()).toBe(2);
    const tokens = [...simulator.bearerTokensSeen];
    expect(tokens).toHaveLength(2);
    expectNoSecret(everyOutput(cli, [log, out]), [
      pemBody(oauth.privateKeyPem),
      ...pemFragments(oauth.privateKeyPem),
      ...tokens,
    ]);
  });
});

describe('ds100-bulk enable with a key file', () => {
  it('a malformed key file stops before anything is sent: exit 2, the file and field named', async () => {
    const keyFile = await writeSecretFile(
      join(dir, 'broken.key'),
      JSON.stringify({ accessID: key.accessID, accessKey: key.accessKeyPem }),
    );
    const input = writeFile(dir, 'in.csv', shipmentCsv(2));
    const cli = await runCli(['enable', input, '--out', join(dir, 'out.csv'), '--key-file', keyFile]);
    expect(cli.code).toBe(2);
    expect(cli.stdout).toBe('');
    expect(cli.stderr).toBe(`ds100-bulk: ${keyFile}: the API key file has no "adminRestApiUrl" field\n`);
    expect(existsSync(join(dir, 'out.csv'))).toBe(false);
  });

  it('a revoked key is caught by the preflight lookup: exit 2, one sentence, no row sent, no file', async () => {
    const simulator = await startTestSimulator({
      autoRegister: true,
      apiKeys: [{ accessID: key.accessID, publicKey: key.publicKey, adminRestApiUrl: TENANT_URL }],
    });
    simulator.revokeApiKey(key.accessID);
    const input = writeFile(dir, 'in.csv', shipmentCsv(25));
    const out = join(dir, 'out.csv');
    const cli = await runCli([
      'enable',
      input,
      '--out',
      out,
      '--base-url',
      simulator.baseUrl,
      '--key-file',
      await writeKeyFile(),
      '--rate',
      '1000',
      '--log-level',
      'silent',
    ]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/refused the credentials for the read-only lookup \(403, even with a fresh token/);
    expect(cli.stderr).toMatch(/The key may be revoked/);
    expect(existsSync(out)).toBe(false);
    // The lookup and its one renewal retry; no enable.
    expect(simulator.calls.map((call) => [call.method, call.status])).toEqual([
      ['POST', 403],
      ['POST', 403],
    ]);
  });
});

describe('ds100-bulk token', () => {
  it('prints a fresh bearer token minted from the key file, and warns about an open key file', async () => {
    const cli = await runCli(['token', '--key-file', await writeKeyFile(0o640)]);
    expect(cli.code).toBe(0);
    const token = cli.stdout.trim();
    const { payload, protectedHeader } = await jwtVerify(token, key.publicKey, { algorithms: ['RS256'] });
    expect(protectedHeader).toEqual({ typ: 'JWT', alg: 'RS256' });
    expect(payload).toMatchObject({ sub: key.accessID, aud: TENANT_URL });
    expect(payload.exp! - payload.iat!).toBe(3300);
    expect(cli.stderr).toMatch(
      /warning: .*tenant\.key: the API key file is readable or writable by group\/others \(mode 0640\)/,
    );
    for (const fragment of pemFragments(key.accessKeyPem)) expect(cli.stderr).not.toContain(fragment);
  });

  it('needs credentials', async () => {
    const cli = await runCli(['token']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/Name the credentials: --key-file FILE or --oauth-client FILE/);
  });
});

describe('the README example', () => {
  it('a throw-away key file runs against the simulator, which checks the minted JWTs', async () => {
    const keyFile = await writeKeyFile();
    const out = join(dir, 'demo.results.csv');
    const cli = await runCli(
      ['enable', 'samples/shipment.csv', '--out', out, '--simulate', '--key-file', keyFile, '--rate', '1000'],
      {},
      process.cwd(),
    );
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/enabled\s+30/);
    expect(countBy(readResults(out), 'outcome')).toEqual({ enabled: 30 });
  });
});

describe('ds100-bulk token --oauth-client', () => {
  it('prints an access token from the token endpoint that the API accepts', async () => {
    const simulator = await startTestSimulator({
      autoRegister: true,
      oauthClients: [{ clientId: oauth.clientId, publicKey: oauth.publicKey, keyId: oauth.keyId }],
    });
    const clientFile = await writeSecretFile(
      join(dir, 'client.json'),
      JSON.stringify({
        clientId: oauth.clientId,
        issuer: simulator.oauthIssuer,
        privateKey: oauth.privateKeyPem,
        keyId: oauth.keyId,
      }),
    );
    const cli = await runCli(['token', '--oauth-client', clientFile]);
    expect(cli.code).toBe(0);
    expect(simulator.accessTokensIssued()).toBe(1);
    const response = await fetch(`${simulator.baseUrl}v1/ds100/lookup`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cli.stdout.trim()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deviceSerialNumber: '140100000' }),
    });
    // 404: authenticated (a bad token would be 403), and the device is simply unknown.
    expect(response.status).toBe(404);
  });
});
