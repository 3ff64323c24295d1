import { createPrivateKey } from 'node:crypto';
import { createServer as createNetServer } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { OAuthClient } from '../../src/auth/key-file.js';
import { oauthTokenProvider, type OAuthTokenOptions } from '../../src/auth/oauth-token-provider.js';
import { Ds100Error } from '../../src/errors.js';
import { makeOAuthClient } from '../helpers/credentials.js';
import { startHttpServer } from '../helpers/http-server.js';

// The OAuth token provider against token endpoints that misbehave in the ways real ones do. The
// well-behaved endpoint is the simulator's (oauth.test.ts).

const testClient = makeOAuthClient('rsa');
const clientFor = (issuer: string): OAuthClient => ({
  clientId: testClient.clientId,
  issuer,
  privateKey: createPrivateKey(testClient.privateKeyPem),
});

type Answer = { status: number; body: string };
const json = (status: number, body: object): Answer => ({ status, body: JSON.stringify(body) });
const TOKEN: Answer = json(200, { access_token: 'at-1', token_type: 'Bearer', expires_in: 120 });

/** A token endpoint at `{origin}/oauth/token` that gives `answers` in turn, noting each request's form. */
async function tokenEndpoint(...answers: Answer[]): Promise<{ issuer: string; forms: URLSearchParams[] }> {
  const forms: URLSearchParams[] = [];
  const origin = await startHttpServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      forms.push(new URLSearchParams(body));
      const { status, body: text } = answers[Math.min(forms.length - 1, answers.length - 1)]!;
      response.writeHead(status, { 'content-type': 'application/json' }).end(text);
    });
  });
  return { issuer: `${origin}/oauth`, forms };
}

const QUICK: OAuthTokenOptions = { retryDelayMs: 1 };

async function refusal(issuer: string, options: OAuthTokenOptions = QUICK): Promise<string> {
  const error = await oauthTokenProvider(clientFor(issuer), options)
    .getToken()
    .then(
      () => undefined,
      (caught: unknown) => caught,
    );
  expect(error).toBeInstanceOf(Ds100Error);
  expect((error as Ds100Error).code).toBe('AUTH');
  return (error as Ds100Error).message;
}

describe('oauthTokenProvider', () => {
  it('asks for the client-credentials grant with a signed assertion and both DS100 scopes', async () => {
    const { issuer, forms } = await tokenEndpoint(TOKEN);
    const issued: Date[] = [];
    const provider = oauthTokenProvider(clientFor(issuer), {
      ...QUICK,
      now: () => 1_700_000_000_000,
      onIssued: (at) => issued.push(at),
    });
    expect(await provider.getToken()).toBe('at-1');
    expect(Object.fromEntries(forms[0]!)).toMatchObject({
      grant_type: 'client_credentials',
      client_id: testClient.clientId,
      scope: 'rsa.authenticator.ds100.manage rsa.authenticator.ds100.read',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    });
    // The lifetime counts from when the request started.
    expect(issued).toEqual([new Date(1_700_000_120_000)]);
  });

  it('tries an overloaded endpoint again (429, 5xx), and gives up as AUTH after the last attempt', async () => {
    const recovering = await tokenEndpoint(json(503, {}), json(429, {}), TOKEN);
    expect(await oauthTokenProvider(clientFor(recovering.issuer), QUICK).getToken()).toBe('at-1');
    expect(recovering.forms).toHaveLength(3);
    // Every attempt carries a fresh assertion: the endpoint refuses a replayed one.
    expect(new Set(recovering.forms.map((form) => form.get('client_assertion'))).size).toBe(3);

    const down = await tokenEndpoint(json(502, {}));
    expect(await refusal(down.issuer, { ...QUICK, attempts: 2 })).toBe(
      `the OAuth token endpoint ${down.issuer}/token answered HTTP 502`,
    );
    expect(down.forms).toHaveLength(2);
  });

  it('gives up at once on a refusal (4xx), naming the error the endpoint gave', async () => {
    const { issuer, forms } = await tokenEndpoint(
      json(401, { error: 'invalid_client', error_description: 'unknown or disabled client' }),
    );
    expect(await refusal(issuer)).toMatch(
      /refused client client-[\w-]+ \(HTTP 401, invalid_client: unknown or disabled client\); check the client ID/,
    );
    expect(forms).toHaveLength(1);
  });

  it('calls an answer without a bearer access token what it is', async () => {
    const answers = [
      { status: 200, body: '<html>login</html>' },
      json(200, { token_type: 'Bearer' }),
      json(200, { access_token: 'x', token_type: 'mac' }),
    ];
    for (const answer of answers) {
      const { issuer } = await tokenEndpoint(answer);
      expect(await refusal(issuer)).toBe(
        `the OAuth token endpoint ${issuer}/token answered without a bearer access_token`,
      );
    }
  });

  it('reports an endpoint it cannot reach, or one that does not answer in time', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createNetServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    expect(await refusal(`http://127.0.0.1:${port}/oauth`, { ...QUICK, attempts: 1 })).toMatch(
      /could not be reached \(ECONNREFUSED\)$/,
    );
    const origin = await startHttpServer(() => {
      // never answers
    });
    expect(await refusal(`${origin}/oauth`, { ...QUICK, attempts: 1, timeoutMs: 50 })).toMatch(
      /could not be reached \(no answer within the timeout\)$/,
    );
  });

  it('renews before expiry, at most half way through a short lifetime; without expires_in a token lives an hour', async () => {
    let nowMs = 1_700_000_000_000;
    const short = await tokenEndpoint(
      json(200, { access_token: 'first', expires_in: 60 }),
      json(200, { access_token: 'second', expires_in: 60 }),
    );
    const provider = oauthTokenProvider(clientFor(short.issuer), { ...QUICK, now: () => nowMs });
    expect(await provider.getToken()).toBe('first');
    nowMs += 29_000;
    expect(await provider.getToken()).toBe('first');
    nowMs += 1_000; // half of 60 s: the default 60 s margin is capped there
    expect(await provider.getToken()).toBe('second');

    const issued: Date[] = [];
    const plain = await tokenEndpoint(json(200, { access_token: 'plain' }));
    await oauthTokenProvider(clientFor(plain.issuer), {
      ...QUICK,
      now: () => 0,
      onIssued: (at) => issued.push(at),
    }).getToken();
    expect(issued).toEqual([new Date(3_600_000)]);
  });
});
