import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The README's examples run as documented: through the package's own `ds100-bulk/simulator` subpath
// (the built dist/), from the package folder, and print what their comments say.

const root = join(import.meta.dirname, '..', '..');

/** The `js` code blocks of the README section "The simulator", its subsections included. */
function simulatorExamples(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The simulator'));
  const blocks = [...section.slice(0, section.indexOf('\n## ', 1)).matchAll(/```js\n([\s\S]*?)```/g)];
  return blocks.map((block) => block[1]!);
}

/** Runs one example as a module and returns what it printed and what its comments promise it prints. */
function runExample(code: string): { printed: string[]; promised: string[]; stderr: string } {
  const promised = [...code.matchAll(/console\.log\(.*\); \/\/ ([^:\n]+)/g)].map((match) => match[1]!.trim());
  const result = spawnSync(process.execPath, ['--input-type=module'], {
    cwd: root,
    input: code,
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '' },
    timeout: 20_000,
  });
  return { printed: result.stdout.trim().split('\n'), promised, stderr: result.stderr };
}

describe('the README examples for the simulator', () => {
  it('has three, each importing ds100-bulk/simulator', () => {
    const examples = simulatorExamples();
    expect(examples).toHaveLength(3);
    for (const code of examples) expect(code).toContain("from 'ds100-bulk/simulator'");
  });

  it('the first prints what its comments promise', () => {
    const { printed, promised, stderr } = runExample(simulatorExamples()[0]!);
    expect(stderr).toBe('');
    expect(printed).toEqual(promised);
    expect(promised).toEqual(['429', 'Enabled Enabled']);
  });

  it('the faults example prints what its comments promise', () => {
    const code = simulatorExamples().find((block) => block.includes('goAway'))!;
    const { printed, promised, stderr } = runExample(code);
    expect(stderr).toBe('');
    expect(printed).toEqual(promised);
    expect(promised.length).toBeGreaterThanOrEqual(5);
  });

  it('the rate limits example prints what its comments promise', () => {
    const code = simulatorExamples().find((block) => block.includes('limiter:'))!;
    const { printed, promised, stderr } = runExample(code);
    expect(stderr).toBe('');
    expect(printed).toEqual(promised);
    expect(promised).toEqual(['200 -, 200 -, 429 10', '- - rateLimit']);
  });
});
