import { linkSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkFileClashes,
  Ds100Error,
  runSession,
  sessionFiles,
  validate,
  type SessionOptions,
} from '../../src/index.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

// The check on real files in a temporary folder: symlinks, hard links and `..` paths, as the kernel
// resolves them. The command line's own runs of it are in test/cli/file-clashes-cli.test.ts.

/** The Ds100Error a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<Ds100Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Ds100Error);
  return error as Ds100Error;
}

/** Every file under `dir`, with its bytes: what a check must leave as it found it. */
const snapshot = (dir: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .sort()
      .map((name) => {
        const path = join(dir, name);
        return [name, statSync(path).isFile() ? readFileSync(path, 'utf8') : '<dir>'];
      }),
  );

type Via = 'symlink' | 'hard link' | '.. path';

/** Another name for the existing file `target` inside `dir`, made as `via` says. */
function otherNameFor(dir: string, target: string, via: Via): string {
  if (via === 'symlink') {
    const link = join(dir, `link-to-${relative(dir, target)}`);
    symlinkSync(target, link);
    return link;
  }
  if (via === 'hard link') {
    const link = join(dir, `hard-${relative(dir, target)}`);
    linkSync(target, link);
    return link;
  }
  mkdirSync(join(dir, 'sub'), { recursive: true });
  return dotDot(dir, relative(dir, target));
}

/** `dir/sub/../name`, spelled out: path.join would take the `..` away. */
const dotDot = (dir: string, name: string): string => [dir, 'sub', '..', name].join(sep);

const OUTPUTS = ['--out', '--summary-json', '--log-file', '--state'] as const;
const INPUTS = ['the input file', '--key-file', '--simulate-tenant'] as const;
const VIAS: readonly Via[] = ['symlink', 'hard link', '.. path'];

/** A session with every input and output given, as the command line hands it over. */
function session(dir: string, override: Partial<Record<(typeof OUTPUTS)[number] | (typeof INPUTS)[number], string>>) {
  const options: SessionOptions = {
    command: 'enable',
    input: override['the input file'] ?? writeFile(dir, 'in.csv', 'serial,userId\n'),
    credentials: { kind: 'key-file', file: override['--key-file'] ?? writeFile(dir, 'tenant.key', '{}') },
    simulate: true,
    simulateTenant: override['--simulate-tenant'] ?? writeFile(dir, 'tenant.csv', 'serial,userId\n'),
    out: override['--out'] ?? join(dir, 'results.csv'),
    summaryJson: override['--summary-json'] ?? join(dir, 'summary.json'),
    state: override['--state'] ?? join(dir, 'run.state'),
  };
  return sessionFiles(options, { '--log-file': override['--log-file'] ?? join(dir, 'run.log') });
}

describe('checkFileClashes: every output against every input', () => {
  const cases = OUTPUTS.flatMap((output) => INPUTS.flatMap((input) => VIAS.map((via) => ({ output, input, via }))));
  it.each(cases)(
    '$output over $input through a $via is refused, and nothing is touched',
    async ({ output, input, via }) => {
      const dir = tempDir();
      const read = writeFile(dir, 'read.csv', 'serial,userId\n140100000,someone\n');
      const written = otherNameFor(dir, read, via);
      const files = session(dir, { [input]: read, [output]: written });
      const before = snapshot(dir);
      const error = await rejection(checkFileClashes(files));
      expect(error.code).toBe('USAGE');
      expect(error.message).toBe(
        `${output} (${written}) and ${input} (${read}) are the same file: writing would destroy it; give another ${output}`,
      );
      expect(snapshot(dir)).toEqual(before);
    },
  );

  it.each(VIAS)('--oauth-client is an input too (through a %s)', async (via) => {
    const dir = tempDir();
    const client = writeFile(dir, 'client.json', '{}');
    const out = otherNameFor(dir, client, via);
    const files = sessionFiles({
      command: 'plan',
      input: '-',
      out,
      credentials: { kind: 'oauth-client', file: client },
    });
    await expect(checkFileClashes(files)).rejects.toThrow(
      `--out (${out}) and --oauth-client (${client}) are the same file: writing would destroy it; give another --out`,
    );
  });

  it("the state file's lock is an output: --state x.csv cannot lock over x.csv.lock", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    const input = writeFile(dir, 'x.csv.lock', 'serial,userId\n');
    const files = sessionFiles({ command: 'reconcile', input, state: dotDot(dir, 'x.csv') });
    await expect(checkFileClashes(files)).rejects.toThrow(
      `the lock file of --state (${dotDot(dir, 'x.csv.lock')}) and the input file (${input}) are the same file: writing would destroy it; give another --state`,
    );
  });
});

