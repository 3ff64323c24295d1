import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';
import { readResults } from '../helpers/results.js';
import { tempDir } from '../helpers/temp-dir.js';

/** The commands of the README's "Changing production safely" block, as argument lists. */
function safeChangeCommands(): string[][] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Changing production safely'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block
    .split('\n')
    .filter((line) => line.startsWith('node bin/ds100-bulk.js '))
    .map((line) =>
      line
        .replace(/#.*$/, '')
        .trim()
        .split(/\s+/)
        .slice(2)
        // The samples from the repository; everything else is written where the commands run.
        .map((arg) => (arg.startsWith('samples/') ? join(ROOT, arg) : arg)),
    );
}

describe('the README walk-through: validate, plan, review, canary, apply, undo', () => {
  it('runs as written, and the undo takes back exactly what the apply changed', async () => {
    const commands = safeChangeCommands();
    expect(commands.map((args) => args[0])).toEqual(['validate', 'plan', 'enable', 'disable']);
    const dir = tempDir();
    const codes: Array<number | null> = [];
    // One after the other: each reads what the one before wrote.
    for (const args of commands) {
      const fast = args[0] === 'validate' ? [] : ['--rate', '1000'];
      codes.push((await runCli([...args, ...fast], {}, dir)).code);
    }

    expect(codes).toEqual([0, 0, 0, 0]);
    const applied = readResults(join(dir, 'results.csv'));
    expect(applied).toHaveLength(30);
    expect(applied.every((row) => row['outcome'] === 'enabled')).toBe(true);
    const undone = readResults(join(dir, 'undo-results.csv'));
    // The undo file lists the changes as they finished: compare by device.
    const byDevice = (rows: ReadonlyArray<Record<string, string>>) =>
      rows.map((row) => `${row['deviceSerialNumber']} ${row['userId']} ${row['outcome']}`).sort();
    expect(byDevice(undone)).toEqual(byDevice(applied.map((row) => ({ ...row, outcome: 'disabled' }))));
  });
});
