import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const dirs: string[] = [];

/** A fresh temporary directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ds100-validate-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

export const fixture = (name: string): string => join(import.meta.dirname, '..', 'fixtures', 'validate', name);

export const USER_1 = '8899d818-977d-6aa2-2466-92996dcc5940';
export const USER_2 = 'bf42b589-d2dd-601d-7848-b1a07af6750b';
export const USER_3 = '6c485d21-a925-6eda-6e96-480e4611b881';
