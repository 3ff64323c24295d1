import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private temporary file, open for writing; `remove` closes and deletes it (later calls do nothing). */
export interface PrivateTempFile {
  readonly path: string;
  readonly handle: FileHandle;
  remove(): Promise<void>;
}

/**
 * Creates a new file only this user can read (0600, created exclusively, so never through a planted
 * symlink) in the system's temporary folder. It holds the user's rows (user IDs, addresses), so it
 * is deleted by `remove`, or when the process exits before that (a second Ctrl-C ends it at once).
 * Throws the file system's error when it cannot be created.
 */
export async function createPrivateTempFile(prefix: string): Promise<PrivateTempFile> {
  const path = join(tmpdir(), `ds100-bulk-${prefix}-${randomUUID()}.csv`);
  const handle = await open(path, 'wx', 0o600);
  const onExit = (): void => rmSync(path, { force: true });
  process.on('exit', onExit);
  let isRemoved = false;
  return {
    path,
    handle,
    remove: async () => {
      if (isRemoved) return;
      isRemoved = true;
      process.off('exit', onExit);
      await handle.close().catch(() => undefined);
      await rm(path, { force: true });
    },
  };
}
