import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { SimulatorAuth } from '../../src/simulator/auth.js';
import { makeApiKey, makeOAuthClient } from '../helpers/credentials.js';

const AUD = 'https://example.access.securid.com/AdminInterface/restapi/';
const NOW_S = 1_700_000_000;
const key = makeApiKey();
const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

function authFor(options: ConstructorParameters<typeof SimulatorAuth>[1] = {}): SimulatorAuth {
  const auth = new SimulatorAuth('static-token', options, () => NOW_S * 1000);
  auth.registerApiKey({ accessID: key.accessID, publicKey: key.publicKey, adminRestApiUrl: AUD });
  return auth;
}

async function jwt(
  overrides: {
    header?: Record<string, unknown>;
    sub?: string;
    aud?: string;
    iat?: number;
    exp?: number;
    signWith?: typeof otherKey;
  } = {},
): Promise<string> {
  const iat = overrides.iat ?? NOW_S;
  return new SignJWT({})
    .setProtectedHeader((overrides.header ?? { typ: 'JWT', alg: 'RS256' }) as { alg: string })
    .setSubject(overrides.sub ?? key.accessID)
    .setAudience(overrides.aud ?? AUD)
    .setIssuedAt(iat)
    .setExpirationTime(overrides.exp ?? iat + 3300)
    .sign(overrides.signWith ?? key.privateKey);
}

