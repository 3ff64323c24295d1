import { stat } from 'node:fs/promises';
import { inputName, STDIN } from './stdin.js';

/** From this size on, the pre-scan takes long enough (seconds) to be worth a line saying so. */
export const LARGE_INPUT_BYTES = 20 * 1024 * 1024;

/**
 * The line that says a large input is being checked in full before anything is sent (every row is
 * read once for the cross-row checks), or undefined for a small file, stdin, or a file that cannot
 * be read (the reader says why). Reads only the file's size.
 */
export async function prescanNotice(file: string): Promise<string | undefined> {
  if (file === STDIN) return undefined;
  const bytes = await stat(file).then(
    (stats) => stats.size,
    () => 0,
  );
  if (bytes < LARGE_INPUT_BYTES) return undefined;
  const megabytes = Math.round(bytes / (1024 * 1024)).toLocaleString('en');
  return `checking every row of ${inputName(file)} (${megabytes} MB) before anything is sent; this takes a moment`;
}
