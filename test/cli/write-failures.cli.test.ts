import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RESULT_COLUMNS } from '../../src/output/results-writer.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { ROOT, runCli } from '../helpers/cli.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { countBy, readResults } from '../helpers/results.js';
import { registryOf, startTestSimulator, rowCalls } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';
import { CAN_MOUNT, fill, remount, tinyDisk, unmountAll } from '../helpers/tiny-disk.js';

// The built binary against output that the kernel refuses: /dev/full and a file-size limit need no
// root; a tmpfs that fills up half-way does. Shell redirections (`| head -1`, `2>&-`) go through sh -c.

afterEach(unmountAll);

const BIN = join(ROOT, 'bin', 'ds100-bulk.js');
const PAIRS = somePairs(200);

async function setUp(pairs = PAIRS) {
  const simulator = await startTestSimulator({ registry: registryOf(pairs) });
  const dir = tempDir();
  const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
  const tenant = ['--base-url', simulator.baseUrl, '--rate', '100000', '--concurrency', '4'];
  return { simulator, dir, input, tenant, env: { DS100_TOKEN: simulator.token } };
}

/** Runs a shell command line with the test's environment; `$BIN` is the built binary. */
function shell(script: string, env: Record<string, string>) {
  const child = spawn('sh', ['-c', script], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', BIN, NODE: process.execPath, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const enableCalls = (simulator: RunningSimulator): string[] =>
  simulator.calls.filter((call) => call.path.endsWith('/enable/otp')).map((call) => call.serial ?? '');

/** The complete data lines of a results file that a failed write cut short. */
const completeRows = (path: string): string[] => readFileSync(path, 'utf8').split('\n').slice(1, -1);

describe('ds100-bulk enable: output the kernel refuses (built CLI)', () => {
  it('--out /dev/full: exit 2 before any request, naming the file and the reason', async () => {
    const { simulator, input, tenant, env } = await setUp(PAIRS.slice(0, 20));
    const { code, stdout, stderr } = await runCli(['enable', input, '--out', '/dev/full', ...tenant], env);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^ds100-bulk: cannot write the results file \/dev\/full: the disk is full$/m);
    expect(stderr).not.toMatch(/internal error/);
    expect(rowCalls(simulator)).toHaveLength(0); // the read-only preflight lookup aside
  });

  it('--log-file /dev/full: exit 7, the summary printed, every row in the results as not-attempted', async () => {
    const { simulator, dir, input, tenant, env } = await setUp(PAIRS.slice(0, 20));
    const out = join(dir, 'r.csv');
    const { code, stdout, stderr } = await runCli(
      ['enable', input, '--out', out, ...tenant, '--log-file', '/dev/full'],
      env,
    );
    expect(code).toBe(7);
    const message = `cannot write the log file /dev/full: the disk is full; the results file ${out} holds every row`;
    expect(stdout).toContain(`RUN STOPPED EARLY (OUTPUT_FAILED): ${message}`);
    expect(stdout).toMatch(/not-attempted +20/);
    expect(stderr).toContain(`ds100-bulk: ${message}`);
    expect(rowCalls(simulator)).toHaveLength(0); // the read-only preflight lookup aside
    expect(countBy(readResults(out), 'errorCode')).toEqual({ OUTPUT_FAILED: 20 });
  });

  it('a results file over the file-size limit mid-run (EFBIG, no root): exit 7, the rows it holds counted', async () => {
    const { simulator, dir, input, tenant, env } = await setUp();
    const out = join(dir, 'r.csv');
    // 16 blocks of 512 bytes: room for a few dozen rows. Node ignores SIGXFSZ, so the write fails instead.
    const { code, stdout, stderr } = await shell(
      `ulimit -f 16 && exec "$NODE" "$BIN" enable ${input} --out ${out} ${tenant.join(' ')} --log-level silent`,
      env,
    );
    expect(code).toBe(7);
    const held = completeRows(out).length;
    expect(held).toBeGreaterThan(0);
    const message =
      `cannot write the results file ${out}: the file is too large; the results file ${out} holds ${held} rows, ` +
      'the rows sent after that are in the log; fix that and run again';
    expect(stdout).toContain(`RUN STOPPED EARLY (OUTPUT_FAILED): ${message}`);
    expect(stderr).toContain(`ds100-bulk: ${message}`);
    expect(stdout).toMatch(/OUTPUT_FAILED +\d+/);
    expect(enableCalls(simulator).length).toBeLessThan(PAIRS.length);
  });

  it('stdout on /dev/full: the run finishes (exit 0) and says on stderr that the summary was lost', async () => {
    const { dir, input, tenant, env } = await setUp(PAIRS.slice(0, 20));
    const out = join(dir, 'r.csv');
    const { code, stderr } = await shell(
      `"$NODE" "$BIN" enable ${input} --out ${out} ${tenant.join(' ')} --log-level silent > /dev/full`,
      env,
    );
    expect(code).toBe(0);
    expect(stderr).toBe('ds100-bulk: cannot write to stdout: the disk is full\n');
    expect(countBy(readResults(out), 'outcome')).toEqual({ enabled: 20 });
  });

  it('--out - | head -1: the run goes on to the end (exit 0) and prints its summary on stderr', async () => {
    const { simulator, input, tenant, env } = await setUp();
    // Rows go on being written after head has read its line and gone: those writes fail with EPIPE.
    const { stdout, stderr } = await shell(
      `{ "$NODE" "$BIN" enable ${input} --out - ${tenant.join(' ')} --log-level info; echo "exit=$?" >&2; } | head -1`,
      env,
    );
    expect(stdout).toBe(`${RESULT_COLUMNS.join(',')}\n`);
    expect(stderr).toContain('exit=0');
    expect(stderr).toMatch(/enabled +200/);
    expect(stderr).not.toMatch(/EPIPE|internal error/);
    expect(enableCalls(simulator)).toHaveLength(200);
  });

  it('2>&- (stderr closed) and a stderr whose reader went away: the run and its results are complete', async () => {
    const { dir, input, tenant, env } = await setUp(PAIRS.slice(0, 50));
    const closed = join(dir, 'closed.csv');
    const first = await shell(
      `"$NODE" "$BIN" enable ${input} --out ${closed} ${tenant.join(' ')} --log-level debug 2>&-`,
      env,
    );
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/enabled +50/);
    expect(countBy(readResults(closed), 'outcome')).toEqual({ enabled: 50 });

    const gone = join(dir, 'gone.csv');
    const codeFile = join(dir, 'code');
    const second = await shell(
      `{ "$NODE" "$BIN" enable ${input} --out ${gone} ${tenant.join(' ')} --log-level debug; echo $? > ${codeFile}; } 2>&1 >/dev/null | head -c 1 >/dev/null`,
      env,
    );
    expect(second.code).toBe(0);
    expect(readFileSync(codeFile, 'utf8').trim()).toBe('0');
    expect(countBy(readResults(gone), 'outcome')).toEqual({ enabled: 50 });
  });
});

