/**
 * Supplies the bearer token for each request. A provider may cache and renew its token; the client
 * asks before every attempt, so a renewed token is picked up at once.
 */
export interface TokenProvider {
  getToken(): Promise<string>;
}

/** A fixed token, e.g. from DS100_TOKEN. */
export const staticTokenProvider = (token: string): TokenProvider => ({ getToken: async () => token });
