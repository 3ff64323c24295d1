import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { apiKeyTokenProvider, mintApiKeyToken } from '../../src/auth/api-key-token-provider.js';
import type { ApiKey } from '../../src/auth/key-file.js';
import { cachingTokenProvider } from '../../src/auth/token-cache.js';
import { makeApiKey } from '../helpers/credentials.js';

const testKey = makeApiKey();
// No trailing slash on purpose: aud must be the key file's value verbatim, not a normalised URL.
const key: ApiKey = {
  accessID: testKey.accessID,
  accessKey: testKey.privateKey,
  adminRestApiUrl: 'https://example.access.securid.com/AdminInterface/restapi',
};

describe('mintApiKeyToken', () => {
  it('mints exactly what the vendor specifies, verifiable with the public key', async () => {
    const token = await mintApiKeyToken(key, 1_700_000_000, 3300);
    expect(decodeProtectedHeader(token)).toEqual({ typ: 'JWT', alg: 'RS256' });
    const { payload } = await jwtVerify(token, testKey.publicKey, {
      algorithms: ['RS256'],
      currentDate: new Date(1_700_000_100_000),
    });
    expect(payload).toEqual({
      sub: key.accessID,
      aud: 'https://example.access.securid.com/AdminInterface/restapi',
      iat: 1_700_000_000,
      exp: 1_700_003_300,
    });
  });
});

describe('apiKeyTokenProvider', () => {
  it('serves one token for many calls and mints a new one before expiry', async () => {
    let nowMs = 1_700_000_000_000;
    const provider = apiKeyTokenProvider(key, { now: () => nowMs });
    const first = await provider.getToken();
    expect(await provider.getToken()).toBe(first);
    const { iat, exp } = decodeJwt(first);
    expect(exp! - iat!).toBe(3300);
    nowMs += 49 * 60_000; // 6 minutes left: still more than the 5-minute margin
    expect(await provider.getToken()).toBe(first);
    nowMs += 2 * 60_000; // 4 minutes left: renewed
    const second = await provider.getToken();
    expect(second).not.toBe(first);
    expect(decodeJwt(second).iat).toBe(Math.floor(nowMs / 1000));
  });

  it('mints once for many concurrent callers (single-flight)', async () => {
    const issued: Date[] = [];
    const provider = apiKeyTokenProvider(key, { onIssued: (at) => issued.push(at) });
    const tokens = await Promise.all(Array.from({ length: 20 }, () => provider.getToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(issued).toHaveLength(1);
  });

  it('invalidate() drops the refused token once; a stale refusal does not drop the new one', async () => {
    // Two JWTs minted in the same second are identical, so the cache is tested with numbered tokens.
    let mints = 0;
    const counting = cachingTokenProvider(async () => ({ token: `t${++mints}`, expiresAtMs: Date.now() + 3_600_000 }), {
      renewBeforeMs: 0,
    });
    expect(await counting.getToken()).toBe('t1');
    counting.invalidate!('t1');
    counting.invalidate!('t1'); // a second row refused with the same old token
    expect(await counting.getToken()).toBe('t2');
    counting.invalidate!('t1');
    expect(await counting.getToken()).toBe('t2');
  });

  it('the API key provider can renew, so a 403 leads to a fresh mint', async () => {
    let nowMs = 1_700_000_000_000;
    const provider = apiKeyTokenProvider(key, { now: () => nowMs });
    const first = await provider.getToken();
    nowMs += 1000;
    expect(await provider.getToken()).toBe(first);
    provider.invalidate!(first);
    const second = await provider.getToken();
    expect(second).not.toBe(first);
    expect(decodeJwt(second).iat).toBe(decodeJwt(first).iat! + 1);
  });

  it('refuses a lifetime over one hour', () => {
    expect(() => apiKeyTokenProvider(key, { lifetimeSeconds: 3601 })).toThrow(/from 1 to 3600, got 3601/);
  });
});