describe('checkFileClashes: outputs against each other', () => {
  it('--out and --summary-json through a symlink: one would overwrite the other', async () => {
    const dir = tempDir();
    const out = writeFile(dir, 'out.csv', 'old results');
    const summary = otherNameFor(dir, out, 'symlink');
    await expect(
      checkFileClashes({ inputs: {}, outputs: { '--out': out, '--summary-json': summary } }),
    ).rejects.toThrow(
      `--summary-json (${summary}) and --out (${out}) are the same file: one would overwrite the other; give another --summary-json`,
    );
  });

  it('files that do not exist yet are compared by their real folder: dir-link/new.csv is dir/new.csv', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'dir'));
    symlinkSync(join(dir, 'dir'), join(dir, 'dir-link'));
    const outputs = { '--out': join(dir, 'dir-link', 'new.csv'), '--log-file': join(dir, 'dir', 'new.csv') };
    await expect(checkFileClashes({ inputs: {}, outputs })).rejects.toThrow(/^--log-file .* and --out .* same file/);
    expect(readdirSync(join(dir, 'dir'))).toEqual([]);
  });

  it('a folder that does not exist yet is taken as spelled: missing/../in.csv is in.csv (a log file creates its folder)', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', 'serial,userId\n');
    const log = [dir, 'missing', '..', 'in.csv'].join(sep);
    await expect(
      checkFileClashes({ inputs: { 'the input file': input }, outputs: { '--log-file': log } }),
    ).rejects.toThrow(`--log-file (${log}) and the input file (${input}) are the same file`);
  });

  it('a dangling symlink is compared by where writing through it would create the file', async () => {
    const dir = tempDir();
    symlinkSync(join(dir, 'target.json'), join(dir, 'dangling'));
    const outputs = { '--out': join(dir, 'dangling'), '--summary-json': join(dir, 'target.json') };
    await expect(checkFileClashes({ inputs: {}, outputs })).rejects.toThrow(
      /^--summary-json .* and --out .* same file/,
    );
  });
});

describe('checkFileClashes: what passes', () => {
  it('the same name in different folders, stdin and stdout (-), and flags not given', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    const input = writeFile(dir, 'a/shipment.csv', 'serial,userId\n');
    await expect(
      checkFileClashes({
        inputs: { 'the input file': input, '--key-file': undefined, '--simulate-tenant': '-' },
        outputs: { '--out': join(dir, 'b', 'shipment.csv'), '--summary-json': '-', '--log-file': undefined },
      }),
    ).resolves.toBeUndefined();
    await expect(checkFileClashes(sessionFiles({ command: 'enable', input: '-', out: '-' }))).resolves.toBeUndefined();
  });

  it('an input named twice is no clash: only writing destroys', async () => {
    const dir = tempDir();
    const csv = writeFile(dir, 'pairs.csv', 'serial,userId\n');
    await expect(
      checkFileClashes({ inputs: { 'the input file': csv, '--simulate-tenant': csv }, outputs: {} }),
    ).resolves.toBeUndefined();
  });
});

describe('the library checks before it opens anything', () => {
  it('runSession: --out through a symlink to the input; no lock, no results, the input as it was', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv(somePairs(3)));
    const out = otherNameFor(dir, input, 'symlink');
    const before = snapshot(dir);
    const mtime = statSync(input).mtimeMs;
    const error = await rejection(
      runSession({ command: 'enable', input, out, simulate: true, state: join(dir, 'run.state') }),
    );
    expect([error.code, error.message]).toEqual([
      'USAGE',
      `--out (${out}) and the input file (${input}) are the same file: writing would destroy it; give another --out`,
    ]);
    expect(snapshot(dir)).toEqual(before);
    expect(statSync(input).mtimeMs).toBe(mtime);
  });

  it('runSession: --state a hard link to the key file', async () => {
    const dir = tempDir();
    const key = writeFile(dir, 'tenant.key', '{}');
    const state = otherNameFor(dir, key, 'hard link');
    const input = writeFile(dir, 'in.csv', pairsCsv(somePairs(3)));
    const error = await rejection(
      runSession({ command: 'reconcile', input, state, credentials: { kind: 'key-file', file: key } }),
    );
    expect(error.message).toMatch(/^--state \(.*\) and --key-file \(.*tenant\.key\) are the same file/);
    expect(readFileSync(key, 'utf8')).toBe('{}');
  });

  it('validate(): --out a hard link to the input', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv(somePairs(3)));
    const out = otherNameFor(dir, input, 'hard link');
    await expect(validate({ input, out })).rejects.toThrow(
      `--out (${out}) and the input file (${input}) are the same file: writing would destroy it; give another --out`,
    );
    expect(readFileSync(input, 'utf8')).toBe(pairsCsv(somePairs(3)));
  });
});
