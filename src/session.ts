import { loadCredentials, type CredentialSource } from './auth/credentials.js';
import { staticTokenProvider, type TokenProvider } from './auth/token-cache.js';
import { describeProxy, type ProxySettings } from './client/http.js';
import { disable } from './commands/disable.js';
import { enable } from './commands/enable.js';
import { plan as planRun } from './commands/plan.js';
import { reconcile } from './commands/reconcile.js';
import { usageError } from './errors.js';
import { spoolFailedRows, type FailedRows } from './input/only-failed.js';
import { readPlanFile, type AppliedPlan } from './input/plan-file.js';
import { holdStdin, STDIN, type StdinHold } from './input/stdin.js';
import { silentLogger, type Logger } from './log.js';
import { EXIT_CODES, exitCodeFor } from './output/exit-codes.js';
import { checkFileClashes, type FileRoles, type NamedFiles } from './output/file-clashes.js';
import type { RunSummary } from './output/summary.js';
import { undoFileOf } from './output/undo-writer.js';
import { toSummaryDocument, writeSummaryJson } from './output/summary-json.js';
import { writeMetricsFile } from './output/metrics-file.js';
import { writeReportFiles } from './output/report-files.js';
import { writeReport } from './output/report-html.js';
import { AttentionCollector } from './output/report-rows.js';
import { TimelineCollector, type PaceSample } from './output/report-timeline.js';
import { checkRowSources, type RunOptions } from './pipeline/run-options.js';
import {
  apiKeyRegistration,
  readUserDirectory,
  Registry,
  startSimulator,
  type RunningSimulator,
} from './simulator/index.js';
import { lockFileOf, StateStore } from './state/state-store.js';
import type { PlanAction, RowResult } from './types.js';

/**
 * Everything a run against a tenant needs around the row pipeline, for the command line and for
 * library users alike: credentials, proxy, the built-in simulator, the state ledger and its lock,
 * Ctrl-C / SIGTERM and --max-runtime (all of which stop the run the same way), --summary-json and
 * --metrics-file.
 */
export interface SessionOptions extends Omit<
  RunOptions,
  'baseUrl' | 'tokenProvider' | 'state' | 'signal' | 'simulated' | 'out' | 'input' | 'inputCopyOf'
> {
  readonly command: 'enable' | 'plan' | 'reconcile' | 'disable';
  /**
   * CSV of device/user pairs with a header row (`-`: stdin). May be left out with `plan` (the plan
   * names its input) or `onlyFailed` (the rows come from the earlier results).
   */
  readonly input?: string | undefined;
  /**
   * enable and disable: apply this plan file (`plan --out plan.csv`): only its `would-enable` (`would-disable`) rows are sent, and
   * nothing is sent when the plan was edited or the input changed since (exit 2).
   */
  readonly plan?: string | undefined;
  /**
   * enable and disable: re-run the rows of this earlier results file whose outcome was not a success (failed,
   * unknown, invalid, not-attempted …), with their carried columns; no `input` then.
   */
  readonly onlyFailed?: string | undefined;
  /** Results CSV, or `-` for stdout. Required for enable; plan and reconcile may leave it out. */
  readonly out?: string | undefined;
  /** Where tokens come from; may be left out only with `simulate` (the simulator's own token then). */
  readonly credentials?: CredentialSource | undefined;
  /** The tenant's adminRestApiUrl; default: the credentials' (a key file names it). */
  readonly baseUrl?: string | undefined;
  /** Run against a built-in simulated tenant started for this run; nothing real is touched. */
  readonly simulate?: boolean | undefined;
  /** With `simulate`: CSV of the pairs registered on it (default: every well-formed pair of the input). */
  readonly simulateTenant?: string | undefined;
  /**
   * With `simulate`: CSV of the users its `POST v1/users/lookup` knows (`email,userId`); default: every
   * well-formed address, with a user ID derived from it.
   */
  readonly simulateUsers?: string | undefined;
  /** The state ledger's path: locked (`<file>.lock`) for the run, created if missing. Required for reconcile. */
  readonly state?: string | undefined;
  /** enable: rows the ledger records as enabled are not sent again. */
  readonly resume?: boolean | undefined;
  /** reconcile: look pairs the ledger calls enabled up again. */
  readonly recheck?: boolean | undefined;
  /** reconcile: enable at most this many credentials; disable: send at most this many disables. */
  readonly maxChanges?: number | undefined;
  /**
   * enable, reconcile, disable: the undo file (see undo-writer.ts). Default: `<out>.undo.csv`; for
   * reconcile without a results file `<state>.undo.csv`; none for enable and disable with `out` `-`.
   */
  readonly undoFile?: string | undefined;
  /** plan: preview `enable` (default) or `disable`. */
  readonly action?: PlanAction | undefined;
  /** Write the machine-readable summary here at the end (atomically). */
  readonly summaryJson?: string | undefined;
  /**
   * Write the run's metrics here at the end, atomically, in Prometheus' text format (for
   * node_exporter's textfile collector), e.g. `/var/lib/node_exporter/textfile/ds100-bulk.prom`.
   */
  readonly metricsFile?: string | undefined;
  /**
   * Write a self-contained HTML report here at the end, atomically: the summary, charts of the
   * outcomes and error codes, and a searchable table of the rows that need attention (the first
   * 10,000), e.g. `report.html`.
   */
  readonly report?: string | undefined;
  /** End the run after this long, as Ctrl-C would (exit code 6). */
  readonly maxRuntimeMs?: number | undefined;
  /**
   * Stop the run on SIGINT / SIGTERM (in-flight rows finish, the rest are not-attempted). A second
   * signal closes the ledger and calls `onSecondSignal`, which should end the process. Default off.
   */
  readonly stopOnSignals?: { readonly onSecondSignal: (signal: NodeJS.Signals) => void } | undefined;
}

