import { setFlagsFromString } from 'node:v8';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadCredentials } from './auth/credentials.js';
import { readKeyFile } from './auth/key-file.js';
import { ENV_HELP, examplesHelp, exitCodeHelp, helpWidth, JOB_EXAMPLES } from './cli/help.js';
import {
  checkDisableFlags,
  checkEnableFlags,
  checkPlanFlags,
  checkReconcileFlags,
  checkValidateFlags,
  DISABLE_FLAGS,
  ENABLE_FLAGS,
  PLAN_FLAGS,
  RECONCILE_FLAGS,
  SIMULATE_FLAGS,
  TOKEN_FLAGS,
  toCredentialSource,
  VALIDATE_FLAGS,
  type DisableFlags,
  type EnableFlags,
  type PlanFlags,
  type ReconcileFlags,
  type CanarySettings,
  type SimulateFlags,
  type TenantSettings,
  type TokenFlags,
  type ValidateFlags,
} from './cli/options.js';
import { canaryOnTerminal } from './cli/canary-prompt.js';
import { chooseTerminal, progressFields, startProgressBar, type ProgressBar } from './cli/progress.js';
import { withFlagSuggestions } from './cli/suggest.js';
import { proxySettingsFromEnv } from './client/http.js';
import { validate } from './commands/validate.js';
import { describeWriteError, Ds100Error, usageError } from './errors.js';
import { createLogger } from './log.js';
import { prescanNotice } from './input/prescan-notice.js';
import { EXIT_CODES } from './output/exit-codes.js';
import { checkFileClashes } from './output/file-clashes.js';
import {
  describeEstimate,
  formatSummary,
  outcomeOrderOf,
  formatValidationSummary,
  type RunProgress,
} from './output/summary.js';
import { RUN_DEFAULTS } from './pipeline/run-options.js';
import { runSession, sessionFiles, type SessionOptions } from './session.js';
import {
  apiKeyRegistration,
  limiterFromFlags,
  parseFaultSpecs,
  readUserDirectory,
  Registry,
  SIMULATOR_STATS_PATH,
  startSimulator,
} from './simulator/index.js';

// Two V8 settings for this process only (the library leaves its host's alone), each bought with a
// memory figure in BENCHMARKS.md ("Memory"):
// - V8 lets the heap grow to several times the data that was live at the last full collection,
//   which after the pre-scan of a large file is a lot; growing by half keeps the peak near the need.
// - undici's HTTP parser is WebAssembly; V8's optimising tier needs tens of MB to compile it, its
//   baseline tier next to nothing, and parses these small answers as fast.
setFlagsFromString('--heap-growing-percent=50');
setFlagsFromString('--liftoff-only');

// The summary is for people; when the results CSV goes to stdout it must not be mixed in.
const printerFor = (out: string | undefined) => (out === '-' ? console.error : console.log);

// A stdout or stderr that refuses writes (a reader gone, a full disk, /dev/full) must not crash the
// tool: console swallows only errors raised while it writes, not those a stream reports later. What
// stdout refused is said once on stderr after the summary; stderr has no one to tell.
let stdoutFailure: NodeJS.ErrnoException | undefined;
process.stdout.on('error', (error: NodeJS.ErrnoException) => (stdoutFailure ??= error));
process.stderr.on('error', () => {});

async function validateCommand(flags: ValidateFlags): Promise<number> {
  const options = checkValidateFlags(flags);
  const summary = await validate(options);
  printerFor(options.out)(formatValidationSummary(summary));
  if (summary.reportFailure) console.error(`ds100-bulk: ${summary.reportFailure}`);
  return summary.exitCode;
}

