import pino, { type LevelWithSilent, type Logger } from 'pino';

/** One parsed log line. */
export type LogRecord = Record<string, unknown> & { readonly level: number; readonly msg?: string };

export interface MemoryLog {
  /** Pass this wherever a run takes a `logger`. */
  readonly logger: Logger;
  /** Every line logged so far, parsed, in order. */
  readonly records: LogRecord[];
  /** The records with this message. */
  withMessage(msg: string): LogRecord[];
}

/** A pino logger writing to an array of parsed records instead of a file, for tests that read the log back. */
export function memoryLog(level: LevelWithSilent = 'trace'): MemoryLog {
  const records: LogRecord[] = [];
  const logger = pino({ level }, { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) });
  return { logger, records, withMessage: (msg) => records.filter((record) => record.msg === msg) };
}
