import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadCredentials } from '../../src/auth/credentials.js';
import { readOAuthClientFile } from '../../src/auth/key-file.js';
import { signClientAssertion } from '../../src/auth/oauth-token-provider.js';
import type { TokenProvider } from '../../src/auth/token-cache.js';
import { Ds100Error } from '../../src/errors.js';
import { exitCodeFor } from '../../src/index.js';
import { run } from '../../src/index.js';
import type { OAuthClientRegistration, RunningSimulator } from '../../src/simulator/index.js';
import { SIMULATOR_BASE_PATH } from '../../src/simulator/server.js';
import { makeOAuthClient, writeSecretFile, type TestOAuthClient } from '../helpers/credentials.js';
import { fakeClock, ticking } from '../helpers/fake-time.js';
import { shipmentCsv } from '../helpers/input.js';
import { countBy, readResults } from '../helpers/results.js';
import { startTestSimulator } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

const rsa = makeOAuthClient('rsa');
const ec = makeOAuthClient('ec');

let dir: string;
beforeEach(() => {
  dir = tempDir();
});

const registration = (
  client: TestOAuthClient,
  extra: Partial<OAuthClientRegistration> = {},
): OAuthClientRegistration => ({
  clientId: client.clientId,
  publicKey: client.publicKey,
  keyId: client.keyId,
  ...extra,
});

async function clientFile(sim: RunningSimulator, client: TestOAuthClient, extra: Record<string, unknown> = {}) {
  return writeSecretFile(
    join(dir, 'client.json'),
    JSON.stringify({
      clientId: client.clientId,
      issuer: sim.oauthIssuer,
      privateKey: client.privateKeyPem,
      keyId: client.keyId,
      ...extra,
    }),
  );
}

async function runWith(
  sim: RunningSimulator,
  file: string,
  rows: number,
  wrap: (provider: TokenProvider) => TokenProvider = (provider) => provider,
) {
  const input = writeFile(dir, 'in.csv', shipmentCsv(rows));
  const out = join(dir, 'out.csv');
  const { tokenProvider } = await loadCredentials({ kind: 'oauth-client', file });
  const summary = await run({
    input,
    out,
    baseUrl: sim.baseUrl,
    tokenProvider: wrap(tokenProvider),
    rate: 1000,
    concurrency: 2,
  });
  return { summary, out };
}

const apiCalls = (sim: RunningSimulator) => sim.calls.filter((call) => call.path.startsWith(SIMULATOR_BASE_PATH));

describe('OAuth API client, end to end against the simulated token endpoint', () => {
  it('signs the client assertion as the vendor documents', async () => {
    const { value: client } = await readOAuthClientFile(
      await writeSecretFile(
        join(dir, 'c.json'),
        JSON.stringify({ clientId: 'c1', issuer: 'https://a.example/oauth', privateKey: ec.privateKeyPem, keyId: 'k' }),
      ),
    );
    const assertion = await signClientAssertion(client, 'https://a.example/oauth/token', 1_700_000_000_000);
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'k' });
    const claims = decodeJwt(assertion);
    expect(claims).toMatchObject({ iss: 'c1', sub: 'c1', aud: 'https://a.example/oauth/token', iat: 1_700_000_000 });
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('an RSA client gets one access token and enables every row with it', async () => {
    const simulator = await startTestSimulator({ autoRegister: true, oauthClients: [registration(rsa)] });
    const { summary } = await runWith(simulator, await clientFile(simulator, rsa), 12);
    expect(summary.byOutcome.enabled).toBe(12);
    expect(simulator.accessTokensIssued()).toBe(1);
    expect(simulator.bearerTokensSeen.size).toBe(1);
    expect(exitCodeFor(summary)).toBe(0);
  });

  it('an EC client renews its short-lived access token mid-run, with no 403', async () => {
    // Access tokens live 2 s; the 30 requests are 250 ms apart on the fake clock.
    const clock = fakeClock();
    const simulator = await startTestSimulator({
      autoRegister: true,
      oauthClients: [registration(ec)],
      auth: { accessTokenTtlSeconds: 2 },
    });
    const { summary } = await runWith(simulator, await clientFile(simulator, ec), 30, (provider) =>
      ticking(clock, provider, 250),
    );
    expect(summary.byOutcome.enabled).toBe(30);
    expect(simulator.countsByStatus.get(403)).toBeUndefined();
    expect(simulator.accessTokensIssued()).toBeGreaterThanOrEqual(2);
    expect(simulator.bearerTokensSeen.size).toBe(simulator.accessTokensIssued());
  });

  it('a client not granted the DS100 scopes stops before any row is sent', async () => {
    const simulator = await startTestSimulator({
      autoRegister: true,
      oauthClients: [registration(rsa, { scopes: ['rsa.user.read'] })],
    });
    const file = await clientFile(simulator, rsa);
    const error = await runWith(simulator, file, 5).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Ds100Error);
    expect((error as Ds100Error).code).toBe('AUTH');
    expect((error as Ds100Error).message).toMatch(/refused client .* \(HTTP 400, invalid_scope/);
    expect(apiCalls(simulator)).toHaveLength(0);
    expect(existsSync(join(dir, 'out.csv'))).toBe(false);
  });

  it('an assertion signed under another key ID is refused as invalid_client', async () => {
    const simulator = await startTestSimulator({
      autoRegister: true,
      oauthClients: [registration(rsa, { keyId: 'other' })],
    });
    const error = await runWith(simulator, await clientFile(simulator, rsa), 5).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/HTTP 401, invalid_client/);
  });

  it('a token without the manage scope is refused by the API: 403 after renewal, then the breaker', async () => {
    const simulator = await startTestSimulator({ autoRegister: true, oauthClients: [registration(rsa)] });
    const file = await clientFile(simulator, rsa, { scope: 'rsa.authenticator.ds100.read' });
    const { summary, out } = await runWith(simulator, file, 10);
    expect(exitCodeFor(summary)).toBe(3);
    const results = await readResults(out);
    expect(results).toHaveLength(10);
    expect(countBy(results, 'errorCode')['FORBIDDEN']).toBeGreaterThanOrEqual(3);
    expect(simulator.calls.some((call) => call.authError?.includes('lacks scope rsa.authenticator.ds100.manage'))).toBe(
      true,
    );
  });
});