/** Runs a command against the tenant: checked flags -> session -> printed summary -> exit code. */
async function sessionCommand(
  command: SessionOptions['command'],
  settings: TenantSettings & Partial<SessionOptions> & Partial<CanarySettings>,
): Promise<number> {
  // Here as well as in runSession: the logger opens --log-file, which runSession never sees.
  await checkFileClashes(sessionFiles({ ...settings, command }, { '--log-file': settings.logFile }));
  const isTTY = process.stderr.isTTY === true;
  const terminal = chooseTerminal({ ...settings, isTTY });
  // Started at the first progress, when the pre-scan has counted the rows.
  let bar: ProgressBar | undefined;
  const logger = createLogger({
    level: terminal.logLevel,
    file: settings.logFile,
    format: terminal.logFormat,
    colorize: isTTY && settings.logFile === undefined,
    write: terminal.logsAboveBar ? (line) => (bar ? bar.log(line) : void process.stderr.write(line)) : undefined,
  });
  // The command's own first outcome is named in the progress: enabled, disabled, would-enable …
  const [lead] = outcomeOrderOf({ command, action: settings.action });
  const onProgress = terminal.bar
    ? (progress: RunProgress) => {
        if (!bar) {
          bar = startProgressBar(process.stderr, progress.rowsTotal, lead);
          bar.log(describeEstimate(progress.rowsTotal, settings.rate ?? RUN_DEFAULTS.rate));
        }
        bar.update(progress);
      }
    : terminal.progressLogEveryMs === undefined
      ? undefined
      : (progress: RunProgress) => logger.info(progressFields(progress, lead), 'progress');
  // Logs below warnings are held back while a bar is drawn: say here why a large file takes a moment.
  const notice = terminal.bar && settings.input !== undefined ? await prescanNotice(settings.input) : undefined;
  if (notice) process.stderr.write(`${notice}\n`);
  try {
    const { summary, exitCode, summaryJsonFailure } = await runSession({
      ...settings,
      command,
      logger,
      onProgress,
      progressIntervalMs: terminal.progressLogEveryMs ?? 200,
      canary: canaryOnTerminal(command, settings, { stdin: process.stdin, stderr: process.stderr, bar: () => bar }),
      proxy: proxySettingsFromEnv(process.env),
      stopOnSignals: {
        onSecondSignal: (signal) => process.exit(signal === 'SIGTERM' ? EXIT_CODES.sigterm : EXIT_CODES.sigint),
      },
    });
    bar?.stop();
    const print = printerFor(settings.out);
    // The command that resumes this run names its rows as this one did.
    const rowsFrom =
      settings.onlyFailed !== undefined
        ? ['--only-failed', settings.onlyFailed]
        : settings.plan !== undefined
          ? [...(settings.input === undefined ? [] : [settings.input]), '--plan', settings.plan]
          : undefined;
    print(formatSummary(summary, { state: settings.state, rowsFrom }));
    // On stderr too when the summary went to stdout, which may be the output that failed.
    if (summary.stopped?.code === 'OUTPUT_FAILED' && print !== console.error) {
      console.error(`ds100-bulk: ${summary.stopped.message}`);
    }
    if (summaryJsonFailure) console.error(`ds100-bulk: ${summaryJsonFailure}`);
    // A refused write to stdout is reported by the stream a tick later.
    await new Promise((resolve) => setImmediate(resolve));
    if (stdoutFailure && stdoutFailure.code !== 'EPIPE') {
      console.error(`ds100-bulk: cannot write to stdout: ${describeWriteError(stdoutFailure)}`);
    }
    return exitCode;
  } finally {
    bar?.stop();
    logger.flush();
  }
}

async function enableCommand(flags: EnableFlags): Promise<number> {
  // A dry run is validate: it needs no tenant and no token, so their checks are skipped.
  if (flags['dry-run']) {
    if (flags.input === undefined) throw usageError('--dry-run checks an input file: name it');
    return validateCommand(flags);
  }
  return sessionCommand('enable', checkEnableFlags(flags, process.env));
}

/** Prints one fresh bearer token, for curl while debugging: the one place a token is printed, on purpose. */
async function tokenCommand(flags: TokenFlags): Promise<number> {
  // DS100_TOKEN is no source here: printing a token the user already holds would be pointless.
  const source = toCredentialSource(flags, { ...process.env, DS100_TOKEN: undefined });
  if (!source) throw usageError('Name the credentials: --key-file FILE or --oauth-client FILE');
  const credentials = await loadCredentials(source, { proxy: proxySettingsFromEnv(process.env) });
  for (const warning of credentials.warnings) console.error(`ds100-bulk: warning: ${warning}`);
  console.log(await credentials.tokenProvider.getToken());
  return EXIT_CODES.ok;
}

