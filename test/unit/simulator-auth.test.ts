import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { SimulatorAuth } from '../../src/simulator/auth.js';
import { makeApiKey } from '../helpers/credentials.js';

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