export interface SessionResult {
  readonly summary: RunSummary;
  /**
   * The process exit code the summary calls for (see EXIT_CODES); 7 (outputFailed) instead of 0
   * when the summary JSON, the HTML report or the metrics file could not be written.
   */
  readonly exitCode: number;
  /**
   * Why `summaryJson`, `report` or `metricsFile` could not be written (each message names its file
   * and the reason; several are joined by "; and "), if one could not.
   */
  readonly summaryJsonFailure?: string | undefined;
}

/**
 * The files a session reads and writes, named by their flags, for checkFileClashes. A session's new
 * output (an undo file, a report) is one more entry here; `moreOutputs` are the caller's own (the
 * command line's --log-file). The state file is read and written: an output, like its lock.
 */
export function sessionFiles(options: SessionOptions, moreOutputs: NamedFiles = {}): FileRoles {
  const { credentials } = options;
  return {
    inputs: {
      'the input file': options.input,
      '--plan': options.plan,
      '--only-failed': options.onlyFailed,
      '--key-file': credentials?.kind === 'key-file' ? credentials.file : undefined,
      '--oauth-client': credentials?.kind === 'oauth-client' ? credentials.file : undefined,
      '--simulate-tenant': options.simulateTenant,
      '--simulate-users': options.simulateUsers,
    },
    outputs: {
      '--out': options.out,
      '--summary-json': options.summaryJson,
      '--metrics-file': options.metricsFile,
      '--report': options.report,
      '--state': options.state,
      'the lock file of --state': options.state === undefined ? undefined : lockFileOf(options.state),
      'the undo file (--undo-file)': undoFileOf(options),
      ...moreOutputs,
    },
  };
}

/**
 * Writes the files a run leaves for people and monitoring, once rows were sent (see
 * writeReportFiles: a failure turns exit code 0 into 7). The metrics file comes last, so that it
 * carries the exit code the process ends with.
 */
function writeEndOfRunFiles(
  options: SessionOptions,
  summary: RunSummary,
  runExitCode: number,
  attention: AttentionCollector | undefined,
  timeline: TimelineCollector | undefined,
  logger: Logger,
): Pick<SessionResult, 'exitCode' | 'summaryJsonFailure'> {
  const { exitCode, failure } = writeReportFiles(
    [
      {
        file: options.summaryJson,
        what: 'the summary JSON',
        write: (file, exitCode) => writeSummaryJson(file, toSummaryDocument(options.command, summary, exitCode)),
      },
      {
        file: options.report,
        what: 'the HTML report',
        write: (file, exitCode) =>
          writeReport(file, {
            ...summary,
            exitCode,
            attention: attention?.collected ?? { rows: [], more: 0 },
            timeline: timeline?.timeline,
          }),
      },
      {
        file: options.metricsFile,
        what: 'the metrics file',
        write: (file, exitCode) => writeMetricsFile(file, summary, exitCode),
      },
    ],
    runExitCode,
    logger,
  );
  return { exitCode, summaryJsonFailure: failure };
}

