import PQueue from 'p-queue';
import { Ds100Client } from '../client/ds100-client.js';
import type { AttemptOutcome } from '../client/response.js';
import { Ds100Error } from '../errors.js';
import { onLogFileFailure } from '../log.js';
import { openInput, type OpenedInput } from '../input/open-input.js';
import { prescanNotice } from '../input/prescan-notice.js';
import { inputName } from '../input/stdin.js';
import { ResultsWriter } from '../output/results-writer.js';
import { checkUndoFile, openUndoWriter, undoHeader } from '../output/undo-writer.js';
import {
  describeEstimate,
  describeOutputFailure,
  progressOf,
  SummaryCounter,
  type RunSummary,
} from '../output/summary.js';
import { describePaceChange, perSecond } from '../queue/pace-policy.js';
import { RequestQueue, type Answered, type Sent } from '../queue/request-queue.js';
import { resultOf, type InputRow, type Outcome, type RowResult, type StopReason } from '../types.js';
import { Canary } from './canary.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { confirmationOf, type ChangeVisible } from './lost-answer.js';
import { preflight } from './preflight.js';
import { UserResolver, withLookups } from './resolve-users.js';
import { resolveRunOptions, type RunOptions } from './run-options.js';

/** A row whose request was sent and answered (or failed for good). */
export type SentRow = Extract<Sent, { outcome: AttemptOutcome }>;

/**
 * One more request for a row already under way (say, the enable after a lookup), paced and retried
 * like any; `isChangeVisible` makes it a change whose lost answers are settled by a lookup.
 */
export type FollowUp = (
  send: (client: Ds100Client) => Promise<AttemptOutcome>,
  isChangeVisible?: ChangeVisible,
) => Promise<Sent>;

/** What a command does with each valid row: one request, and the result made of its outcome. */
export interface RowAction {
  readonly command: 'enable' | 'plan' | 'reconcile' | 'disable';
  /**
   * Set by a command that changes the tenant: its undo file (undefined: none is written, and the
   * summary says so), and the outcome of the rows it lists, each sent by this run (see undo-writer.ts).
   */
  readonly undo?: { readonly file: string | undefined; readonly outcome: Outcome } | undefined;
  /** Decides a row without any request (e.g. the ledger says it is done); undefined sends it. */
  settle?(row: InputRow): RowResult | undefined;
  send(client: Ds100Client, row: InputRow): Promise<AttemptOutcome>;
  /**
   * Set when `send` changes the tenant: when its answer is lost (a reset after sending, a timeout,
   * an unreadable 200) a read-only lookup asks the tenant, and this says whether the change is
   * there. Left out for read-only requests, which are simply retried.
   */
  readonly isChangeVisible?: ChangeVisible;
  /**
   * The row's result from the first request's outcome; `follow` may send one more request for it.
   * Undefined when the run stopped before the row could finish: it is then `not-attempted`, with the
   * first request's attempts.
   */
  toResult(row: InputRow, sent: SentRow, follow: FollowUp): RowResult | undefined | Promise<RowResult | undefined>;
  /**
   * Checks the input once it has been read through, before any token, request or file: throws a
   * Ds100Error to refuse it (say, an input that changed since the plan being applied was made).
   */
  checkInput?(input: OpenedInput): void;
  /**
   * The row as it is to be sent, before it is settled or queued: `--plan` gives an email row the
   * user ID the plan resolved, so that it is not looked up again. Default: the row as read.
   */
  prepare?(row: InputRow): InputRow;
  /** A last line for a CSV results file, from the SHA-256 of its bytes before it (a plan's fingerprint). */
  closingLine?(input: OpenedInput): ((sha256: string) => string) | undefined;
}

const STOPPED: StopReason = { code: 'RUN_ABORTED', message: 'the run was stopped' };

/**
 * The result of a valid row the run stopped before it could be changed; `sent`: a request it already
 * sent for it (say the lookup before its enable), which is still counted.
 */
