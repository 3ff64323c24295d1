import { describe, expect, it } from 'vitest';
import { normaliseBaseUrl } from '../../src/client/base-url.js';
import { describeProxy, proxySettingsFromEnv } from '../../src/client/http.js';
import { tokenEndpointFor } from '../../src/auth/oauth-token-provider.js';

describe('normaliseBaseUrl', () => {
  it('accepts https and adds the trailing slash', () => {
    expect(normaliseBaseUrl('https://t.access.securid.com/AdminInterface/restapi').href).toBe(
      'https://t.access.securid.com/AdminInterface/restapi/',
    );
  });

  it('refuses plain http to a non-loopback host: the bearer token would cross the network in clear', () => {
    expect(() => normaliseBaseUrl('http://t.access.securid.com/AdminInterface/restapi/')).toThrow(
      /to use https:\/\/ \(plain http only on loopback\)/,
    );
    expect(() => normaliseBaseUrl('http://10.0.0.5:8080/')).toThrow(/plain http only on loopback/);
  });

  it('accepts plain http on loopback (the simulator)', () => {
    for (const url of ['http://127.0.0.1:8443/x/', 'http://localhost/x/', 'http://[::1]:9/x/']) {
      expect(normaliseBaseUrl(url).protocol).toBe('http:');
    }
  });

  it('applies the same rule to the OAuth issuer', () => {
    expect(() => tokenEndpointFor('http://auth.example.com/oauth')).toThrow(/the OAuth issuer URL to use https/);
    expect(tokenEndpointFor('https://auth.example.com/oauth').href).toBe('https://auth.example.com/oauth/token');
    expect(tokenEndpointFor('https://auth.example.com/oauth/').href).toBe('https://auth.example.com/oauth/token');
  });
});

describe('proxySettingsFromEnv', () => {
  it('is undefined without a proxy variable: the direct Pool is kept', () => {
    expect(proxySettingsFromEnv({ NO_PROXY: 'localhost' })).toBeUndefined();
  });

  it('reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY, lower case first', () => {
    expect(
      proxySettingsFromEnv({ HTTPS_PROXY: 'http://a:3128', https_proxy: 'http://b:3128', NO_PROXY: '.corp' }),
    ).toEqual({ httpsProxy: 'http://b:3128', httpProxy: undefined, noProxy: '.corp' });
  });

  it('describes a proxy without its credentials', () => {
    expect(describeProxy('http://user:secret@proxy.corp:3128')).toBe('http://proxy.corp:3128');
  });
});