/** Where requests go, with which token. */
interface Tenant {
  readonly baseUrl: string;
  readonly tokenProvider: TokenProvider;
  readonly simulated: boolean;
  close(): Promise<void>;
}

/**
 * Turns the options into a tenant to talk to: credentials (key file, OAuth client or a ready token),
 * and with `simulate` the built-in simulator (which then checks key-file tokens as the service does).
 */
async function connectTenant(
  options: SessionOptions,
  logger: Logger,
  proxy: ProxySettings | undefined,
): Promise<Tenant> {
  const credentials = options.credentials
    ? await loadCredentials(options.credentials, {
        proxy,
        onIssued: (expiresAt) => logger.debug({ expiresAt: expiresAt.toISOString() }, 'new bearer token obtained'),
      })
    : undefined;
  for (const warning of credentials?.warnings ?? []) logger.warn(warning);
  if (options.simulate) {
    // Without a tenant file the simulator counts every well-formed pair as registered. It learns a
    // pair from an enable call; a lookup names no user, so for plan and reconcile the input's pairs
    // are registered up front to give the same picture.
    const tenantFile = options.simulateTenant ?? (options.command === 'enable' ? undefined : options.input);
    // The input as tenant file is read as the run reads it.
    const format = tenantFile === options.input ? options.inputFormat : undefined;
    const users = options.simulateUsers === undefined ? undefined : await readUserDirectory(options.simulateUsers);
    const registry = tenantFile ? await Registry.fromCsv(tenantFile, format, users) : undefined;
    // A disable (or its plan) is for enabled credentials: the simulated ones start in that state.
    const isDisabling = options.command === 'disable' || options.action === 'disable';
    if (registry && isDisabling) for (const credential of registry.values()) credential.tokenStatus = 'Enabled';
    const simulator: RunningSimulator = await startSimulator({
      registry,
      users,
      autoRegister: !registry,
      // With a key file the simulator checks the minted JWTs as the service would.
      apiKeys: credentials?.apiKey && [apiKeyRegistration(credentials.apiKey)],
    });
    logger.warn({ baseUrl: simulator.baseUrl }, 'using the built-in SIMULATED tenant; nothing real is touched');
    return {
      baseUrl: simulator.baseUrl,
      tokenProvider: credentials?.tokenProvider ?? staticTokenProvider(simulator.token),
      simulated: true,
      close: () => simulator.close(),
    };
  }
  if (!credentials) throw usageError('Expected `credentials`: a key file, an OAuth client or a token');
  const baseUrl = options.baseUrl ?? credentials.adminRestApiUrl;
  if (baseUrl === undefined) {
    throw usageError('No tenant given: the OAuth client file has no adminRestApiUrl; set --base-url or DS100_BASE_URL');
  }
  return { baseUrl, tokenProvider: credentials.tokenProvider, simulated: false, close: async () => {} };
}

/**
 * Runs one command against a tenant with everything around it, and returns the summary and the
 * exit code it calls for. Prints nothing. Throws Ds100Error (USAGE, INPUT_FILE, KEY_FILE, AUTH,
 * STATE_FILE, LOCKED, OUTPUT_FILE) when the run cannot start; USAGE, before anything is created or
 * written, when an output is an input or another output (see sessionFiles). Input `-` is stdin.
 */
