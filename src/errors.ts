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

export const usageError = (message: string): Ds100Error => new Ds100Error('USAGE', message);
