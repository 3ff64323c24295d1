import { setFlagsFromString } from 'node:v8';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import {
  ENABLE_FLAGS,
  PLAN_FLAGS,
  RECONCILE_FLAGS,
  toCredentialSource,
  toEnableSettings,
  toPlanSettings,
  toReconcileSettings,
  toValidateSettings,
  VALIDATE_FLAGS,
  type EnableFlags,
  type EnableSettings,
  type PlanFlags,
  type ReconcileFlags,
  type ValidateFlags,
} from './cli/options.js';
import { loadCredentials } from './auth/credentials.js';
import { describeProxy, proxySettingsFromEnv, type ProxySettings } from './client/http.js';
import { readKeyFile } from './auth/key-file.js';
import { staticTokenProvider, type TokenProvider } from './auth/token-cache.js';
import { Ds100Error, usageError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import {
  EXIT_CODES,
  exitCodeFor,
  formatSummary,
  formatValidationSummary,
  validationExitCode,
  type RunSummary,
} from './output/summary.js';
import { toSummaryDocument, writeSummaryJson } from './output/summary-json.js';
import { plan } from './commands/plan.js';
import { reconcile } from './commands/reconcile.js';
import { run, type RunOptions } from './pipeline/run-rows.js';
import { StateStore } from './state/state-store.js';
import { validate } from './commands/validate.js';
import { Registry, SIMULATOR_STATS_PATH, startSimulator, type RunningSimulator } from './simulator/index.js';

// V8 lets the old generation grow to up to four times the live data before collecting when a
// program allocates fast, which a run of thousands of rows a second does: a 40,000-row run peaked at
// 145 MB with about 20 MB live. Growing by half instead keeps it near 110 MB, for no CPU difference
// we could measure (BENCHMARKS.md, "Memory"). The factor is read at every collection, so setting it here, before any work,
// takes effect; it concerns this process only, which is why the CLI sets it and run() does not.
setFlagsFromString('--heap-growing-percent=50');
// undici parses HTTP with llhttp compiled to WebAssembly, compiled when the first connection opens.
// V8's optimising tier needs about 35 MB for that one large parser function, on top of everything
// else at that moment; its baseline tier (Liftoff) needs next to nothing and, measured here, parses
// the small answers of this API no slower overall (BENCHMARKS.md, "Memory").
setFlagsFromString('--liftoff-only');

/** Exit codes: stable, because cron wrappers and monitoring branch on them. */

const EXIT_CODE_HELP = `Exit codes:
  0   every row was enabled (reconcile: enabled, unchanged or not registered yet)
  1   the run finished; some rows are failed or invalid (see the results file)
  2   usage, input-file, key-file, credential or state-file error; nothing was sent
  3   the run was stopped early (403s kept coming, or too many rows failed);
      rows not sent are in the results as not-attempted, RUN_ABORTED
  4   another run holds the lock on the --state file; nothing was done
  5   reconcile --max-changes was reached; further changes are not-attempted
  6   --max-runtime ran out; rows not sent are not-attempted, MAX_RUNTIME
  70  internal error (a bug: please report it with the log)
  130 / 143  interrupted by SIGINT / SIGTERM; rows not sent are not-attempted, INTERRUPTED`;

const VALIDATE_EXIT_HELP = `Exit codes:
  0   every row is valid (rows with only a warning count as valid)
  1   some rows are invalid (see the summary, or the --out report)
  2   usage error, or the file itself is unusable (empty, header only, not UTF-8, not CSV …)`;

const PLAN_EXIT_HELP = `Exit codes:
  0   every row would be enabled or is already enabled
  1   some rows are invalid, not registered, registered to another user, or their lookup failed
  2   usage or input-file error; nothing was sent
  70  internal error (a bug: please report it with the log)`;

const ENV_HELP = `Environment:
  DS100_KEY_FILE      the console's API key file (or --key-file)
  DS100_OAUTH_CLIENT  an OAuth API client file (or --oauth-client)
  DS100_TOKEN         a ready bearer token instead (it cannot be renewed)
  DS100_BASE_URL      the adminRestApiUrl (--base-url); default: the key file's
  HTTPS_PROXY         proxy for https (HTTP_PROXY for http); NO_PROXY: go direct
  NODE_EXTRA_CA_CERTS PEM file of extra CA certificates (private CA, TLS proxy)`;

/** Where requests go, with which token, and how. */
interface Tenant {
  readonly baseUrl: string;
  readonly tokenProvider: TokenProvider;
  readonly proxy: ProxySettings | undefined;
  readonly simulated: boolean;
  close(): Promise<void>;
}

/**
 * The one place that turns checked settings into a tenant to talk to, shared by every command that
 * sends requests: credentials (key file, OAuth client or DS100_TOKEN), proxy, and with --simulate the
 * built-in simulator (which then checks key-file tokens the way the service does).
 */
async function connectTenant(
  settings: Pick<EnableSettings, 'simulate' | 'simulateTenant' | 'baseUrl' | 'credentials' | 'input'>,
  logger: Logger,
  { registerInput = false }: { registerInput?: boolean } = {},
): Promise<Tenant> {
  const proxy = proxySettingsFromEnv(process.env);
  if (proxy) {
    const via = describeProxy(proxy.httpsProxy ?? proxy.httpProxy ?? '');
    logger.info({ proxy: via, noProxy: proxy.noProxy }, 'sending through a proxy (HTTPS_PROXY / NO_PROXY)');
  }
  const credentials = settings.credentials
    ? await loadCredentials(settings.credentials, {
        proxy,
        onIssued: (expiresAt) => logger.debug({ expiresAt: expiresAt.toISOString() }, 'new bearer token obtained'),
      })
    : undefined;
  for (const warning of credentials?.warnings ?? []) logger.warn(warning);
  if (settings.simulate) {
    // Without a tenant file the simulator counts every well-formed pair as registered. It learns a
    // pair from an enable call; a lookup names no user, so for plan the input's pairs are registered
    // up front (registerInput) to give the same picture.
    const tenantFile = settings.simulateTenant ?? (registerInput ? settings.input : undefined);
    const registry = tenantFile ? await Registry.fromCsv(tenantFile) : undefined;
    const { apiKey } = credentials ?? {};
    const simulator: RunningSimulator = await startSimulator({
      registry,
      autoRegister: !registry,
      // With --key-file the simulator checks the minted JWTs as the service would.
      apiKeys: apiKey
        ? [{ accessID: apiKey.accessID, publicKey: apiKey.accessKey, adminRestApiUrl: apiKey.adminRestApiUrl }]
        : undefined,
    });
    logger.warn({ baseUrl: simulator.baseUrl }, 'using the built-in SIMULATED tenant; nothing real is touched');
    return {
      baseUrl: simulator.baseUrl,
      tokenProvider: credentials?.tokenProvider ?? staticTokenProvider(simulator.token),
      proxy,
      simulated: true,
      close: () => simulator.close(),
    };
  }
  const baseUrl = settings.baseUrl ?? credentials?.adminRestApiUrl;
  if (baseUrl === undefined || credentials === undefined) {
    throw usageError('No tenant given: the OAuth client file has no adminRestApiUrl; set --base-url or DS100_BASE_URL');
  }
  return { baseUrl, tokenProvider: credentials.tokenProvider, proxy, simulated: false, close: async () => {} };
}

async function validateCommand(flags: ValidateFlags): Promise<number> {
  const settings = toValidateSettings(flags);
  const summary = await validate(settings);
  // The summary is for people; when the report goes to stdout it must not be mixed in.
  const print = settings.out === '-' ? console.error : console.log;
  print(formatValidationSummary(summary));
  return validationExitCode(summary);
}

type TenantSettings = ReturnType<typeof toPlanSettings>;
type CommonRunOptions = Omit<RunOptions, 'out'> & { readonly out: string | undefined };

/**
 * What every command that talks to a tenant shares: the logger, the state ledger and its lock, the
 * tenant connection, Ctrl-C / SIGTERM and --max-runtime (all of which stop the run the same way), the
 * printed summary, --summary-json and the exit code.
 */
async function runAgainstTenant(
  command: 'enable' | 'plan' | 'reconcile',
  settings: TenantSettings,
  execute: (options: CommonRunOptions & { state: StateStore | undefined }) => Promise<RunSummary>,
): Promise<number> {
  const logger: Logger = createLogger({ level: settings.logLevel, file: settings.logFile });
  // The lock first: a second run must not even read the ledger while the first is writing it.
  const state = settings.state === undefined ? undefined : StateStore.open(settings.state);
  if (state?.takenOverFrom) logger.warn({ previous: state.takenOverFrom }, 'took over the lock of a run that died');
  if (state?.ignoredLines)
    logger.warn({ lines: state.ignoredLines }, 'ignored torn or corrupt lines in the state file');
  const stopper = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (name: NodeJS.Signals): void => {
    if (signalled) {
      // A second signal: leave at once. Every ledger record is a complete line already, so the
      // ledger stays consistent; the results file may lack the rows in flight.
      state?.close();
      process.exit(name === 'SIGTERM' ? EXIT_CODES.sigterm : EXIT_CODES.sigint);
    }
    signalled = name;
    stopper.abort({ code: 'INTERRUPTED', message: `${name} received: the run was ended before this row was sent` });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const deadline =
    settings.maxRuntimeMs === undefined
      ? undefined
      : setTimeout(
          () => stopper.abort({ code: 'MAX_RUNTIME', message: '--max-runtime ran out before this row was sent' }),
          settings.maxRuntimeMs,
        );
  let tenant: Tenant | undefined;
  try {
    tenant = await connectTenant(settings, logger, { registerInput: command !== 'enable' });
    const summary = await execute({
      ...settings,
      baseUrl: tenant.baseUrl,
      tokenProvider: tenant.tokenProvider,
      proxy: tenant.proxy,
      retryPolicy: { retries: settings.retries },
      logger,
      simulated: tenant.simulated,
      signal: stopper.signal,
      state,
    });
    const removed = state?.removedFromInput() ?? [];
    if (removed.length > 0) {
      const pairs = removed
        .slice(0, 20)
        .map((entry) => `${entry.deviceSerialNumber} ${entry.userId} (${entry.outcome})`);
      logger.warn(
        { count: removed.length, first: pairs },
        'pairs in the state file are no longer in the input (not acted on)',
      );
    }
    // The summary is for people; when the results CSV goes to stdout it must not be mixed in.
    const print = settings.out === '-' ? console.error : console.log;
    print(formatSummary(summary));
    const exitCode = signalled === 'SIGTERM' && summary.stopped ? EXIT_CODES.sigterm : exitCodeFor(summary);
    if (settings.summaryJson) writeSummaryJson(settings.summaryJson, toSummaryDocument(command, summary, exitCode));
    return exitCode;
  } finally {
    clearTimeout(deadline);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await tenant?.close();
    state?.close();
    logger.flush();
  }
}

async function enableCommand(flags: EnableFlags): Promise<number> {
  // A dry run is validate: it needs no tenant and no token, so their checks are skipped.
  if (flags.dryRun) return validateCommand(flags);
  const settings = toEnableSettings(flags, process.env);
  return runAgainstTenant('enable', settings, (options) => run({ ...options, out: settings.out }));
}

async function planCommand(flags: PlanFlags): Promise<number> {
  return runAgainstTenant('plan', toPlanSettings(flags, process.env), (options) => plan(options));
}

async function reconcileCommand(flags: ReconcileFlags): Promise<number> {
  const settings = toReconcileSettings(flags, process.env);
  return runAgainstTenant('reconcile', settings, ({ state, ...options }) =>
    reconcile({ ...options, state: state!, recheck: settings.recheck, maxChanges: settings.maxChanges }),
  );
}

/** Prints one fresh bearer token, for curl while debugging: the one place a token is printed, on purpose. */
async function tokenCommand(flags: {
  keyFile?: string | undefined;
  oauthClient?: string | undefined;
}): Promise<number> {
  // DS100_TOKEN is no source here: printing a token the user already holds would be pointless.
  const source = toCredentialSource(flags, { ...process.env, DS100_TOKEN: undefined });
  if (!source) throw usageError('Name the credentials: --key-file FILE or --oauth-client FILE');
  const credentials = await loadCredentials(source, { proxy: proxySettingsFromEnv(process.env) });
  for (const warning of credentials.warnings) console.error(`ds100-bulk: warning: ${warning}`);
  console.log(await credentials.tokenProvider.getToken());
  return EXIT_CODES.ok;
}

async function simulateCommand(flags: {
  port: number;
  host: string;
  tenant?: string | undefined;
  latency: number;
  rateLimit?: number | undefined;
  burst?: number | undefined;
  stateless?: boolean | undefined;
  errorRate: number;
  token?: string | undefined;
  keyFile?: string | undefined;
}): Promise<number> {
  const registry = flags.tenant ? await Registry.fromCsv(flags.tenant) : undefined;
  const key = flags.keyFile ? await readKeyFile(flags.keyFile) : undefined;
  for (const warning of key?.warnings ?? []) console.error(`ds100-bulk: warning: ${warning}`);
  const simulator = await startSimulator({
    port: flags.port,
    host: flags.host,
    registry,
    autoRegister: !registry,
    stateless: !registry && flags.stateless,
    latencyMs: flags.latency,
    rateLimit: flags.rateLimit ? { perSecond: flags.rateLimit, burst: flags.burst } : undefined,
    errorRate: flags.errorRate,
    token: flags.token ?? process.env['DS100_TOKEN'],
    recordCalls: false,
    apiKeys: key
      ? [{ accessID: key.value.accessID, publicKey: key.value.accessKey, adminRestApiUrl: key.value.adminRestApiUrl }]
      : undefined,
  });
  console.log(`DS100 simulator (not a real tenant) listening at ${simulator.baseUrl}`);
  console.log(`bearer token it accepts: ${simulator.token}`);
  console.log(`answers so far: GET ${new URL(SIMULATOR_STATS_PATH, simulator.baseUrl).href}`);
  console.log(
    `try: DS100_TOKEN=${simulator.token} ds100-bulk enable samples/shipment.csv --out r.csv --base-url ${simulator.baseUrl}`,
  );
  if (key) {
    console.log(`it also accepts JWTs minted from the API key ${key.value.accessID} (${flags.keyFile}):`);
    console.log(
      `try: ds100-bulk enable samples/shipment.csv --out r.csv --key-file ${flags.keyFile} --base-url ${simulator.baseUrl}`,
    );
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await simulator.close();
  return EXIT_CODES.ok;
}

const inputPositional = (describe: string) => ({ type: 'string', demandOption: true, describe }) as const;

async function main(): Promise<void> {
  let exitCode: number = EXIT_CODES.ok;
  const cli = yargs(hideBin(process.argv))
    .scriptName('ds100-bulk')
    .usage('$0 <command> [options]')
    .command(
      'enable <input>',
      'Enable the DS100 OTP credential of every device/user pair in a CSV',
      (command) =>
        command
          .positional('input', inputPositional('CSV with deviceSerialNumber and userId columns'))
          .options(ENABLE_FLAGS)
          .example(
            'DS100_TOKEN=... $0 enable shipment.csv --out results.csv --base-url https://example.access.securid.com/AdminInterface/restapi/',
            '',
          )
          .example('$0 enable shipment.csv --out results.csv --key-file 139f6495-....key', 'with the console key file')
          .example('$0 enable samples/shipment.csv --out results.csv --simulate', 'try it against the simulator')
          .example('$0 enable shipment.csv --out report.csv --dry-run', 'only check the file, like validate')
          .epilog(`${ENV_HELP}\n\n${EXIT_CODE_HELP}`),
      async (argv) => {
        exitCode = await enableCommand(argv as unknown as EnableFlags);
      },
    )
    .command(
      'validate <input>',
      'Check a CSV offline with the same rules a run uses, and report every problem (no network, no token)',
      (command) =>
        command
          .positional('input', inputPositional('CSV to check'))
          .options(VALIDATE_FLAGS)
          .example('$0 validate samples/messy-shipment.csv', 'summary with counts and examples per error code')
          .example('$0 validate shipment.csv --out report.csv', 'also one line per row, outcome valid or invalid')
          .epilog(VALIDATE_EXIT_HELP),
      async (argv) => {
        exitCode = await validateCommand(argv as unknown as ValidateFlags);
      },
    )
    .command(
      'plan <input>',
      'Say per row what a run would do, using only the read-only lookup call (nothing is changed)',
      (command) =>
        command
          .positional('input', inputPositional('CSV with deviceSerialNumber and userId columns'))
          .options(PLAN_FLAGS)
          .example(
            'DS100_TOKEN=... $0 plan shipment.csv --out plan.csv --base-url https://example.access.securid.com/AdminInterface/restapi/',
            '',
          )
          .example(
            '$0 plan samples/messy-shipment.csv --simulate --simulate-tenant samples/messy-tenant.csv',
            'try it against the simulator',
          )
          .epilog(`${ENV_HELP}\n\n${PLAN_EXIT_HELP}`),
      async (argv) => {
        exitCode = await planCommand(argv as unknown as PlanFlags);
      },
    )
    .command(
      'reconcile <input>',
      'Nightly: enable what became possible since the last run, skip what is done, report drift (needs --state)',
      (command) =>
        command
          .positional('input', inputPositional('The assignment CSV, the same file night after night'))
          .options(RECONCILE_FLAGS)
          .example(
            '$0 reconcile assignments.csv --state /var/lib/ds100/assignments.state --key-file tenant.key --out last-run.csv --summary-json last-run.json --max-runtime 50m',
            'from cron',
          )
          .example(
            '$0 reconcile samples/shipment.csv --state demo.state --simulate --out demo.csv',
            'try it against the simulator',
          )
          .epilog(`${ENV_HELP}\n\n${EXIT_CODE_HELP}`),
      async (argv) => {
        exitCode = await reconcileCommand(argv as unknown as ReconcileFlags);
      },
    )
    .command(
      'simulate',
      'Start the simulated tenant (for demos, tests and benchmarks) and print its URL and token',
      (command) =>
        command.options({
          port: { type: 'number', default: 0, describe: 'Port (0 picks a free one)' },
          host: { type: 'string', default: '127.0.0.1' },
          tenant: { type: 'string', describe: 'CSV of registered pairs (default: any well-formed pair is registered)' },
          latency: { type: 'number', default: 0, describe: 'Milliseconds added to every answer' },
          'rate-limit': { type: 'number', describe: 'Requests per second before answering 429 with Retry-After' },
          burst: {
            type: 'number',
            describe: 'With --rate-limit: requests accepted at once before the limit bites (default: one second of it)',
          },
          'error-rate': { type: 'number', default: 0, describe: 'Share of requests answered 500, 0 to 1' },
          stateless: {
            type: 'boolean',
            default: false,
            describe:
              'Without --tenant: answer every pair as registered but keep nothing (flat memory, for benchmarks)',
          },
          token: { type: 'string', describe: 'Bearer token to accept [env: DS100_TOKEN] (default: random)' },
          'key-file': { type: 'string', describe: 'Also accept JWTs minted from this API key file' },
        }),
      async (argv) => {
        exitCode = await simulateCommand(argv);
      },
    )
    .command(
      'token',
      'Print a fresh bearer token (for curl while debugging; treat the output as a secret)',
      (command) =>
        command
          .options({
            'key-file': { type: 'string', describe: "The console's API key file [env: DS100_KEY_FILE]" },
            'oauth-client': { type: 'string', describe: 'OAuth API client file [env: DS100_OAUTH_CLIENT]' },
          })
          .example(
            'curl -H "Authorization: Bearer $($0 token --key-file tenant.key)" ...',
            'the token lives 55 minutes',
          ),
      async (argv) => {
        exitCode = await tokenCommand(argv);
      },
    )
    .demandCommand(1, 'Name a command: enable, validate, plan, reconcile, token or simulate')
    .strict()
    .epilog(EXIT_CODE_HELP)
    .fail((message, error) => {
      throw error ?? new Ds100Error('USAGE', message);
    })
    .help()
    .version();
  try {
    await cli.parseAsync();
  } catch (error) {
    if (error instanceof Ds100Error) {
      console.error(`ds100-bulk: ${error.message}`);
      if (error.code === 'USAGE') console.error('Run ds100-bulk --help for usage.');
      exitCode = error.code === 'LOCKED' ? EXIT_CODES.locked : EXIT_CODES.usage;
    } else {
      console.error(`ds100-bulk: internal error: ${error instanceof Error ? error.message : String(error)}`);
      exitCode = EXIT_CODES.internal;
    }
  }
  process.exitCode = exitCode;
}

await main();
