import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { describeFsError, Ds100Error } from '../errors.js';

/**
 * Reading the two credential files an administrator holds: the console's API key file and an OAuth
 * client file. Every message names the file and the field; none ever holds the key or any other value
 * of the file (JSON.parse's own message quotes the text, so it is never passed on).
 */

/** The legacy API key, as the console's `<uuid>.key` file holds it. */
export interface ApiKey {
  readonly accessID: string;
  /** The parsed PKCS#1 private key; the PEM text is not kept. */
  readonly accessKey: KeyObject;
  /** Verbatim from the file: it is the JWT's `aud`, and the server compares it as a string. */
  readonly adminRestApiUrl: string;
  readonly customerName?: string | undefined;
}

/** An OAuth API client: its ID, its issuer and its private key (RSA or EC P-256). */
export interface OAuthClient {
  readonly clientId: string;
  /** The authorization server; tokens come from `{issuer}/token`. */
  readonly issuer: string;
  readonly privateKey: KeyObject;
  /** The `kid` header of the client assertion, when the server registered the key under an ID. */
  readonly keyId?: string | undefined;
  /** Space-separated scopes to request; default: both DS100 scopes. */
  readonly scope?: string | undefined;
  /** Optional convenience: the tenant's API base URL, used when --base-url is not given. */
  readonly adminRestApiUrl?: string | undefined;
}

export interface Loaded<T> {
  readonly value: T;
  /** Problems worth telling the administrator that do not stop the run (the CLI logs them). */
  readonly warnings: readonly string[];
}

const keyFileError = (file: string, message: string, cause?: unknown): Ds100Error =>
  new Ds100Error('KEY_FILE', `${file}: ${message}`, cause === undefined ? undefined : { cause });

/** Reads a JSON object from a credentials file and warns when group or others can read it. */
async function readJsonObject(file: string, what: string): Promise<Loaded<Record<string, unknown>>> {
  let text: string;
  let mode: number;
  try {
    mode = (await stat(file)).mode;
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw keyFileError(file, `cannot read the ${what}: ${describeFsError(error as NodeJS.ErrnoException)}`, error);
  }
  const warnings: string[] = [];
  // Like ssh with an identity file: a private key others can read is as good as leaked. A warning,
  // not an error, because the file may sit on a share whose modes mean nothing (and on Windows).
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    warnings.push(
      `${file}: the ${what} is readable or writable by group/others (mode ${octal}); it holds a private key: chmod 600 ${file}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw keyFileError(file, `the ${what} is not JSON; expected the JSON document as downloaded`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw keyFileError(file, `the ${what} is not a JSON object; expected the JSON document as downloaded`);
  }
  return { value: parsed as Record<string, unknown>, warnings };
}

function requiredString(fields: Record<string, unknown>, name: string, file: string, what: string): string {
  const value = fields[name];
  if (value === undefined || value === null) throw keyFileError(file, `the ${what} has no "${name}" field`);
  if (typeof value !== 'string') throw keyFileError(file, `field "${name}" of the ${what} must be a string`);
  if (value.trim() === '') throw keyFileError(file, `field "${name}" of the ${what} is empty`);
  return value;
}

function optionalString(fields: Record<string, unknown>, name: string, file: string, what: string): string | undefined {
  return fields[name] === undefined ? undefined : requiredString(fields, name, file, what);
}

function requiredUrl(fields: Record<string, unknown>, name: string, file: string, what: string): string {
  const value = requiredString(fields, name, file, what);
  if (!URL.canParse(value)) throw keyFileError(file, `field "${name}" of the ${what} is not an absolute URL`);
  return value;
}

/** Parses a private key without ever echoing it: OpenSSL's reason code is safe, its input is not. */
function parsePrivateKey(key: unknown, name: string, file: string, what: string): KeyObject {
  try {
    if (key && typeof key === 'object') return createPrivateKey({ key: key as JsonWebKey, format: 'jwk' });
    return createPrivateKey(key as string);
  } catch (error) {
    const reason = (error as { code?: string }).code ?? 'unreadable';
    throw keyFileError(
      file,
      `field "${name}" of the ${what} does not hold a private key that can be read (${reason}); ` +
        'expected a PEM block such as "-----BEGIN RSA PRIVATE KEY-----"',
      error,
    );
  }
}

const KEY_FILE = 'API key file';

/** Reads and checks the console's key file (`<uuid>.key`). Throws Ds100Error `KEY_FILE` naming the field. */
export async function readKeyFile(file: string): Promise<Loaded<ApiKey>> {
  const { value: fields, warnings } = await readJsonObject(file, KEY_FILE);
  const accessID = requiredString(fields, 'accessID', file, KEY_FILE);
  const pem = requiredString(fields, 'accessKey', file, KEY_FILE);
  const adminRestApiUrl = requiredUrl(fields, 'adminRestApiUrl', file, KEY_FILE);
  const accessKey = parsePrivateKey(pem, 'accessKey', file, KEY_FILE);
  if (accessKey.asymmetricKeyType !== 'rsa') {
    throw keyFileError(
      file,
      `field "accessKey" of the ${KEY_FILE} holds a ${accessKey.asymmetricKeyType ?? 'non-RSA'} key; the API signs with RS256 and needs an RSA key`,
    );
  }
  const customerName = typeof fields['customerName'] === 'string' ? fields['customerName'] : undefined;
  return { value: { accessID, accessKey, adminRestApiUrl, customerName }, warnings };
}

const OAUTH_FILE = 'OAuth client file';

/**
 * Reads an OAuth client file: `{"clientId", "issuer", "privateKey", "keyId"?, "scope"?, "adminRestApiUrl"?}`,
 * `privateKey` being a PEM (PKCS#8, PKCS#1 or SEC1) or a private JWK object.
 */
export async function readOAuthClientFile(file: string): Promise<Loaded<OAuthClient>> {
  const { value: fields, warnings } = await readJsonObject(file, OAUTH_FILE);
  const clientId = requiredString(fields, 'clientId', file, OAUTH_FILE);
  const issuer = requiredUrl(fields, 'issuer', file, OAUTH_FILE);
  const rawKey = fields['privateKey'];
  if (rawKey === undefined || rawKey === null) throw keyFileError(file, `the ${OAUTH_FILE} has no "privateKey" field`);
  if (typeof rawKey === 'string' && rawKey.trim() === '') {
    throw keyFileError(file, `field "privateKey" of the ${OAUTH_FILE} is empty`);
  }
  const privateKey = parsePrivateKey(rawKey, 'privateKey', file, OAUTH_FILE);
  const type = privateKey.asymmetricKeyType;
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  if (type !== 'rsa' && !(type === 'ec' && curve === 'prime256v1')) {
    throw keyFileError(
      file,
      `field "privateKey" of the ${OAUTH_FILE} holds a ${type ?? 'unknown'}${curve ? ` ${curve}` : ''} key; expected RSA (RS256) or EC P-256 (ES256)`,
    );
  }
  const jwkKid =
    rawKey && typeof rawKey === 'object' && typeof (rawKey as { kid?: unknown }).kid === 'string'
      ? (rawKey as { kid: string }).kid
      : undefined;
  return {
    value: {
      clientId,
      issuer,
      privateKey,
      keyId: optionalString(fields, 'keyId', file, OAUTH_FILE) ?? jwkKid,
      scope: optionalString(fields, 'scope', file, OAUTH_FILE),
      adminRestApiUrl:
        fields['adminRestApiUrl'] === undefined ? undefined : requiredUrl(fields, 'adminRestApiUrl', file, OAUTH_FILE),
    },
    warnings,
  };
}
