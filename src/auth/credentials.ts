import { apiKeyTokenProvider, type ApiKeyTokenOptions } from './api-key-token-provider.js';
import type { ProxySettings } from '../client/http.js';
import { readKeyFile, readOAuthClientFile, type ApiKey } from './key-file.js';
import { oauthTokenProvider, type OAuthTokenOptions } from './oauth-token-provider.js';
import { staticTokenProvider, type TokenProvider } from './token-cache.js';

/** Where the bearer tokens come from: exactly one of these per run. */
export type CredentialSource =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'key-file'; readonly file: string }
  | { readonly kind: 'oauth-client'; readonly file: string };

export interface LoadedCredentials {
  readonly tokenProvider: TokenProvider;
  /** The base URL the credentials name (the key file's adminRestApiUrl), if any. */
  readonly adminRestApiUrl?: string | undefined;
  /** The legacy key, when that is the source (the simulator registers its public half). */
  readonly apiKey?: ApiKey | undefined;
  /** For the administrator (the CLI logs them); never secret. */
  readonly warnings: readonly string[];
}

/** Reads the credential files and builds the token provider. Throws Ds100Error `KEY_FILE` on a bad file. */
export async function loadCredentials(
  source: CredentialSource,
  options: {
    readonly proxy?: ProxySettings | undefined;
    readonly onIssued?: (expiresAt: Date) => void;
    readonly apiKey?: ApiKeyTokenOptions;
    readonly oauth?: OAuthTokenOptions;
  } = {},
): Promise<LoadedCredentials> {
  switch (source.kind) {
    case 'token':
      return { tokenProvider: staticTokenProvider(source.token), warnings: [] };
    case 'key-file': {
      const { value: key, warnings } = await readKeyFile(source.file);
      return {
        tokenProvider: apiKeyTokenProvider(key, { onIssued: options.onIssued, ...options.apiKey }),
        adminRestApiUrl: key.adminRestApiUrl,
        apiKey: key,
        warnings,
      };
    }
    case 'oauth-client': {
      const { value: client, warnings } = await readOAuthClientFile(source.file);
      return {
        tokenProvider: oauthTokenProvider(client, {
          proxy: options.proxy,
          onIssued: options.onIssued,
          ...options.oauth,
        }),
        adminRestApiUrl: client.adminRestApiUrl,
        warnings,
      };
    }
  }
}
