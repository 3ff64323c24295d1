import { onTestFinished } from 'vitest';
import { staticTokenProvider, type TokenProvider } from '../../src/auth/token-cache.js';
import type { RetryPolicy } from '../../src/client/retry-policy.js';
import { Registry, startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator/index.js';
import type { Ds100Pair } from '../../src/types.js';
import { PREFLIGHT_SERIAL } from '../../src/pipeline/preflight.js';

/**
 * A simulated tenant for the current test: a real HTTP server on a free loopback port (port 0),
 * closed when the test finishes. Call it inside a test or a `beforeEach` hook.
 */
export async function startTestSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const simulator = await startSimulator({ ...options, port: 0, host: '127.0.0.1' });
  let closed: Promise<void> | undefined;
  // Closing twice (a test that closes it early) is harmless.
  const close = (): Promise<void> => (closed ??= simulator.close());
  onTestFinished(close);
  return { ...simulator, close };
}

/** A tenant registry holding `pairs` (credentials disabled). */
export function registryOf(pairs: readonly Ds100Pair[]): Registry {
  const registry = new Registry();
  for (const pair of pairs) registry.register(pair);
  return registry;
}

/** Where a run goes and with which token, for a simulator's own static token. */
export const tenantOf = (simulator: RunningSimulator): { baseUrl: string; tokenProvider: TokenProvider } => ({
  baseUrl: simulator.baseUrl,
  tokenProvider: staticTokenProvider(simulator.token),
});

/** Retry timing small enough that tests never wait on backoff (a Retry-After is still honoured). */
export const FAST_RETRY: Partial<RetryPolicy> = { baseDelayMs: 1, maxDelayMs: 5 };

/** The calls a run made for its rows: every call but the one read-only preflight lookup. */
export const rowCalls = (simulator: RunningSimulator): RunningSimulator['calls'] =>
  simulator.calls.filter((call) => call.serial !== PREFLIGHT_SERIAL);

/** Requests a run sends before its rows: the preflight lookup. */
export const PREFLIGHT_REQUESTS = 1;

/**
 * The session options of an `enable` of `input` against a simulated tenant started for it, at a pace
 * a test need not wait for; spread them and add what the test is about.
 */
export const simulatedEnable = (input: string, out: string) =>
  ({ command: 'enable', input, out, simulate: true, rate: 1000 }) as const;
