import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import {
  ENABLE_FLAGS,
  PLAN_FLAGS,
  toCredentialSource,
  toEnableSettings,
  toPlanSettings,
  toValidateSettings,
  VALIDATE_FLAGS,
  type EnableFlags,
  type EnableSettings,
  type PlanFlags,
  type ValidateFlags,
} from './cli-options.js';
import { loadCredentials } from './client/credentials.js';
import { describeProxy, proxySettingsFromEnv, type ProxySettings } from './client/http-dispatcher.js';
import { readKeyFile } from './client/key-file.js';
import { staticTokenProvider, type TokenProvider } from './client/token-provider.js';
import { Ds100Error, usageError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { exitCodeFor, formatSummary, formatValidationSummary, validationExitCode } from './output/summary.js';
import { plan } from './plan.js';
import { run } from './run.js';
import { validate } from './validate.js';
import { Registry } from './simulator/registry.js';
import { startSimulator, type RunningSimulator } from './simulator/server.js';

/** Exit codes: stable, because cron wrappers and monitoring branch on them. */
const EXIT = { ok: 0, rowsNotEnabled: 1, usage: 2, stopped: 3, internal: 70 } as const;

const EXIT_CODE_HELP = `Exit codes:
  0   every row was enabled
  1   the run finished; some rows are failed or invalid (see the results file)
  2   usage, input-file, key-file or credential error; nothing was sent
  3   the run was stopped early (403s kept coming, or too many rows failed);
      rows not sent are in the results as not-attempted, RUN_ABORTED
  70  internal error (a bug: please report it with the log)`;

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

async function enableCommand(flags: EnableFlags): Promise<number> {
  // A dry run is validate: it needs no tenant and no token, so their checks are skipped.
  if (flags.dryRun) return validateCommand(flags);
  const settings = toEnableSettings(flags, process.env);
  const logger: Logger = createLogger({ level: settings.logLevel, file: settings.logFile });
  let tenant: Tenant | undefined;
  try {
    tenant = await connectTenant(settings, logger);
    const summary = await run({
      ...settings,
      baseUrl: tenant.baseUrl,
      tokenProvider: tenant.tokenProvider,
      proxy: tenant.proxy,
      retryPolicy: { retries: settings.retries },
      logger,
      simulated: tenant.simulated,
    });
    // The summary is for people; when the results CSV goes to stdout it must not be mixed in.
    const print = settings.out === '-' ? console.error : console.log;
    print(formatSummary(summary));
    return exitCodeFor(summary);
  } finally {
    await tenant?.close();
    logger.flush();
  }
}

async function planCommand(flags: PlanFlags): Promise<number> {
  const settings = toPlanSettings(flags, process.env);
  const logger: Logger = createLogger({ level: settings.logLevel, file: settings.logFile });
  let tenant: Tenant | undefined;
  try {
    tenant = await connectTenant(settings, logger, { registerInput: true });
    const summary = await plan({
      ...settings,
      baseUrl: tenant.baseUrl,
      tokenProvider: tenant.tokenProvider,
      proxy: tenant.proxy,
      retryPolicy: { retries: settings.retries },
      logger,
      simulated: tenant.simulated,
    });
    const print = settings.out === '-' ? console.error : console.log;
    print(formatSummary(summary));
    return exitCodeFor(summary);
  } finally {
    await tenant?.close();
    logger.flush();
  }
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
  return EXIT.ok;
}

async function simulateCommand(flags: {
  port: number;
  host: string;
  tenant?: string | undefined;
  latency: number;
  rateLimit?: number | undefined;
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
    latencyMs: flags.latency,
    rateLimit: flags.rateLimit ? { perSecond: flags.rateLimit } : undefined,
    errorRate: flags.errorRate,
    token: flags.token ?? process.env['DS100_TOKEN'],
    recordCalls: false,
    apiKeys: key
      ? [{ accessID: key.value.accessID, publicKey: key.value.accessKey, adminRestApiUrl: key.value.adminRestApiUrl }]
      : undefined,
  });
  console.log(`DS100 simulator (not a real tenant) listening at ${simulator.baseUrl}`);
  console.log(`bearer token it accepts: ${simulator.token}`);
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
  return EXIT.ok;
}

async function main(): Promise<void> {
  let exitCode: number = EXIT.ok;
  const cli = yargs(hideBin(process.argv))
    .scriptName('ds100-bulk')
    .usage('$0 <command> [options]')
    .command(
      'enable <input>',
      'Enable the DS100 OTP credential of every device/user pair in a CSV',
      (command) =>
        command
          .positional('input', {
            type: 'string',
            demandOption: true,
            describe: 'CSV with deviceSerialNumber and userId columns',
          })
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
          .positional('input', { type: 'string', demandOption: true, describe: 'CSV to check' })
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
          .positional('input', {
            type: 'string',
            demandOption: true,
            describe: 'CSV with deviceSerialNumber and userId columns',
          })
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
      'simulate',
      'Start the simulated tenant (for demos, tests and benchmarks) and print its URL and token',
      (command) =>
        command.options({
          port: { type: 'number', default: 0, describe: 'Port (0 picks a free one)' },
          host: { type: 'string', default: '127.0.0.1' },
          tenant: { type: 'string', describe: 'CSV of registered pairs (default: any well-formed pair is registered)' },
          latency: { type: 'number', default: 0, describe: 'Milliseconds added to every answer' },
          'rate-limit': { type: 'number', describe: 'Requests per second before answering 429 with Retry-After' },
          'error-rate': { type: 'number', default: 0, describe: 'Share of requests answered 500, 0 to 1' },
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
    .demandCommand(1, 'Name a command: enable, validate, plan, token or simulate')
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
      exitCode = EXIT.usage;
    } else {
      console.error(`ds100-bulk: internal error: ${error instanceof Error ? error.message : String(error)}`);
      exitCode = EXIT.internal;
    }
  }
  process.exitCode = exitCode;
}

await main();