/** Starts the simulator and prints how to reach it; runs until SIGINT / SIGTERM. */
async function simulateCommand(flags: SimulateFlags): Promise<number> {
  const users = flags.users === undefined ? undefined : await readUserDirectory(flags.users);
  const registry = flags.tenant ? await Registry.fromCsv(flags.tenant, undefined, users) : undefined;
  const keyFile = flags['key-file'];
  const key = keyFile ? await readKeyFile(keyFile) : undefined;
  for (const warning of key?.warnings ?? []) console.error(`ds100-bulk: warning: ${warning}`);
  const simulator = await startSimulator({
    port: flags.port,
    host: flags.host,
    registry,
    users,
    autoRegister: !registry,
    stateless: !registry && flags.stateless,
    latencyMs: flags.latency,
    limiter: limiterFromFlags(flags),
    random429: flags['random-429'],
    errorRate: flags['error-rate'],
    chaos: parseFaultSpecs(flags.fault ?? []),
    seed: flags.seed,
    errorBurstLength: flags['error-burst-length'],
    throttleRetryAfterSeconds: flags['throttle-retry-after'],
    outages: (flags['outage-after'] ?? []).map((afterRequests) => ({ afterRequests, durationMs: flags['outage-ms'] })),
    token: flags.token ?? process.env['DS100_TOKEN'],
    recordCalls: false,
    apiKeys: key && [apiKeyRegistration(key.value)],
  });
  console.log(`DS100 simulator (not a real tenant) listening at ${simulator.baseUrl}`);
  console.log(`bearer token it accepts: ${simulator.token}`);
  console.log(`answers so far: GET ${new URL(SIMULATOR_STATS_PATH, simulator.baseUrl).href}`);
  console.log(
    `try: DS100_TOKEN=${simulator.token} ds100-bulk enable samples/shipment.csv --out r.csv --base-url ${simulator.baseUrl}`,
  );
  if (key) {
    console.log(`it also accepts JWTs minted from the API key ${key.value.accessID} (${keyFile}):`);
    console.log(
      `try: ds100-bulk enable samples/shipment.csv --out r.csv --key-file ${keyFile} --base-url ${simulator.baseUrl}`,
    );
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await simulator.close();
  return EXIT_CODES.ok;
}

const WRITE_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EFBIG']);
const isWriteFailure = (error: unknown): error is NodeJS.ErrnoException =>
  error instanceof Error && WRITE_ERRNOS.has((error as NodeJS.ErrnoException).code ?? '');

/**
 * The `<input>` positional. nargs 1 lets `-` (stdin) through: yargs parses a positional again as
 * `--input <value>`, and would otherwise take a bare - for a flag and hand over an empty string.
 */
const withInput = <T>(command: Argv<T>, describe: string, isRequired = true) =>
  command.positional('input', { type: 'string', demandOption: isRequired, describe }).nargs('input', 1);

const FLAGS_OF = new Map<string, readonly string[]>([
  ['enable', Object.keys(ENABLE_FLAGS)],
  ['validate', Object.keys(VALIDATE_FLAGS)],
  ['plan', Object.keys(PLAN_FLAGS)],
  ['reconcile', Object.keys(RECONCILE_FLAGS)],
  ['disable', Object.keys(DISABLE_FLAGS)],
  ['simulate', Object.keys(SIMULATE_FLAGS)],
  ['token', Object.keys(TOKEN_FLAGS)],
]);

/** yargs' usage message, with the command or flag the user probably meant. */
function usageMessage(message: string, args: readonly string[]): string {
  const typed = args.find((arg) => !arg.startsWith('-'));
  // recommendCommands() fails with only its question, before strict mode names the stranger.
  if (message.startsWith('Did you mean ')) return `Unknown command: ${typed}. ${message}`;
  const flags = (typed !== undefined && FLAGS_OF.get(typed)) || [];
  return withFlagSuggestions(message, args, [...flags, 'help', 'version']);
}

async function main(): Promise<number> {
  let exitCode: number = EXIT_CODES.ok;
  const args = hideBin(process.argv);
  const cli = yargs(args)
    .scriptName('ds100-bulk')
    .usage('$0 <command> [options]')
    .command(
      'enable [input]',
      'Enable the DS100 OTP credential of every device/user pair in a CSV',
      (command) =>
        withInput(command, 'CSV with deviceSerialNumber and userId columns (not with --only-failed)', false)
          .options(ENABLE_FLAGS)
          .epilog(`${examplesHelp(JOB_EXAMPLES.enable)}\n\n${ENV_HELP}\n\n${exitCodeHelp('enable')}`),
      async (argv) => {
        exitCode = await enableCommand(argv as EnableFlags);
      },
    )
    .command(
      'validate <input>',
      'Check a CSV offline with the same rules a run uses, and report every problem (no network, no token)',
      (command) =>
        withInput(command, 'CSV to check')
          .options(VALIDATE_FLAGS)
          .epilog(`${examplesHelp(JOB_EXAMPLES.validate)}\n\n${exitCodeHelp('validate')}`),
      async (argv) => {
        exitCode = await validateCommand(argv as ValidateFlags);
      },
    )
    .command(
      'plan <input>',
      'Say per row what a run would do, using only the read-only lookup call (nothing is changed)',
      (command) =>
        withInput(command, 'CSV with deviceSerialNumber and userId columns')
          .options(PLAN_FLAGS)
          .epilog(`${examplesHelp(JOB_EXAMPLES.plan)}\n\n${ENV_HELP}\n\n${exitCodeHelp('plan')}`),
      async (argv) => {
        exitCode = await sessionCommand('plan', checkPlanFlags(argv as PlanFlags, process.env));
      },
    )
    .command(
      'reconcile <input>',
      'Nightly: enable what became possible since the last run, skip what is done, report drift (needs --state)',
      (command) =>
        withInput(command, 'The assignment CSV, the same file night after night')
          .options(RECONCILE_FLAGS)
          .epilog(`${examplesHelp(JOB_EXAMPLES.reconcile)}\n\n${ENV_HELP}\n\n${exitCodeHelp('reconcile')}`),
      async (argv) => {
        exitCode = await sessionCommand('reconcile', checkReconcileFlags(argv as ReconcileFlags, process.env));
      },
    )
    .command(
      'disable [input]',
      "Disable the DS100 OTP credential of every pair in a CSV, e.g. a run's undo file (takes an enable back)",
      (command) =>
        withInput(
          command,
          'CSV with deviceSerialNumber and userId columns, e.g. results.undo.csv (not with --only-failed)',
          false,
        )
          .options(DISABLE_FLAGS)
          .epilog(`${examplesHelp(JOB_EXAMPLES.disable)}\n\n${ENV_HELP}\n\n${exitCodeHelp('disable')}`),
      async (argv) => {
        exitCode = await sessionCommand('disable', checkDisableFlags(argv as DisableFlags, process.env));
      },
    )
    .command(
      'simulate',
      'Start the simulated tenant (for demos, tests and benchmarks) and print its URL and token',
      (command) => command.options(SIMULATE_FLAGS),
      async (argv) => {
        exitCode = await simulateCommand(argv);
      },
    )
    .command(
      'token',
      'Print a fresh bearer token (for curl while debugging; treat the output as a secret)',
      (command) =>
        command
          .options(TOKEN_FLAGS)
          .example(
            'curl -H "Authorization: Bearer $($0 token --key-file tenant.key)" ...',
            'the token lives 55 minutes',
          ),
      async (argv) => {
        exitCode = await tokenCommand(argv);
      },
    )
    .demandCommand(1, 'Name a command: enable, validate, plan, reconcile, disable, token or simulate')
    .strict()
    .recommendCommands()
    .epilog(exitCodeHelp('enable'))
    .fail((message, error) => {
      throw error ?? new Ds100Error('USAGE', usageMessage(message, args));
    })
    .help()
    .alias('h', 'help')
    .version()
    .alias('v', 'version');
  // terminalWidth() is null when stdout is no terminal, whatever its type says.
  cli.wrap(helpWidth(cli.terminalWidth() as number | null, process.env['COLUMNS']));
  try {
    await cli.parseAsync();
  } catch (error) {
    if (isWriteFailure(error)) {
      // A refused write that no stage turned into a stop: still the disk's fault, not a bug.
      const where = error.path === undefined ? '' : ` ${error.path}`;
      console.error(`ds100-bulk: cannot write${where}: ${describeWriteError(error)}`);
      return EXIT_CODES.outputFailed;
    }
    if (!(error instanceof Ds100Error)) {
      console.error(`ds100-bulk: internal error: ${error instanceof Error ? error.message : String(error)}`);
      return EXIT_CODES.internal;
    }
    console.error(`ds100-bulk: ${error.message}`);
    if (error.code === 'USAGE') console.error('Run ds100-bulk --help for usage.');
    return error.code === 'LOCKED' ? EXIT_CODES.locked : EXIT_CODES.usage;
  }
  return exitCode;
}

process.exitCode = await main();