describe('the simulator checks API key JWTs as the vendor documents', () => {
  it('accepts a well-formed token', async () => {
    expect(await authFor().verifyApiKeyJwt(await jwt())).toEqual({ ok: true });
  });

  it('refuses a header with anything more than typ and alg', async () => {
    const token = await jwt({ header: { typ: 'JWT', alg: 'RS256', kid: 'x' } });
    expect(await authFor().verifyApiKeyJwt(token)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/header/),
    });
  });

  it('refuses another algorithm, even with the right key', async () => {
    const token = await jwt({ header: { typ: 'JWT', alg: 'PS256' } });
    expect(await authFor().verifyApiKeyJwt(token)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/header/),
    });
  });

  it('refuses a typ other than exactly JWT', async () => {
    const token = await jwt({ header: { typ: 'jwt', alg: 'RS256' } });
    expect(await authFor().verifyApiKeyJwt(token)).toMatchObject({ ok: false });
  });

  it('refuses a signature by another key', async () => {
    const token = await jwt({ signWith: otherKey });
    expect(await authFor().verifyApiKeyJwt(token)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('refuses a sub that is not a registered accessID', async () => {
    const token = await jwt({ sub: 'someone-else' });
    expect(await authFor().verifyApiKeyJwt(token)).toEqual({ ok: false, reason: 'sub is not a registered accessID' });
  });

  it('compares aud verbatim: the URL without its trailing slash is another audience', async () => {
    const token = await jwt({ aud: AUD.slice(0, -1) });
    expect(await authFor().verifyApiKeyJwt(token)).toEqual({ ok: false, reason: 'aud is not the adminRestApiUrl' });
  });

  it('refuses a lifetime over one hour', async () => {
    const token = await jwt({ exp: NOW_S + 3601 });
    expect(await authFor().verifyApiKeyJwt(token)).toEqual({ ok: false, reason: 'lifetime over the maximum' });
    expect(await authFor().verifyApiKeyJwt(await jwt({ exp: NOW_S + 3600 }))).toEqual({ ok: true });
  });

  it('allows 60 s of clock skew on exp, not more', async () => {
    const within = await jwt({ iat: NOW_S - 3000, exp: NOW_S - 59 });
    const beyond = await jwt({ iat: NOW_S - 3000, exp: NOW_S - 61 });
    expect(await authFor().verifyApiKeyJwt(within)).toEqual({ ok: true });
    expect(await authFor().verifyApiKeyJwt(beyond)).toEqual({ ok: false, reason: 'token expired' });
  });

  it('allows 60 s of clock skew on iat, not more', async () => {
    expect(await authFor().verifyApiKeyJwt(await jwt({ iat: NOW_S + 59 }))).toEqual({ ok: true });
    expect(await authFor().verifyApiKeyJwt(await jwt({ iat: NOW_S + 61 }))).toEqual({
      ok: false,
      reason: 'iat in the future',
    });
  });

  it('can be told to treat tokens as expired early (maxTokenAgeSeconds)', async () => {
    const token = await jwt({ iat: NOW_S - 5 });
    expect(await authFor({ maxTokenAgeSeconds: 10 }).verifyApiKeyJwt(token)).toEqual({ ok: true });
    expect(await authFor({ maxTokenAgeSeconds: 4 }).verifyApiKeyJwt(token)).toEqual({
      ok: false,
      reason: 'token too old',
    });
  });

  it('refuses every token of a revoked key', async () => {
    const auth = authFor();
    const token = await jwt();
    auth.revokeApiKey(key.accessID);
    expect(await auth.verifyApiKeyJwt(token)).toEqual({ ok: false, reason: 'key revoked' });
  });

  it('still accepts its static demo token', async () => {
    expect(await authFor().verifyBearer('Bearer static-token', 'rsa.authenticator.ds100.manage')).toEqual({ ok: true });
    expect(await authFor().verifyBearer(undefined, 'rsa.authenticator.ds100.manage')).toMatchObject({ ok: false });
  });
});

describe('the simulated OAuth token endpoint', () => {
  const ENDPOINT = 'http://127.0.0.1:8443/oauth/token';
  const client = makeOAuthClient('ec');
  const clientKey = createPrivateKey(client.privateKeyPem);
  const MANAGE = 'rsa.authenticator.ds100.manage';

  function oauthAuth(options: ConstructorParameters<typeof SimulatorAuth>[1] = {}) {
    let nowMs = NOW_S * 1000;
    const auth = new SimulatorAuth('static-token', { accessTokenTtlSeconds: 600, ...options }, () => nowMs);
    auth.registerOAuthClient({ clientId: client.clientId, publicKey: client.publicKey, keyId: client.keyId });
    return { auth, advance: (ms: number) => (nowMs += ms) };
  }

  const assertion = (
    claims: { iss?: string; aud?: string; iat?: number; exp?: number; jti?: string } = {},
    header: Record<string, unknown> = { alg: 'ES256', kid: client.keyId },
  ): Promise<string> => {
    const iat = claims.iat ?? NOW_S;
    return new SignJWT({})
      .setProtectedHeader(header as { alg: string })
      .setIssuer(claims.iss ?? client.clientId)
      .setSubject(claims.iss ?? client.clientId)
      .setAudience(claims.aud ?? ENDPOINT)
      .setJti(claims.jti ?? randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(claims.exp ?? iat + 300)
      .sign(clientKey);
  };

  const form = async (fields: Record<string, string | undefined> = {}): Promise<URLSearchParams> => {
    const defaults: Record<string, string | undefined> = {
      grant_type: 'client_credentials',
      client_id: client.clientId,
      scope: MANAGE,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: 'assertion' in fields ? undefined : await assertion(),
    };
    const merged = { ...defaults, ...fields };
    return new URLSearchParams(
      Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
  };

  it('issues a bearer access token with the scopes asked for, which then opens the API for its lifetime', async () => {
    const { auth, advance } = oauthAuth();
    const answer = await auth.handleTokenRequest(await form(), ENDPOINT);
    expect(answer).toMatchObject({
      status: 200,
      body: { token_type: 'Bearer', expires_in: 600, scope: MANAGE, access_token: expect.any(String) },
    });
    expect(auth.accessTokensIssued).toBe(1);
    const bearer = `Bearer ${(answer.body as { access_token: string }).access_token}`;
    expect(await auth.verifyBearer(bearer, MANAGE)).toEqual({ ok: true });
    expect(await auth.verifyBearer(bearer, 'rsa.authenticator.ds100.read')).toEqual({
      ok: false,
      reason: 'access token lacks scope rsa.authenticator.ds100.read',
    });
    advance(600_000);
    expect(await auth.verifyBearer(bearer, MANAGE)).toEqual({ ok: false, reason: 'access token expired' });
  });

  it('refuses the access tokens of a client revoked after they were issued, and the client itself', async () => {
    const { auth } = oauthAuth();
    const answer = await auth.handleTokenRequest(await form(), ENDPOINT);
    auth.revokeOAuthClient(client.clientId);
    const bearer = `Bearer ${(answer.body as { access_token: string }).access_token}`;
    expect(await auth.verifyBearer(bearer, MANAGE)).toEqual({ ok: false, reason: 'client revoked' });
    expect(await auth.handleTokenRequest(await form(), ENDPOINT)).toMatchObject({
      status: 401,
      body: { error: 'invalid_client', error_description: 'unknown or disabled client' },
    });
  });

  it.each([
    ['another grant', { grant_type: 'password' }, 400, 'unsupported_grant_type'],
    ['no assertion', { assertion: undefined }, 400, 'invalid_request'],
    ['another assertion type', { client_assertion_type: 'urn:other' }, 400, 'invalid_request'],
    ['an unknown client', { client_id: 'nobody' }, 401, 'invalid_client'],
    ['an assertion that is not a JWT', { client_assertion: 'not.a.jwt' }, 401, 'invalid_client'],
    ['no scope', { scope: '' }, 400, 'invalid_scope'],
    ['a scope not granted', { scope: `${MANAGE} rsa.admin` }, 400, 'invalid_scope'],
  ])('refuses %s, with the RFC 6749 error code', async (_, fields, status, code) => {
    const { auth } = oauthAuth();
    const answer = await auth.handleTokenRequest(await form(fields as Record<string, string | undefined>), ENDPOINT);
    expect(answer).toMatchObject({ status, body: { error: code } });
    expect(auth.accessTokensIssued).toBe(0);
  });

  it('checks the assertion: algorithm, key ID, issuer, audience, time, lifetime and replay', async () => {
    const { auth } = oauthAuth();
    const refusal = async (client_assertion: string) => {
      const answer = await auth.handleTokenRequest(await form({ client_assertion }), ENDPOINT);
      expect(answer.status).toBe(401);
      return (answer.body as { error_description: string }).error_description;
    };
    const rsaSigned = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .sign(createPrivateKey(makeOAuthClient('rsa').privateKeyPem));
    expect(await refusal(rsaSigned)).toBe('the assertion must be signed ES256');
    expect(await refusal(await assertion({}, { alg: 'ES256', kid: 'another' }))).toBe(
      'the assertion kid is not the registered key',
    );
    expect(await refusal(await assertion({ iss: 'someone-else' }))).toMatch(/^the client assertion is invalid \(/);
    expect(await refusal(await assertion({ aud: 'https://elsewhere.example/token' }))).toBe(
      'the client assertion is invalid (ERR_JWT_CLAIM_VALIDATION_FAILED)',
    );
    expect(await refusal(await assertion({ iat: NOW_S - 900 }))).toBe(
      'the client assertion is invalid (ERR_JWT_EXPIRED)',
    );
    expect(await refusal(await assertion({ exp: NOW_S + 3600 }))).toBe('the client assertion lives too long');
    const once = await assertion({ jti: 'same' });
    expect((await auth.handleTokenRequest(await form({ client_assertion: once }), ENDPOINT)).status).toBe(200);
    expect(await refusal(once)).toBe('assertion replayed');
  });

  it('refuses an API key JWT whose iat or exp is not whole seconds', async () => {
    const token = await new SignJWT({ iat: NOW_S + 0.5, exp: NOW_S + 300 })
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256' })
      .setSubject(key.accessID)
      .setAudience(AUD)
      .sign(key.privateKey);
    expect(await authFor().verifyApiKeyJwt(token)).toEqual({
      ok: false,
      reason: 'iat and exp must be integer seconds',
    });
  });
});
