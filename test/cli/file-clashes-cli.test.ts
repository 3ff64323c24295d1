import { linkSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

// The runs a tester saw destroy files, through the built CLI: each must stop with exit 2 before it
// opens anything (the log file included, which the CLI opens before the session starts). The check
// itself, flag by flag, is tested in test/unit/file-clashes.test.ts.

const INPUT = pairsCsv(somePairs(3));
const TENANT = ['--base-url', 'https://tenant.example/AdminInterface/restapi/'];

interface Case {
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  readonly message: string;
}

/**
 * A folder with input.csv, link.csv (a symlink to it), hard.csv (a hard link to it), k.key and an
 * empty sub/, in which the CLI runs `args`.
 */
async function runIn({ args, env }: Case) {
  const dir = tempDir();
  writeFile(dir, 'input.csv', INPUT);
  symlinkSync('input.csv', join(dir, 'link.csv'));
  linkSync(join(dir, 'input.csv'), join(dir, 'hard.csv'));
  writeFile(dir, 'k.key', '{"not": "read"}');
  mkdirSync(join(dir, 'sub'));
  const before = { files: readdirSync(dir).sort(), mtime: statSync(join(dir, 'input.csv')).mtimeMs };
  const result = await runCli(args, env, dir);
  return { ...result, dir, before };
}

const CASES: readonly Case[] = [
  {
    args: ['enable', 'link.csv', '--out', 'input.csv', '--simulate', '--state', 'run.state'],
    message: '--out (input.csv) and the input file (link.csv) are the same file',
  },
  {
    args: ['enable', 'input.csv', '--out', 'hard.csv', '--simulate'],
    message: '--out (hard.csv) and the input file (input.csv) are the same file',
  },
  {
    args: ['enable', 'input.csv', '--out', 'r.csv', '--summary-json', 'link.csv', '--simulate'],
    message: '--summary-json (link.csv) and the input file (input.csv) are the same file',
  },
  {
    args: ['plan', 'input.csv', '--simulate', '--out', 'r.csv', '--log-file', 'sub/../input.csv'],
    message: '--log-file (sub/../input.csv) and the input file (input.csv) are the same file',
  },
  {
    args: ['enable', 'input.csv', '--out', 'k.key', '--key-file', 'k.key', ...TENANT],
    message: '--out (k.key) and --key-file (k.key) are the same file',
  },
  {
    args: ['reconcile', 'input.csv', '--state', 'hard.csv', '--simulate', '--out', 'r.csv'],
    message: '--state (hard.csv) and the input file (input.csv) are the same file',
  },
  {
    args: ['validate', 'input.csv', '--out', './sub/../input.csv'],
    message: '--out (./sub/../input.csv) and the input file (input.csv) are the same file',
  },
  {
    args: ['enable', 'link.csv', '--out', 'hard.csv', '--dry-run'],
    message: '--out (hard.csv) and the input file (link.csv) are the same file',
  },
];

describe('an output that is an input (built CLI)', () => {
  it('stops with exit 2 naming both, before anything is written, locked or created', async () => {
    const runs = await Promise.all(CASES.map(runIn));
    runs.forEach(({ code, stdout, stderr, dir, before }, index) => {
      const { args, message } = CASES[index]!;
      const what = args.join(' ');
      expect(code, what).toBe(2);
      expect(stdout, what).toBe('');
      expect(stderr, what).toMatch(/^ds100-bulk: .* writing would destroy it; give another --[a-z-]+\n/);
      expect(stderr, what).toContain(message);
      // The input's bytes and modification time as they were; no results, log, state or lock file.
      expect(readFileSync(join(dir, 'input.csv'), 'utf8'), what).toBe(INPUT);
      expect(statSync(join(dir, 'input.csv')).mtimeMs, what).toBe(before.mtime);
      expect(readFileSync(join(dir, 'k.key'), 'utf8'), what).toBe('{"not": "read"}');
      expect(readdirSync(dir).sort(), what).toEqual(before.files);
      expect(readdirSync(join(dir, 'sub')), what).toEqual([]);
    });
  });

  it('the same name in another folder is another file: the run goes ahead', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'reports'));
    writeFile(dir, 'input.csv', INPUT);
    const { code, stderr } = await runCli(['validate', 'input.csv', '--out', 'reports/input.csv'], {}, dir);
    expect([code, stderr]).toEqual([0, '']);
    expect(readFileSync(join(dir, 'input.csv'), 'utf8')).toBe(INPUT);
    expect(readFileSync(join(dir, 'reports', 'input.csv'), 'utf8')).toMatch(
      /^\uFEFFline,deviceSerialNumber,userId,outcome/,
    );
  });
});
