import pino, { type Logger } from 'pino';

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

/** JSON logs to stderr, or to `file` when given; never to stdout, which may carry the results CSV. */
export function createLogger(options: { level: LogLevel; file?: string | undefined }): Logger {
  const destination = pino.destination({ dest: options.file ?? 2, sync: true, mkdir: !!options.file });
  return pino({ level: options.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}

export const silentLogger: Logger = pino({ level: 'silent' });