describe.skipIf(!CAN_MOUNT)('ds100-bulk enable on a disk that fills up (skipped unless root: mounts a tmpfs)', () => {
  it('exit 7 naming the file and what is where; --resume on a roomy disk enables the rest, none twice', async () => {
    const { simulator, dir, input, tenant, env } = await setUp();
    const disk = tinyDisk();
    fill(disk, 4096);
    const out = join(disk, 'r.csv');
    const state = join(dir, 's.state');
    // The undo file off the tiny disk: this is about the results file filling it.
    const undo = ['--undo-file', join(dir, 'r.undo.csv')];
    const first = await runCli(
      ['enable', input, '--out', out, '--state', state, ...undo, ...tenant, '--log-level', 'warn'],
      env,
    );
    expect(first.code).toBe(7);
    const held = completeRows(out).length;
    const message =
      `cannot write the results file ${out}: the disk is full; the results file ${out} holds ${held} rows, ` +
      `the state file ${state} every row that was sent; free space and run again with --resume`;
    expect(first.stdout).toContain(`RUN STOPPED EARLY (OUTPUT_FAILED): ${message}`);
    expect(first.stderr).toContain(`ds100-bulk: ${message}`);
    expect(first.stderr).not.toMatch(/internal error/);
    const sentFirst = enableCalls(simulator).length;
    expect(sentFirst).toBeLessThan(PAIRS.length);

    remount(disk, 'size=4m');
    const second = await runCli(['enable', input, '--out', out, '--state', state, '--resume', ...undo, ...tenant], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/enabled +200/);
    const calls = enableCalls(simulator);
    expect(calls).toHaveLength(PAIRS.length);
    expect(new Set(calls).size).toBe(PAIRS.length);
    expect(countBy(readResults(out), 'outcome')).toEqual({ enabled: 200 });
  });
});
