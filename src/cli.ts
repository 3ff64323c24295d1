import { setFlagsFromString } from 'node:v8';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ENABLE_FLAGS, toEnableSettings, type EnableFlags } from './cli-options.js';
import { staticTokenProvider } from './client/token-provider.js';
import { Ds100Error } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { exitCodeFor, formatSummary } from './output/summary.js';
import { run } from './run.js';
import { Registry } from './simulator/registry.js';
import { SIMULATOR_STATS_PATH, startSimulator, type RunningSimulator } from './simulator/server.js';

// V8 lets the old generation grow to up to four times the live data before collecting when a
// program allocates fast, which a run of thousands of rows a second does: peak RSS went to 165 MB
// for 60,000 rows with 20 MB live. Growing by half instead keeps it near 125 MB for about 5% more
// CPU (BENCHMARKS.md). The factor is read at every collection, so setting it here, before any work,
// takes effect; it concerns this process only, which is why the CLI sets it and run() does not.
setFlagsFromString('--heap-growing-percent=50');

/** Exit codes: stable, because cron wrappers and monitoring branch on them. */
const EXIT = { ok: 0, rowsNotEnabled: 1, usage: 2, internal: 70 } as const;

const EXIT_CODE_HELP = `Exit codes:
  0   every row was enabled
  1   the run finished; some rows are failed or invalid (see the results file)
  2   usage or input-file error; nothing was sent
  70  internal error (a bug: please report it with the log)`;

const ENV_HELP = `Environment:
  DS100_TOKEN     bearer token for the tenant (required unless --simulate)
  DS100_BASE_URL  the tenant's adminRestApiUrl (or --base-url)`;

async function enableCommand(flags: EnableFlags): Promise<number> {
  const settings = toEnableSettings(flags, process.env);
  const logger: Logger = createLogger({ level: settings.logLevel, file: settings.logFile });
  let simulator: RunningSimulator | undefined;
  try {
    if (settings.simulate) {
      const registry = settings.simulateTenant ? await Registry.fromCsv(settings.simulateTenant) : undefined;
      simulator = await startSimulator({ registry, autoRegister: !registry });
      logger.warn({ baseUrl: simulator.baseUrl }, 'using the built-in SIMULATED tenant; nothing real is touched');
    }
    const summary = await run({
      ...settings,
      baseUrl: simulator?.baseUrl ?? settings.baseUrl!,
      tokenProvider: staticTokenProvider(simulator?.token ?? settings.token!),
      retryPolicy: { retries: settings.retries },
      logger,
      simulated: !!simulator,
    });
    // The summary is for people; when the results CSV goes to stdout it must not be mixed in.
    const print = settings.out === '-' ? console.error : console.log;
    print(formatSummary(summary));
    return exitCodeFor(summary);
  } finally {
    await simulator?.close();
    logger.flush();
  }
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
}): Promise<number> {
  const registry = flags.tenant ? await Registry.fromCsv(flags.tenant) : undefined;
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
  });
  console.log(`DS100 simulator (not a real tenant) listening at ${simulator.baseUrl}`);
  console.log(`bearer token it accepts: ${simulator.token}`);
  console.log(`answers so far: GET ${new URL(SIMULATOR_STATS_PATH, simulator.baseUrl).href}`);
  console.log(
    `try: DS100_TOKEN=${simulator.token} ds100-bulk enable samples/shipment.csv --out r.csv --base-url ${simulator.baseUrl}`,
  );
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
          .example('$0 enable samples/shipment.csv --out results.csv --simulate', 'try it against the simulator')
          .epilog(`${ENV_HELP}\n\n${EXIT_CODE_HELP}`),
      async (argv) => {
        exitCode = await enableCommand(argv as unknown as EnableFlags);
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
        }),
      async (argv) => {
        exitCode = await simulateCommand(argv);
      },
    )
    .demandCommand(1, 'Name a command: enable or simulate')
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
