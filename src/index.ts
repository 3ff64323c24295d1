/** ds100-bulk as a library: `run()` does what `ds100-bulk enable` does, and prints nothing. */
export { run, RUN_DEFAULTS, type RunOptions } from './pipeline/run-rows.js';
export { Ds100Error, type Ds100ErrorCode } from './errors.js';
export type { Outcome, RowErrorCode, InvalidRowCode, FailureCode, RowResult, InputRow, Ds100Pair } from './types.js';
export { staticTokenProvider, type TokenProvider } from './auth/token-cache.js';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './client/retry-policy.js';
export { exitCodeFor, formatSummary, type RunSummary } from './output/summary.js';
export { RESULT_COLUMNS } from './output/results-writer.js';
export { createLogger, type Logger, type LogLevel } from './log.js';
export type { StopCode, StopReason } from './types.js';
export { cachingTokenProvider, type IssuedToken } from './auth/token-cache.js';
export { readKeyFile, readOAuthClientFile, type ApiKey, type OAuthClient } from './auth/key-file.js';
export {
  apiKeyTokenProvider,
  mintApiKeyToken,
  API_KEY_TOKEN_DEFAULTS,
  type ApiKeyTokenOptions,
} from './auth/api-key-token-provider.js';
export { oauthTokenProvider, DEFAULT_OAUTH_SCOPE, type OAuthTokenOptions } from './auth/oauth-token-provider.js';
export { loadCredentials, type CredentialSource, type LoadedCredentials } from './auth/credentials.js';
export { proxySettingsFromEnv, type ProxySettings } from './client/http.js';
export { validate, type ValidateOptions } from './commands/validate.js';
export { reconcile, type ReconcileOptions } from './commands/reconcile.js';
export { StateStore } from './state/state-store.js';
export { toSummaryDocument, writeSummaryJson, type SummaryDocument } from './output/summary-json.js';
export { EXIT_CODES } from './output/summary.js';
export { plan, type PlanOptions } from './commands/plan.js';
export { formatValidationSummary, validationExitCode, type ValidationSummary } from './output/summary.js';
export { DEFAULT_RULES, MAX_DS100_PER_USER, type ValidationRules } from './input/validate-row.js';
export type { WarningCode } from './types.js';
