import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';

/**
 * Test-only credentials, generated per test run: no private key is ever committed.
 */

export interface TestApiKey {
  readonly accessID: string;
  /** PKCS#1 PEM, as the console's key file holds it. */
  readonly accessKeyPem: string;
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

export function makeApiKey(): TestApiKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    accessID: randomUUID(),
    accessKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicKey,
    privateKey,
  };
}

export interface TestOAuthClient {
  readonly clientId: string;
  readonly privateKeyPem: string;
  readonly publicKey: KeyObject;
  readonly keyId: string;
}

export function makeOAuthClient(kind: 'rsa' | 'ec'): TestOAuthClient {
  const { privateKey, publicKey } =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    clientId: `client-${randomUUID()}`,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey,
    keyId: `kid-${kind}`,
  };
}

/** The base64 lines of a PEM, joined: what would show up if any part of the key leaked. */
export const pemBody = (pem: string): string =>
  pem
    .split('\n')
    .filter((line) => line && !line.startsWith('-----'))
    .join('');

/** A few distinctive slices of a PEM body: a leak of any line would contain one of them. */
export const pemFragments = (pem: string): string[] =>
  pem
    .split('\n')
    .filter((line) => line.length >= 40 && !line.startsWith('-----'))
    .map((line) => line.slice(4, 36));

/** Writes a file with the given mode (key files are 0600 unless a test says otherwise). */
export async function writeSecretFile(path: string, content: string, mode = 0o600): Promise<string> {
  await writeFile(path, content);
  await chmod(path, mode);
  return path;
}

export const keyFileJson = (key: TestApiKey, adminRestApiUrl: string): string =>
  JSON.stringify({
    customerName: 'Example Corp',
    accessID: key.accessID,
    description: 'test key',
    accessKey: key.accessKeyPem,
    adminRestApiUrl,
  });