export function notAttempted(row: InputRow, reason: StopReason | undefined, sent?: Sent<Answered>): RowResult {
  const { code, message } = reason ?? STOPPED;
  const attempts = sent?.attempts ?? 0;
  const httpStatus = sent?.outcome?.httpStatus;
  return resultOf(row, { attempts, httpStatus, outcome: 'not-attempted', errorCode: code, errorMessage: message });
}

/** The files a run writes as it goes; one that refuses a write stops the run (OUTPUT_FAILED). */
type RunOutput = 'results' | 'state' | 'log' | 'undo';

const errnoOf = (error: Ds100Error | undefined): string | undefined =>
  (error?.cause as NodeJS.ErrnoException | undefined)?.code;

const isStopReason = (value: unknown): value is StopReason =>
  !!value &&
  typeof value === 'object' &&
  typeof (value as StopReason).code === 'string' &&
  typeof (value as StopReason).message === 'string';

/**
 * The pipeline every command that talks to the tenant shares: the whole input is checked first
 * (nothing is sent for a file that cannot be used), then each valid row goes through one request
 * queue (one pace, one retry policy), and every input row gets a result, in the results file and
 * the summary. Prints nothing; throws a Ds100Error before any request when the options, the input,
 * the output or the credentials are unusable.
 */
