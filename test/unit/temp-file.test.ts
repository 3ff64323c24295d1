import { existsSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPrivateTempFile } from '../../src/input/temp-file.js';
import { tempDir } from '../helpers/temp-dir.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('createPrivateTempFile', () => {
  it("is this user's alone, and is deleted on exit if the run ends before it is removed (a second Ctrl-C)", async () => {
    vi.stubEnv('TMPDIR', tempDir());
    const exitHandlers = process.listeners('exit').length;
    const file = await createPrivateTempFile('only-failed');
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
    const added = process.listeners('exit').slice(exitHandlers);
    expect(added).toHaveLength(1);
    (added[0] as () => void)();
    expect(existsSync(file.path)).toBe(false);
    await file.remove();
    expect(process.listeners('exit')).toHaveLength(exitHandlers);
  });

  it('remove deletes it and lets go of the exit handler; a second remove does nothing', async () => {
    vi.stubEnv('TMPDIR', tempDir());
    const exitHandlers = process.listeners('exit').length;
    const file = await createPrivateTempFile('stdin');
    await file.handle.write('x');
    await file.remove();
    await file.remove();
    expect(existsSync(file.path)).toBe(false);
    expect(process.listeners('exit')).toHaveLength(exitHandlers);
  });
});
