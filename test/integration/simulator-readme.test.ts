import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The README's example runs as documented: through the package's own `ds100-bulk/simulator` subpath
// (the built dist/), from the package folder, and prints what its comments say.

const root = join(import.meta.dirname, '..', '..');

function simulatorExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The simulator'));
  const example = /```js\n([\s\S]*?)```/.exec(section.slice(0, section.indexOf('\n## ', 1)));
  if (!example) throw new Error('no js example in the README section "The simulator"');
  return example[1]!;
}

describe('the README example for the simulator', () => {
  it('imports ds100-bulk/simulator and prints what its comments promise', () => {
    const code = simulatorExample();
    expect(code).toContain("from 'ds100-bulk/simulator'");
    const promised = [...code.matchAll(/console\.log\(.*\); \/\/ ([^:\n]+)/g)].map((match) => match[1]!.trim());
    const result = spawnSync(process.execPath, ['--input-type=module'], {
      cwd: root,
      input: code,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '' },
      timeout: 20_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toEqual(promised);
    expect(promised).toEqual(['429', 'Enabled Enabled']);
  });
});
