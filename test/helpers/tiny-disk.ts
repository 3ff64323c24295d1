import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEMP_DIR_PREFIX } from './temp-dir.js';

/**
 * Tiny tmpfs file systems, for tests that need the kernel to refuse a write half-way through a run
 * (ENOSPC) or a file system that is read-only (EROFS). Mounting needs root: `CAN_MOUNT` says whether
 * it works here, and tests that need it are skipped otherwise. Unmount with `unmountAll` in afterEach.
 */

const mounted: string[] = [];

const mount = (args: readonly string[]): void => {
  execFileSync('mount', args, { stdio: 'ignore' });
};

/** Mounts a tmpfs of `sizeKiB` on a fresh folder and returns the folder. */
export function tinyDisk(sizeKiB = 256): string {
  const dir = mkdtempSync(join(tmpdir(), `${TEMP_DIR_PREFIX}tmpfs-`));
  try {
    mount(['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  mounted.push(dir);
  return dir;
}

/** Whether this process may mount a tmpfs (root, and a kernel that lets it). */
export const CAN_MOUNT: boolean = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    tinyDisk(64);
    unmountAll();
    return true;
  } catch {
    return false;
  }
})();

/** Fills the disk with a filler file until about `leaveBytes` are free (a page or so either way). */
export function fill(dir: string, leaveBytes: number): void {
  const { bavail, bsize } = statfsSync(dir);
  const size = Math.max(0, bavail * bsize - leaveBytes);
  writeFileSync(join(dir, 'filler'), Buffer.alloc(size));
}

/** Remounts with new options, e.g. `size=4m` (room again) or `ro`. */
export function remount(dir: string, options: string): void {
  mount(['-o', `remount,${options}`, dir]);
}

/** Unmounts every disk `tinyDisk` mounted, and removes their folders. */
export function unmountAll(): void {
  for (const dir of mounted.splice(0)) {
    // Lazily: a file a failed test left open must not keep the disk mounted.
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}
