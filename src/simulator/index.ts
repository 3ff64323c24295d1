/**
 * The DS100 simulator, a local stand-in for a tenant's Cloud Administration API for tests, demos and
 * benchmarks: `import { startSimulator } from 'ds100-bulk/simulator'`. It is not part of the main
 * entry, so that a program that only enables credentials does not load it.
 */
export {
  startSimulator,
  SIMULATOR_STATS_PATH,
  type SimulatorOptions,
  type RunningSimulator,
  type SimulatorCall,
  type SimulatorStats,
  type ScheduledOutage,
} from './server.js';
export { Registry, generatePairs, type Credential, type TenantOptions } from './tenant.js';
export { derivedUserId, readUserDirectory, type UserDirectory } from './users.js';
export {
  FAULT_KINDS,
  ABSURD_RETRY_AFTER_SECONDS,
  faultFlagName,
  parseFaultSpecs,
  type ChaosShares,
  type FaultKind,
  type FaultStep,
  type FaultOptions,
  type JournalFault,
} from './faults.js';
export {
  LIMITER_KINDS,
  limiterFromFlags,
  parseLimitSchedule,
  type LimiterKind,
  type LimiterOptions,
  type LimitStep,
  type TokenBucketOptions,
} from './limiters.js';
export {
  DS100_SCOPES,
  apiKeyRegistration,
  type SimulatorAuthOptions,
  type ApiKeyRegistration,
  type OAuthClientRegistration,
} from './auth.js';
