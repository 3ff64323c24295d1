import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describeFsError, Ds100Error } from '../errors.js';
import { createPrivateTempFile, type PrivateTempFile } from './temp-file.js';

/**
 * Input `-`: standard input. The input is read more than once (the pre-scan, then the rows, and for
 * a simulated plan or reconcile once more as the tenant's registry) while stdin can be read only
 * once, so it is first copied to a private temporary file that every reader shares. Because stdin
 * belongs to the whole process, so does the copy: `openInput('-')` and a session both hold it, the
 * first hold makes it, the last release removes it.
 */

/** The input name that means standard input. */
export const STDIN = '-';

/** How messages, summaries and logs name an input: `stdin` for `-`, else the path as given. */
export const inputName = (file: string): string => (file === STDIN ? 'stdin' : file);

/**
 * Copies `source` to a new private temporary file (see createPrivateTempFile). On a failure nothing
 * is left behind and a Ds100Error INPUT_FILE says why.
 */
export async function spoolToTempFile(source: Readable): Promise<PrivateTempFile> {
  const file = await createPrivateTempFile('stdin').catch((error: unknown) => {
    throw new Ds100Error(
      'INPUT_FILE',
      `stdin: cannot copy it to a temporary file in ${tmpdir()}: ${describeFsError(error as NodeJS.ErrnoException)}`,
      { cause: error },
    );
  });
  try {
    await pipeline(source, file.handle.createWriteStream());
    return file;
  } catch (error) {
    await file.remove();
    throw new Ds100Error('INPUT_FILE', `stdin: cannot read the input: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** A share in the copy of stdin; release it once done reading (later calls do nothing). */
export interface StdinHold {
  readonly path: string;
  release(): Promise<void>;
}

interface Spool {
  /** The copy; it is removed when the process exits, even if a second Ctrl-C ends the run. */
  readonly file: Promise<PrivateTempFile>;
  holders: number;
}

let shared: Spool | undefined;

/**
 * Holds the process's copy of stdin, copying `source` (default `process.stdin`) on the first hold;
 * while it is held, every hold shares the same file, so every reader sees the same bytes. Once the
 * last hold is released the file is removed, and stdin has been read: a later hold gets an empty copy.
 */
export async function holdStdin(source?: Readable): Promise<StdinHold> {
  if (shared === undefined) {
    const spool: Spool = {
      // process.stdin only when it is to be read: merely touching it sets up the stream.
      file: spoolToTempFile(source ?? process.stdin),
      holders: 0,
    };
    spool.file.catch(() => undefined);
    shared = spool;
  }
  const spool = shared;
  spool.holders++;
  let isReleased = false;
  const release = async (): Promise<void> => {
    if (isReleased) return;
    isReleased = true;
    if (--spool.holders > 0) return;
    if (shared === spool) shared = undefined;
    const file = await spool.file.catch(() => undefined);
    await file?.remove();
  };
  try {
    return { path: (await spool.file).path, release };
  } catch (error) {
    await release();
    throw error;
  }
}
