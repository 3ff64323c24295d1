import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { readKeyFile, readOAuthClientFile } from '../../src/auth/key-file.js';
import { Ds100Error } from '../../src/errors.js';
import {
  keyFileJson,
  makeApiKey,
  makeOAuthClient,
  pemBody,
  pemFragments,
  writeSecretFile,
  type TestApiKey,
} from '../helpers/credentials.js';
import { tempDir } from '../helpers/temp-dir.js';

const TENANT_URL = 'https://example.access.securid.com/AdminInterface/restapi/';
let dir: string;
// One key per file: RSA generation is slow on a small machine.
const key: TestApiKey = makeApiKey();
const rsaClient = makeOAuthClient('rsa');

beforeEach(() => {
  dir = tempDir();
});

const fields = (overrides: Record<string, unknown>): string =>
  JSON.stringify({ ...JSON.parse(keyFileJson(key, TENANT_URL)), ...overrides });

/** Reads the file and returns the error, checking it names the file and leaks no part of the key. */
async function keyFileError(content: string): Promise<Ds100Error> {
  const file = await writeSecretFile(join(dir, 'tenant.key'), content);
  const error = await readKeyFile(file).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Ds100Error);
  const { code, message } = error as Ds100Error;
  expect(code).toBe('KEY_FILE');
  expect(message).toContain(file);
  for (const fragment of pemFragments(key.accessKeyPem)) expect(message).not.toContain(fragment);
  return error as Ds100Error;
}

describe('readKeyFile', () => {
  it('reads a well-formed key file: accessID, the parsed PKCS#1 key and adminRestApiUrl verbatim', async () => {
    const file = await writeSecretFile(join(dir, 'ok.key'), keyFileJson(key, TENANT_URL.slice(0, -1)));
    const { value, warnings } = await readKeyFile(file);
    expect(value.accessID).toBe(key.accessID);
    expect(value.adminRestApiUrl).toBe(TENANT_URL.slice(0, -1));
    expect(value.accessKey.asymmetricKeyType).toBe('rsa');
    expect(warnings).toEqual([]);
  });

  it('a missing file says so', async () => {
    const file = join(dir, 'nope.key');
    await expect(readKeyFile(file)).rejects.toThrow(`${file}: cannot read the API key file: no such file`);
  });

  it('a file that is not JSON says so without quoting its content', async () => {
    const error = await keyFileError(key.accessKeyPem);
    expect(error.message).toMatch(/is not JSON/);
  });

  it('a JSON array is not a key file', async () => {
    const error = await keyFileError('[1, 2]');
    expect(error.message).toMatch(/is not a JSON object/);
  });

  it('a missing accessID is named', async () => {
    const error = await keyFileError(fields({ accessID: undefined }));
    expect(error.message).toMatch(/has no "accessID" field/);
  });

  it('a missing accessKey is named', async () => {
    const error = await keyFileError(fields({ accessKey: undefined }));
    expect(error.message).toMatch(/has no "accessKey" field/);
  });

  it('an empty accessKey is named', async () => {
    const error = await keyFileError(fields({ accessKey: '  ' }));
    expect(error.message).toMatch(/field "accessKey" of the API key file is empty/);
  });

  it('a missing adminRestApiUrl is named', async () => {
    const error = await keyFileError(fields({ adminRestApiUrl: undefined }));
    expect(error.message).toMatch(/has no "adminRestApiUrl" field/);
  });

  it('an adminRestApiUrl that is not a URL is named', async () => {
    const error = await keyFileError(fields({ adminRestApiUrl: 'example.access.securid.com' }));
    expect(error.message).toMatch(/field "adminRestApiUrl" of the API key file is not an absolute URL/);
  });

  it('a field of the wrong type is named', async () => {
    const error = await keyFileError(fields({ accessID: 42 }));
    expect(error.message).toMatch(/field "accessID" of the API key file must be a string/);
  });

  it('an accessKey that does not parse is named, and its text is not echoed', async () => {
    // A damaged key: the PEM armour is intact, the body is cut in half.
    const body = pemBody(key.accessKeyPem);
    const broken = `-----BEGIN RSA PRIVATE KEY-----\n${body.slice(0, body.length / 2)}\n-----END RSA PRIVATE KEY-----\n`;
    const error = await keyFileError(fields({ accessKey: broken }));
    expect(error.message).toMatch(/field "accessKey" of the API key file does not hold a private key that can be read/);
    expect(error.message).not.toContain(body.slice(10, 50));
  });

  it('an accessKey that is not RSA is refused: the API signs RS256', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
      type: 'sec1',
      format: 'pem',
    });
    const error = await keyFileError(fields({ accessKey: ec.toString() }));
    expect(error.message).toMatch(/holds a ec key; the API signs with RS256 and needs an RSA key/);
  });

  it.skipIf(process.platform === 'win32')('a key file readable by group/others is read, with a warning', async () => {
    const file = await writeSecretFile(join(dir, 'open.key'), keyFileJson(key, TENANT_URL), 0o644);
    const { value, warnings } = await readKeyFile(file);
    expect(value.accessID).toBe(key.accessID);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(file);
    expect(warnings[0]).toMatch(/mode 0644.*chmod 600/);
    for (const fragment of pemFragments(key.accessKeyPem)) expect(warnings[0]).not.toContain(fragment);
  });
});

const clientJson = (privateKey: unknown, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ clientId: 'c1', issuer: 'https://example.auth.securid.com/oauth', privateKey, ...extra });

describe('readOAuthClientFile', () => {
  it('reads an RSA client, keeping keyId and scope', async () => {
    const file = await writeSecretFile(
      join(dir, 'client.json'),
      clientJson(rsaClient.privateKeyPem, { keyId: 'k1', scope: 'rsa.authenticator.ds100.manage' }),
    );
    const { value } = await readOAuthClientFile(file);
    expect(value).toMatchObject({ clientId: 'c1', keyId: 'k1', scope: 'rsa.authenticator.ds100.manage' });
    expect(value.privateKey.asymmetricKeyType).toBe('rsa');
  });

  it('reads an EC P-256 key given as a JWK, taking its kid', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'jwk-kid' };
    const file = await writeSecretFile(join(dir, 'client.json'), clientJson(jwk));
    const { value } = await readOAuthClientFile(file);
    expect(value.keyId).toBe('jwk-kid');
    expect(value.privateKey.asymmetricKeyType).toBe('ec');
  });

  it('a missing privateKey is named', async () => {
    const file = await writeSecretFile(join(dir, 'client.json'), clientJson(undefined));
    await expect(readOAuthClientFile(file)).rejects.toThrow(/has no "privateKey" field/);
  });

  it('a missing issuer is named', async () => {
    const file = await writeSecretFile(
      join(dir, 'client.json'),
      JSON.stringify({ clientId: 'c1', privateKey: rsaClient.privateKeyPem }),
    );
    await expect(readOAuthClientFile(file)).rejects.toThrow(/OAuth client file has no "issuer" field/);
  });

  it('an EC key on another curve than P-256 is refused', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const file = await writeSecretFile(join(dir, 'client.json'), clientJson(pem));
    const error = await readOAuthClientFile(file).catch((caught: unknown) => caught as Error);
    expect((error as Error).message).toMatch(/expected RSA \(RS256\) or EC P-256 \(ES256\)/);
    for (const fragment of pemFragments(pem)) expect((error as Error).message).not.toContain(fragment);
  });
});
