/**
 * ds100-bulk as a library: each command as a function that prints nothing and returns its summary,
 * the session that wraps a run the way the command line does, and the types and errors they use.
 * The simulated tenant is a separate entry point: `ds100-bulk/simulator`.
 */
export { enable, enable as run, enableResult, type EnableOptions } from './commands/enable.js';
export { plan, planResult, type PlanOptions } from './commands/plan.js';
export { reconcile, type ReconcileOptions } from './commands/reconcile.js';
export { disable, disableResult, type DisableOptions } from './commands/disable.js';
export { isChangedByRun } from './commands/change-result.js';
export { validate, type ValidateOptions, type ValidationResult } from './commands/validate.js';
export { runSession, sessionFiles, type SessionOptions, type SessionResult } from './session.js';
export { checkFileClashes, type FileRoles, type NamedFiles } from './output/file-clashes.js';
export { RUN_DEFAULTS, checkRunKnobs, type RunOptions, type RunKnobs } from './pipeline/run-options.js';
export type { CanaryOptions, CanaryReport } from './pipeline/canary.js';
export { Ds100Error, type Ds100ErrorCode } from './errors.js';
export type {
  Outcome,
  RowErrorCode,
  InvalidRowCode,
  FailureCode,
  WarningCode,
  StopCode,
  StopReason,
  RowResult,
  InputRow,
  Ds100Pair,
} from './types.js';
export { staticTokenProvider, cachingTokenProvider, type TokenProvider, type IssuedToken } from './auth/token-cache.js';
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
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './client/retry-policy.js';
export { EXIT_CODES, exitCodeFor, validationExitCode } from './output/exit-codes.js';
export {
  formatSummary,
  formatValidationSummary,
  type RunProgress,
  type RunSummary,
  type ValidationSummary,
} from './output/summary.js';
export { RESULT_COLUMNS } from './output/results-writer.js';
export { toSummaryDocument, writeSummaryJson, type SummaryDocument } from './output/summary-json.js';
export { toMetricsText, writeMetricsFile, type MetricsSummary } from './output/metrics-file.js';
export { StateStore } from './state/state-store.js';
export { DEFAULT_RULES, MAX_DS100_PER_USER, type ValidationRules } from './input/validate-row.js';
export type { InputFormat } from './input/input-format.js';
export { createLogger, type Logger, type LogLevel } from './log.js';
