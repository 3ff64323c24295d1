import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runSession } from '../../src/index.js';
import { openInput } from '../../src/input/open-input.js';
import { holdStdin, inputName, spoolToTempFile } from '../../src/input/stdin.js';
import { pairsCsv, somePairs, USER_1 } from '../helpers/input.js';
import { tempDir } from '../helpers/temp-dir.js';

// In-process, stdin is the test runner's: these tests hand holdStdin a stream of their own, and
// what holds stdin after it (openInput('-'), a session) shares that copy. The built CLI reading a
// real pipe is in test/cli/stdin-cli.test.ts.

const CSV = pairsCsv(somePairs(4));

/** A private temporary folder for the copies (os.tmpdir() follows TMPDIR), so that leftovers show. */
function tmpFolder(): string {
  const dir = tempDir();
  vi.stubEnv('TMPDIR', dir);
  return dir;
}
afterEach(() => vi.unstubAllEnvs());

describe('holdStdin', () => {
  it('copies stdin once to a private file that every hold shares; the last release removes it', async () => {
    const dir = tmpFolder();
    const first = await holdStdin(Readable.from([CSV]));
    // A second hold shares the copy and never reads its source (stdin can be read only once).
    const second = await holdStdin(Readable.from(['never read']));
    expect(second.path).toBe(first.path);
    expect(readdirSync(dir)).toEqual([first.path.slice(dir.length + 1)]);
    expect(readFileSync(first.path, 'utf8')).toBe(CSV);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    await first.release();
    await first.release(); // twice is once
    expect(existsSync(first.path)).toBe(true);
    await second.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a source that fails leaves nothing behind and says stdin', async () => {
    const dir = tmpFolder();
    const broken = new Readable({
      read() {
        this.destroy(new Error('EIO: i/o error, read'));
      },
    });
    await expect(holdStdin(broken)).rejects.toThrow('stdin: cannot read the input: EIO: i/o error, read');
    expect(readdirSync(dir)).toEqual([]);
    // The failed copy is not kept for the next reader.
    const next = await holdStdin(Readable.from([CSV]));
    expect(readFileSync(next.path, 'utf8')).toBe(CSV);
    await next.release();
  });

  it('a temporary folder that cannot be written to is an INPUT_FILE error naming it', async () => {
    const dir = tmpFolder();
    vi.stubEnv('TMPDIR', join(dir, 'missing'));
    await expect(spoolToTempFile(Readable.from([CSV]))).rejects.toThrow(
      `stdin: cannot copy it to a temporary file in ${join(dir, 'missing')}: no such file`,
    );
  });

  it('inputName calls - stdin and leaves a path alone', () => {
    expect([inputName('-'), inputName('in.csv')]).toEqual(['stdin', 'in.csv']);
  });
});

describe("openInput('-')", () => {
  it('reads the copy of stdin and calls it stdin in messages; closing it lets go of the copy', async () => {
    const dir = tmpFolder();
    const stdin = await holdStdin(Readable.from([`serial,userId\n140100000,${USER_1}\n14010000x,${USER_1}\n`]));
    const input = await openInput('-');
    const items = [];
    for await (const item of input.items) items.push(item);
    expect(items.map((item) => item.kind)).toEqual(['row', 'invalid']);
    await stdin.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an empty stdin is an empty file, named stdin', async () => {
    const dir = tmpFolder();
    const stdin = await holdStdin(Readable.from([]));
    await expect(openInput('-')).rejects.toThrow(/^stdin: the file is empty \(0 bytes\)/);
    await stdin.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('bytes that are not UTF-8 are described from the copy, named stdin', async () => {
    tmpFolder();
    const latin1 = Buffer.concat([
      Buffer.from(`serial,userId,name\n140100000,${USER_1},Jos`),
      Buffer.from([0xe9, 0x0a]),
    ]);
    const stdin = await holdStdin(Readable.from([latin1]));
    await expect(openInput('-')).rejects.toThrow(/^stdin: the file is not UTF-8: byte offset 69 \(line 2\) is 0xE9/);
    await stdin.release();
  });
});

describe('runSession with input -', () => {
  it('plan --simulate reads stdin twice (the tenant, then the rows) from one copy; the summary says stdin', async () => {
    const outDir = tempDir();
    const [out, summaryJson] = [join(outDir, 'plan.csv'), join(outDir, 'summary.json')];
    const dir = tmpFolder();
    const stdin = await holdStdin(Readable.from([CSV]));
    const { summary } = await runSession({ command: 'plan', input: '-', out, summaryJson, simulate: true, rate: 1000 });
    await stdin.release();
    // Every pair registered up front from the same bytes: all would be enabled.
    expect(summary).toMatchObject({ input: 'stdin', rows: 4, byOutcome: { 'would-enable': 4 } });
    expect(JSON.parse(readFileSync(summaryJson, 'utf8'))).toMatchObject({ input: 'stdin', rows: 4 });
    expect(readdirSync(dir)).toEqual([]);
  });
});
