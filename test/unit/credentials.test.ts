import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCredentials } from '../../src/auth/credentials.js';
import { keyFileJson, makeApiKey, makeOAuthClient, writeSecretFile } from '../helpers/credentials.js';
import { tempDir } from '../helpers/temp-dir.js';

const TENANT_URL = 'https://example.access.securid.com/AdminInterface/restapi/';

describe('loadCredentials', () => {
  it('a ready token: served as it is, naming no tenant', async () => {
    const loaded = await loadCredentials({ kind: 'token', token: 'tok' });
    expect(await loaded.tokenProvider.getToken()).toBe('tok');
    expect([loaded.adminRestApiUrl, loaded.apiKey, loaded.warnings]).toEqual([undefined, undefined, []]);
  });

  it('a key file: tokens minted from it, its tenant, its key for the simulator, and a warning about its mode', async () => {
    const key = makeApiKey();
    const file = await writeSecretFile(join(tempDir(), 'tenant.key'), keyFileJson(key, TENANT_URL), 0o604);
    const issued: Date[] = [];
    const loaded = await loadCredentials(
      { kind: 'key-file', file },
      { onIssued: (at) => issued.push(at), apiKey: { lifetimeSeconds: 600, renewBeforeSeconds: 60 } },
    );
    expect(loaded.adminRestApiUrl).toBe(TENANT_URL);
    expect(loaded.apiKey?.accessID).toBe(key.accessID);
    expect(loaded.warnings).toEqual([expect.stringContaining('(mode 0604)')]);
    const token = await loaded.tokenProvider.getToken();
    expect(token.split('.')).toHaveLength(3);
    // The lifetime asked for, counted in whole seconds from now.
    expect(issued[0]!.getTime() - Date.now()).toBeGreaterThan(598_000);
    expect(issued[0]!.getTime() - Date.now()).toBeLessThanOrEqual(600_000);
  });

  it('an OAuth client file: its tenant when it names one, and no request before a token is asked for', async () => {
    const client = makeOAuthClient('ec');
    const file = await writeSecretFile(
      join(tempDir(), 'client.json'),
      JSON.stringify({
        clientId: 'c1',
        issuer: 'https://127.0.0.1:9/oauth',
        privateKey: client.privateKeyPem,
        adminRestApiUrl: TENANT_URL,
      }),
    );
    // Nothing listens at the issuer: had loading asked it for a token, it would have failed.
    const loaded = await loadCredentials({ kind: 'oauth-client', file });
    expect([loaded.adminRestApiUrl, loaded.apiKey, loaded.warnings]).toEqual([TENANT_URL, undefined, []]);
    expect(typeof loaded.tokenProvider.invalidate).toBe('function');
  });
});