export async function runSession(options: SessionOptions): Promise<SessionResult> {
  const logger = options.logger ?? silentLogger;
  // Read first (it only reads): a plan names its input, and a plan that does not check out stops here.
  const plan = options.plan === undefined ? undefined : await readPlanFile(options.plan);
  const input = checkInputSources(options, plan);
  await checkFileClashes(sessionFiles({ ...options, input }));
  if (options.proxy) {
    const via = describeProxy(options.proxy.httpsProxy ?? options.proxy.httpProxy ?? '');
    logger.info({ proxy: via, noProxy: options.proxy.noProxy }, 'sending through a proxy (HTTPS_PROXY / NO_PROXY)');
  }
  // The lock first: a second run must not even read the ledger while the first is writing it.
  const state = options.state === undefined ? undefined : StateStore.open(options.state);
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
      options.stopOnSignals?.onSecondSignal(name);
      return;
    }
    signalled = name;
    stopper.abort({ code: 'INTERRUPTED', message: `${name} received: the run was ended before this row was sent` });
  };
  if (options.stopOnSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const deadline =
    options.maxRuntimeMs === undefined
      ? undefined
      : setTimeout(
          () => stopper.abort({ code: 'MAX_RUNTIME', message: '--max-runtime ran out before this row was sent' }),
          options.maxRuntimeMs,
        );
  let tenant: Tenant | undefined;
  let stdin: StdinHold | undefined;
  let failedRows: FailedRows | undefined;
  try {
    // Held for the whole run, so that the simulated tenant's registry and the run read one copy.
    if (input === STDIN || options.simulateTenant === STDIN) stdin = await holdStdin();
    if (options.onlyFailed !== undefined) {
      failedRows = await spoolFailedRows(options.onlyFailed);
      logger.info(
        {
          file: options.onlyFailed,
          rows: failedRows.rows,
          succeeded: failedRows.succeeded,
          byOutcome: failedRows.byOutcome,
        },
        `re-running the ${failedRows.rows} rows of ${options.onlyFailed} that did not succeed; ` +
          `${failedRows.succeeded} that did are left out`,
      );
    }
    const runInput = failedRows?.path ?? input;
    // The rows to re-run are copied out of a results file, which is always comma-separated UTF-8.
    const inputFormat = failedRows ? undefined : options.inputFormat;
    tenant = await connectTenant({ ...options, input: runInput, inputFormat }, logger, options.proxy);
    const attention = options.report ? new AttentionCollector() : undefined;
    const timeline = options.report ? new TimelineCollector() : undefined;
    const { onResult, onPace } = options;
    const run = {
      ...options,
      input: runInput,
      inputFormat,
      inputCopyOf: options.onlyFailed,
      logger,
      baseUrl: tenant.baseUrl,
      tokenProvider: tenant.tokenProvider,
      simulated: tenant.simulated,
      signal: stopper.signal,
      state,
      onResult:
        attention && onResult
          ? (result: RowResult) => {
              attention.add(result);
              onResult(result);
            }
          : (attention?.add ?? onResult),
      onPace: timeline
        ? (pace: PaceSample) => {
            timeline.rowFinished();
            timeline.paced(pace);
            onPace?.(pace);
          }
        : onPace,
    };
    const summary =
      options.command === 'enable'
        ? await enable({ ...run, out: options.out ?? '', plan })
        : options.command === 'disable'
          ? await disable({ ...run, out: options.out ?? '', plan })
          : options.command === 'plan'
            ? await planRun(run)
            : await reconcile({ ...run, state: state! });
    const exitCode =
      signalled === 'SIGTERM' && summary.stopped?.code === 'INTERRUPTED' ? EXIT_CODES.sigterm : exitCodeFor(summary);
    return { summary, ...writeEndOfRunFiles(options, summary, exitCode, attention, timeline, logger) };
  } finally {
    clearTimeout(deadline);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await tenant?.close();
    await stdin?.release();
    await failedRows?.close();
    state?.close();
  }
}

/**
 * The input file of a session: the one given, else the one the plan was made from; with
 * `onlyFailed`, none (the rows come from the results file). Throws USAGE for a combination that
 * cannot be meant.
 */
function checkInputSources(options: SessionOptions, plan: AppliedPlan | undefined): string {
  checkRowSources(options.command, options);
  if (options.onlyFailed !== undefined) return options.onlyFailed;
  const input = options.input ?? plan?.input;
  if (input === undefined) throw usageError('Expected `input`: the CSV of device/user pairs');
  return input;
}