export async function runRows(options: RunOptions, action: RowAction): Promise<RunSummary> {
  const settings = resolveRunOptions(options);
  const { logger, state, signal } = settings;
  const name = settings.inputCopyOf ?? inputName(settings.input);
  const notice = await prescanNotice(settings.input);
  if (notice) logger.info({ input: name }, notice);
  const input = await openInput(settings.input, {
    rules: settings.rules,
    format: settings.inputFormat,
    name,
    requireRows: settings.inputCopyOf === undefined,
  });
  if (input.formatNote) {
    logger.info({ input: name, delimiter: input.delimiter, encoding: input.encoding }, input.formatNote);
  }
  try {
    action.checkInput?.(input);
  } catch (error) {
    await input.close();
    throw error;
  }

  // One way to stop, whatever the cause (a breaker, the caller's signal, an output that cannot be
  // written): no new request, requests on the wire finish, every remaining row is written not-attempted.
  const stopper = new AbortController();
  let stopReason: StopReason | undefined;
  const stop = (reason: StopReason): void => {
    if (stopReason) return;
    stopReason = reason;
    logger.error({ code: reason.code, reason: reason.message }, 'run stopping: no further rows are sent');
    stopper.abort(reason);
  };
  const onOuterAbort = (): void => stop(isStopReason(signal?.reason) ? signal.reason : STOPPED);

  // Outputs that refused a write (a full disk, an I/O error), first first. The run stops on the first;
  // each output that still works goes on taking rows, so that every row sent is recorded somewhere.
  const failedOutputs = new Map<RunOutput, Ds100Error>();
  const outputFailed = (output: RunOutput, error: unknown): void => {
    // Anything but a refused write is a bug, and is thrown as one.
    if (!(error instanceof Ds100Error)) throw error;
    if (failedOutputs.has(output)) return;
    failedOutputs.set(output, error);
    logger.error({ output, errno: errnoOf(error), reason: error.message }, 'an output cannot be written');
    if (output === 'results') {
      for (const row of writer?.unwritten ?? []) logNotInResults(row);
    }
    if (output === 'undo') {
      for (const row of undoWriter?.unwritten ?? []) logNotInUndo(row);
    }
    stop({ code: 'OUTPUT_FAILED', message: `${error.message}; the run stopped before this row was sent` });
  };
  // The log is then the only record of a sent row the results lack (a state file may have it too).
  const logNotInResults = (row: RowResult): void => {
    if (row.attempts === 0) return;
    const { line, deviceSerialNumber, userId, outcome, errorCode } = row;
    const tokenSerialNumber = row.token?.tokenSerialNumber;
    logger.warn({ line, deviceSerialNumber, userId, outcome, errorCode, tokenSerialNumber }, 'row not in the results');
  };

  // The results still list it; the log says which results line the undo file lacks.
  const logNotInUndo = (row: RowResult): void => {
    const { line, deviceSerialNumber, userId, outcome } = row;
    logger.warn({ line, deviceSerialNumber, userId, outcome }, 'row not in the undo file');
  };
  const isUndoLine = (result: RowResult): boolean => result.outcome === action.undo?.outcome && result.attempts > 0;

  const client = new Ds100Client({
    baseUrl: settings.baseUrl,
    tokenProvider: settings.tokenProvider,
    timeoutMs: settings.timeoutMs,
    connections: settings.concurrency,
    proxy: settings.proxy,
  });
  const requests = new RequestQueue({
    concurrency: settings.concurrency,
    rate: settings.rate,
    retryPolicy: settings.retryPolicy,
    signal: stopper.signal,
    adaptive: settings.adaptiveRate && {
      maxPauseMs: settings.retryPolicy.maxRetryAfterMs,
      onPaceChange: (change, atFloor) => {
        const { level, message, fields } = describePaceChange(change, atFloor);
        logger[level](fields, message);
      },
    },
  });
  const users = new UserResolver(requests, client, logger);

  // Told from inside whatever log call failed: acted on once that call has returned.
  const stopListeningToLog = onLogFileFailure(logger, ({ error }) => queueMicrotask(() => outputFailed('log', error)));
  // However the run ends: nothing more is taken from the caller's signal or the log, no connection stays open.
  const letGo = async (): Promise<void> => {
    signal?.removeEventListener('abort', onOuterAbort);
    stopListeningToLog();
    requests.close();
    await client.close();
  };
  // One write to an output that has not refused one yet; a refusal stops the run (see outputFailed).
  // A synchronous write (the ledger's) is done before this returns.
  const writeTo = (output: RunOutput, write: () => void | Promise<void>): void | Promise<void> => {
    if (failedOutputs.has(output)) return;
    try {
      const writing = write();
      if (writing) return writing.catch((error: unknown) => outputFailed(output, error));
    } catch (error) {
      outputFailed(output, error);
    }
  };
  let writer: ResultsWriter | undefined;
  let undoWriter: ResultsWriter | undefined;
  try {
    // Before any request: an undo file that cannot be appended to stops the run before it starts.
    const undoFile = action.undo?.file;
    const undoAppend =
      undoFile === undefined ? undefined : await checkUndoFile(undoFile, undoHeader(input.columns.carriedNames));
    // The first token before anything is written or sent: unusable credentials (an OAuth client the
    // server refuses, an unreachable token endpoint) stop the run at once.
    await settings.tokenProvider.getToken().catch((error: unknown) => {
      throw error instanceof Ds100Error
        ? error
        : new Ds100Error('AUTH', `no bearer token could be obtained: ${(error as Error).message}`, { cause: error });
    });
    if (signal?.aborted) onOuterAbort();
    signal?.addEventListener('abort', onOuterAbort, { once: true });
    await preflight(requests, client, settings.baseUrl, logger);
    if (settings.out !== undefined) {
      writer = await ResultsWriter.open(settings.out, input.columns.carriedNames, {
        onError: (error) => outputFailed('results', error),
        bom: settings.bom,
        closingLine: action.closingLine?.(input),
      });
    }
    if (undoFile !== undefined) {
      undoWriter = await openUndoWriter(undoFile, input.columns.carriedNames, {
        append: undoAppend,
        onError: (error) => outputFailed('undo', error),
        bom: settings.bom,
      });
    }
  } catch (error) {
    // A results file already open is closed; its header is all it holds.
    await writer?.close().catch(() => undefined);
    await letGo();
    await input.close();
    throw error;
  }

  const rowsInProgress = new PQueue({ concurrency: Math.max(16, settings.concurrency * 4) });
  const counter = new SummaryCounter();
  const breaker = new CircuitBreaker({
    maxConsecutiveForbidden: settings.maxConsecutiveForbidden,
    maxFailureRatePercent: settings.maxFailureRate,
    failureRateMinRows: settings.failureRateMinRows,
  });

  // Reset when the first row is read: the rate over the sending time leaves out the pre-scan.
  let sendingStarted = Date.now();
  // Told from the rows as they finish, not from a timer: nothing is left running after the run.
  let lastProgressAt = sendingStarted;
  const reportProgress = (isLast: boolean): void => {
    if (!settings.onProgress) return;
    const now = Date.now();
    if (!isLast && now - lastProgressAt < settings.progressIntervalMs) return;
    lastProgressAt = now;
    settings.onProgress(progressOf(counter, input.rows, now - sendingStarted));
  };

  const canary =
    settings.canary &&
    new Canary(settings.canary, {
      signal: stopper.signal,
      stop,
      rowsLeft: () => input.rows - counter.rowsDone,
      onWaited: (ms) => (sendingStarted += ms),
    });

  const record = async (result: RowResult): Promise<void> => {
    counter.add(result);
    canary?.observe(result);
    settings.onResult?.(result);
    settings.onPace?.({ rate: requests.rate, rateLimitedAnswers: requests.rateLimitedAnswers });
    reportProgress(false);
    // The ledger first: once a row is recorded as enabled, it is never sent again, even if the
    // process dies before its results line is written.
    if (state) writeTo('state', () => state.record(result));
    if (undoWriter && isUndoLine(result)) {
      if (failedOutputs.has('undo')) logNotInUndo(result);
      else await writeTo('undo', () => undoWriter?.write(result));
    }
    // A row handed over to a results file that then refuses it is logged by outputFailed, with the
    // others the file lacks.
    if (writer && !failedOutputs.has('results')) await writeTo('results', () => writer?.write(result));
    else if (failedOutputs.has('results')) logNotInResults(result);
    logger.debug({ line: result.line, outcome: result.outcome, errorCode: result.errorCode }, 'row done');
    const tripped = breaker.observe(result);
    if (tripped) stop(tripped);
  };
  // A change whose answer was lost is settled by looking, never reported as failed on a guess.
  const sendChange = (row: InputRow, send: () => Promise<AttemptOutcome>, isChangeVisible?: ChangeVisible) =>
    requests.send(send, {
      confirm:
        isChangeVisible &&
        (async () => {
          const looked = await requests.send(() => client.lookup(row.deviceSerialNumber));
          return confirmationOf(row, looked, isChangeVisible);
        }),
    });
  const processRow = async (queued: InputRow): Promise<void> => {
    // A row that names its user by email is sent with the user's ID, looked up once per address.
    const resolved = queued.email === undefined || queued.userId !== '' ? undefined : await users.resolve(queued);
    if (resolved?.kind === 'settled') return record(resolved.result);
    if (resolved?.kind === 'stopped') return record(notAttempted(queued, stopReason, resolved.sent));
    const row = resolved?.row ?? queued;
    const lookups = resolved?.attempts ?? 0;
    const settled = resolved && action.settle?.(row);
    if (settled) return record(withLookups(settled, lookups));
    const follow: FollowUp = (send, isChangeVisible) => sendChange(row, () => send(client), isChangeVisible);
    const sent = await sendChange(row, () => action.send(client, row), action.isChangeVisible);
    const result = sent.outcome === undefined ? undefined : await action.toResult(row, sent, follow);
    await record(withLookups(result ?? notAttempted(row, stopReason, sent), lookups));
  };

  let firstError: unknown;
  let sendingMs: number;
  try {
    logger.info(
      {
        command: action.command,
        input: name,
        out: settings.out,
        concurrency: settings.concurrency,
        rate: settings.rate,
        adaptiveRate: settings.adaptiveRate,
        rows: input.rows,
      },
      'run started',
    );
    logger.info({ rows: input.rows, rate: settings.rate }, describeEstimate(input.rows, settings.rate));
    sendingStarted = Date.now();
    lastProgressAt = sendingStarted;
    for await (const item of input.items) {
      if (firstError) throw firstError;
      state?.markSeen(item.row);
      if (item.kind === 'invalid') {
        const { code, message } = item.problem;
        await record(resultOf(item.row, { outcome: 'invalid', errorCode: code, errorMessage: message, attempts: 0 }));
        continue;
      }
      const { warning } = item;
      const row = action.prepare?.(item.row) ?? item.row;
      if (warning) logger.warn({ line: row.line, code: warning.code }, warning.message);
      const settled = action.settle?.(row);
      if (settled) await record(settled);
      // Still read and written after a stop, so that the results hold every input row.
      else if (stopReason || (canary && !(await canary.mayGo()))) await record(notAttempted(row, stopReason));
      else {
        await rowsInProgress.onSizeLessThan(1);
        const done = rowsInProgress.add(() => processRow(row)).catch((error: unknown) => (firstError ??= error));
        canary?.sending(row, done);
      }
    }
  } finally {
    // Rows already under way still finish and are written, even when reading failed half-way.
    await rowsInProgress.onIdle();
    sendingMs = Date.now() - sendingStarted;
    await letGo();
    await writer?.close().catch((error: unknown) => outputFailed('results', error));
    await undoWriter?.close().catch((error: unknown) => outputFailed('undo', error));
    // On the disk before the summary is made: a failed sync is this run's to report.
    if (state) writeTo('state', () => state.sync());
  }
  if (firstError) throw firstError;
  reportProgress(true);

  // Drift for a human to look at; never acted on.
  const removed = state?.removedFromInput();
  if (removed && removed.length > 0) {
    const first = removed.slice(0, 20).map((entry) => `${entry.deviceSerialNumber} ${entry.userId} (${entry.outcome})`);
    logger.warn({ count: removed.length, first }, 'pairs in the state file are no longer in the input (not acted on)');
  }
  // Files short of rows outweigh any other reason to stop: that is what to act on first.
  const outputFailure = (): StopReason => ({
    code: 'OUTPUT_FAILED',
    message: describeOutputFailure({
      command: action.command,
      failures: [...failedOutputs.values()].map((error) => error.message),
      errno: errnoOf(failedOutputs.values().next().value),
      results:
        settings.out === undefined
          ? undefined
          : { out: settings.out, failed: failedOutputs.has('results'), rowsWritten: writer?.rowsWritten },
      state: state && { file: state.file, failed: failedOutputs.has('state') },
      undo:
        action.undo?.file === undefined
          ? undefined
          : { file: action.undo.file, failed: failedOutputs.has('undo'), outcome: action.undo.outcome },
      earlierStop: stopReason?.code === 'OUTPUT_FAILED' ? undefined : stopReason,
    }),
  });
  const summary = counter.finish({
    command: action.command,
    input: name,
    out: settings.out ?? '',
    requests: requests.requestsSent,
    retries: requests.retriesSent,
    rateLimitedAnswers: requests.rateLimitedAnswers,
    finalRate: perSecond(requests.rate),
    sendingMs,
    simulated: settings.simulated ?? false,
    stopped: failedOutputs.size > 0 ? outputFailure() : stopReason,
    removedFromInput: removed?.length,
    undo: action.undo && { file: action.undo.file, linesAdded: undoWriter?.rowsWritten ?? 0 },
  });
  if (users.resolved + users.unknown > 0) {
    const { resolved, unknown } = users;
    logger.info({ resolved, unknown }, `email addresses looked up: ${resolved} resolved, ${unknown} unknown`);
  }
  logger.info(
    {
      rows: summary.rows,
      byOutcome: summary.byOutcome,
      requests: summary.requests,
      rateLimitedAnswers: requests.rateLimitedAnswers,
      finalRate: perSecond(requests.rate),
      elapsedMs: summary.elapsedMs,
    },
    'run finished',
  );
  return summary;
}
