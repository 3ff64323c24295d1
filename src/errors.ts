/**
 * Errors that stop a run before or instead of processing rows. Row-level problems are never
 * thrown: they become results with an error code (see types.ts).
 */
export type Ds100ErrorCode =
  /** A command-line option or environment variable is missing, malformed or conflicts with another. */
  | 'USAGE'
  /** The input file cannot be read or has no usable header. */
  | 'INPUT_FILE'
  /** The results file cannot be written. */
  | 'OUTPUT_FILE'
  /** The API key file or OAuth client file is missing or unusable. The message never holds the key. */
  | 'KEY_FILE'
  /** No bearer token could be obtained before the run (e.g. the OAuth token endpoint refused the client). */
  | 'AUTH'
  /** The state ledger cannot be read or written, or is not a ledger. */
  | 'STATE_FILE'
  /** Another run holds the lock on the state file. */
  | 'LOCKED'
  /**
   * The preflight lookup showed the run cannot succeed: the base URL is not the API, the tenant
   * cannot be reached, or it refuses the credentials. Nothing was changed or written.
   */
  | 'TENANT';

export class Ds100Error extends Error {
  override readonly name = 'Ds100Error';
  readonly code: Ds100ErrorCode;

  constructor(code: Ds100ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A short, secret-free reason for a failed file operation, in words an administrator knows. */
export const describeFsError = (error: NodeJS.ErrnoException): string =>
  error.code === 'ENOENT'
    ? 'no such file'
    : error.code === 'EISDIR'
      ? 'it is a directory'
      : error.code === 'EACCES'
        ? 'permission denied'
        : (error.code ?? error.message);

// Codes a write can fail with, in words; the code itself goes to the log.
const WRITE_FAILURES: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EIO: 'an I/O error',
  EFBIG: 'the file is too large',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted',
  // A file being created is only missing when its folder is.
  ENOENT: 'the directory does not exist',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EBADF: 'the file is not open',
  EPIPE: 'the reader went away',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  ENXIO: 'no such device',
  ESTALE: 'the network file handle is stale',
};

/**
 * Why a write failed (the results, the state file, the log, the summary JSON), in words an
 * administrator acts on: "the disk is full", not ENOSPC. Secret-free: only the error's code is read.
 */
export function describeWriteError(error: unknown): string {
  if (error instanceof Ds100Error && error.cause !== undefined) return describeWriteError(error.cause);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && WRITE_FAILURES[code]) return WRITE_FAILURES[code];
  if (code !== undefined) return `the system refused the write (${code})`;
  return error instanceof Error ? error.message : String(error);
}

export const usageError = (message: string): Ds100Error => new Ds100Error('USAGE', message);
