import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/** Every test folder starts with this, so that a leftover is easy to spot (`ls $TMPDIR | grep ds100`). */
export const TEMP_DIR_PREFIX = 'ds100-test-';

/**
 * A fresh temporary folder for the current test, removed with everything in it when the test
 * finishes, passed or failed. Call it inside a test or a `beforeEach` hook.
 */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), TEMP_DIR_PREFIX));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `text` to `name` inside `dir` and returns the path. */
export function writeFile(dir: string, name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
