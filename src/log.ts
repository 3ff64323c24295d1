import pino, { type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { describeWriteError, Ds100Error } from './errors.js';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// Belt and braces: nothing should log a secret, but if a header or key object ever reaches a log
// call, these paths are censored.
const REDACT_PATHS = [
  'token',
  'accessKey',
  'privateKey',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.token',
  '*.accessKey',
  '*.privateKey',
  '*.authorization',
];

/** A log file that could not be written: the run stops (see `onLogFileFailure`). */
export interface LogFileFailure {
  readonly file: string;
  readonly error: Ds100Error;
}

interface LogDestination {
  failure: LogFileFailure | undefined;
  readonly listeners: Set<(failure: LogFileFailure) => void>;
}

const destinations = new WeakMap<Logger, LogDestination>();

const logFileError = (file: string | undefined, error: unknown): Ds100Error =>
  new Ds100Error('OUTPUT_FILE', `cannot write the log file ${file}: ${describeWriteError(error)}`, { cause: error });

/**
 * JSON logs to stderr, or to `file` when given; never to stdout, which may carry the results CSV.
 * A write the destination refuses never throws out of a log call (pino's synchronous destination
 * would otherwise throw it from whatever line logged): the logger goes silent. On stderr that is all
 * (a closed or full stderr must not cost the results); a log file that fails is reported to
 * `onLogFileFailure` listeners, and a run stops on it.
 */
export function createLogger(options: {
  level: LogLevel;
  file?: string | undefined;
  /** `pretty`: one readable line per record (pino-pretty), for a person at a terminal. Default `json`. */
  format?: 'json' | 'pretty' | undefined;
  /** Colours in `pretty` lines. Default false. */
  colorize?: boolean | undefined;
  /**
   * Hands each line to this instead of stderr (say, to print it above a progress bar). With `file`,
   * the file keeps every record and this gets warnings and errors only, as readable lines.
   */
  write?: ((line: string) => void) | undefined;
}): Logger {
  const { file } = options;
  // Redaction happens in pino, before a line reaches the formatter or the destination.
  let formatter: ((line: string) => string) | undefined;
  // pino-pretty's formatter, made once, for the first line to be made readable: a json log without
  // `write` never needs one.
  const readable = (line: string): string => {
    formatter ??= prettyFactory({
      colorize: options.colorize ?? false,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname',
    });
    return formatter(line);
  };
  const prettify = options.format === 'pretty' ? readable : undefined;
  const redact = { paths: REDACT_PATHS, censor: '[redacted]' };
  if (options.write && file === undefined) {
    const write = options.write;
    const stream: DestinationStream = { write: (line: string) => write(prettify ? prettify(line) : line) };
    return pino({ level: options.level, redact }, stream);
  }
  let destination: ReturnType<typeof pino.destination>;
  try {
    destination = pino.destination({ dest: file ?? 2, sync: true, mkdir: file !== undefined });
  } catch (error) {
    throw logFileError(file, error);
  }
  const state: LogDestination = { failure: undefined, listeners: new Set() };
  // pino's own listener silences EPIPE and hands any other error on to this one.
  destination.on('error', (error: NodeJS.ErrnoException) => {
    destination.write = () => true;
    destination.flushSync = () => {};
    destination.flush = (callback?: (error?: Error) => void) => callback?.();
    if (file === undefined || state.failure) return;
    state.failure = { file, error: logFileError(file, error) };
    for (const listener of state.listeners) listener(state.failure);
  });
  // The destination keeps its error handling; a pretty line is made on the way to it.
  const stream: DestinationStream = prettify
    ? { write: (line: string) => destination.write(prettify(line)) }
    : destination;
  const write = options.write;
  const logger = pino(
    { level: options.level, redact },
    write
      ? pino.multistream([
          { level: options.level, stream },
          { level: 'warn', stream: { write: (line: string) => write(readable(line)) } },
        ])
      : stream,
  );
  destinations.set(logger, state);
  return logger;
}

/**
 * Calls `listener` when the log file of a logger made by `createLogger` cannot be written (at once if
 * it failed already); nothing for other loggers or stderr. Returns the way to stop listening.
 */
export function onLogFileFailure(logger: Logger, listener: (failure: LogFileFailure) => void): () => void {
  const state = destinations.get(logger);
  if (!state) return () => {};
  if (state.failure) listener(state.failure);
  else state.listeners.add(listener);
  return () => state.listeners.delete(listener);
}

export const silentLogger: Logger = pino({ level: 'silent' });
