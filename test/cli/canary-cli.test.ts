import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { countBy, readResults } from '../helpers/results.js';
import { runCli, waitFor, type CliResult } from '../helpers/cli.js';
import { registryOf, rowCalls, startTestSimulator } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

const BIN = fileURLToPath(new URL('../../bin/ds100-bulk.js', import.meta.url));
const PAIRS = somePairs(6);
const QUESTION = 'Go on with the remaining 4 rows? [y/N] ';

/** A folder with the input of PAIRS and where the results go. */
function files() {
  const dir = tempDir();
  return { dir, input: writeFile(dir, 'in.csv', pairsCsv(PAIRS)), out: join(dir, 'r.csv') };
}

// util-linux `script` runs a command on a pseudo-terminal: the CLI sees a terminal on stdin and stderr.
// Probed by running it: a container may have the command but no pseudo-terminals to give.
const hasScript = spawnSync('script', ['-qfec', 'true', '/dev/null'], { timeout: 5000 }).status === 0;

/** Runs `enable … --canary 2 --simulate` on a pseudo-terminal and types `answer` once the question shows. */
async function onTerminal(answer: string): Promise<CliResult & { out: string }> {
  const { dir, input, out } = files();
  const quote = (arg: string) => `'${arg}'`;
  const command = [
    process.execPath,
    BIN,
    'enable',
    input,
    '--out',
    out,
    '--simulate',
    '--canary',
    '2',
    '--rate',
    '1000',
  ]
    .map(quote)
    .join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', TERM: 'dumb' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // A question that never shows must not leave the run waiting behind the test.
  onTestFinished(() => void (child.exitCode === null && child.kill('SIGKILL')));
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr: '' }));
  });
  await waitFor(() => stdout.includes(QUESTION), 'the question');
  child.stdin.write(answer);
  const result = await done;
  child.stdin.end();
  return { ...result, out };
}

describe.skipIf(!hasScript)('ds100-bulk enable --canary on a terminal (util-linux script)', () => {
  it('shows the canary rows, asks, and on y sends the rest: every row enabled, exit 0', async () => {
    const { code, stdout, out } = await onTerminal('y\n');
    expect(stdout).toMatch(/canary: 2 rows sent: enabled 2\r?\nline +deviceSerialNumber +userId +outcome/);
    expect(code).toBe(0);
    expect(countBy(readResults(out), 'outcome')).toEqual({ enabled: 6 });
  });

  it('on n stops after the canary: 2 enabled, the rest not-attempted CANARY_ONLY, exit 8', async () => {
    const { code, stdout, out } = await onTerminal('n\n');
    expect(code).toBe(8);
    expect(readResults(out).map((row) => [row['outcome'], row['errorCode']])).toEqual([
      ['enabled', ''],
      ['enabled', ''],
      ...Array.from({ length: 4 }, () => ['not-attempted', 'CANARY_ONLY']),
    ]);
    expect(stdout).toContain('RUN STOPPED EARLY (CANARY_ONLY)');
  });
});

if (!hasScript) {
  describe('ds100-bulk enable --canary on a terminal', () => {
    it.skip('needs util-linux `script` (Debian: bsdutils) and a pseudo-terminal to run the CLI on', () => {});
  });
}

describe('ds100-bulk enable --canary without a terminal (built CLI)', () => {
  it('with --yes: shows the canary, says it goes on, and enables every row (exit 0)', async () => {
    const { dir, input, out } = files();
    const { code, stderr } = await runCli(
      ['enable', input, '--out', out, '--simulate', '--canary', '2', '-y', '--rate', '1000', '--log-level', 'warn'],
      {},
      dir,
    );
    expect(code).toBe(0);
    expect(stderr).toContain('canary: 2 rows sent: enabled 2');
    expect(stderr).toContain('--yes: going on with the remaining 4 rows');
    expect(stderr).not.toContain('[y/N]');
    expect(countBy(readResults(out), 'outcome')).toEqual({ enabled: 6 });
  });

  it('without --yes: stops after the canary, says how to go on (exit 8, the rest CANARY_ONLY)', async () => {
    const { dir, input, out } = files();
    const { code, stdout, stderr } = await runCli(
      ['enable', input, '--out', out, '--simulate', '--canary', '2', '--rate', '1000', '--log-level', 'silent'],
      {},
      dir,
    );
    expect(code).toBe(8);
    expect(stderr).toContain(
      'stdin is not a terminal; re-run with --yes to go on (or --resume with --state); stopping after the canary',
    );
    expect(countBy(readResults(out), 'errorCode')).toEqual({ '': 2, CANARY_ONLY: 4 });
    expect(stdout).toContain('RUN STOPPED EARLY (CANARY_ONLY)');
    expect(stdout).toContain(
      `only the canary was sent; to send the rest: ds100-bulk enable --only-failed ${out} --out`,
    );
  });

  it('a canary row refused with 403: exit 3, CANARY_FAILED, nothing asked and nothing more sent', async () => {
    const simulator = await startTestSimulator({
      registry: registryOf(PAIRS),
      faults: new Map([[PAIRS[0]!.deviceSerialNumber, [{ status: 403 }, { status: 403 }]]]),
    });
    const { dir, input, out } = files();
    const { code, stdout, stderr } = await runCli(
      ['enable', input, '--out', out, '--base-url', simulator.baseUrl, '--canary', '2', '--log-level', 'silent'],
      { DS100_TOKEN: simulator.token },
      dir,
    );
    expect(code).toBe(3);
    expect(stdout).toContain('RUN STOPPED EARLY (CANARY_FAILED): the canary failed: 1 of its 2 rows ended FORBIDDEN');
    expect(stderr).not.toContain('canary: 2 rows sent');
    expect(stderr).not.toContain('re-run with --yes');
    expect(countBy(readResults(out), 'errorCode')).toEqual({ FORBIDDEN: 1, '': 1, CANARY_FAILED: 4 });
    expect(new Set(rowCalls(simulator).map((call) => call.serial)).size).toBe(2);
  });

  it('reconcile takes the flags too: --yes without --canary is refused (exit 2)', async () => {
    const { dir, input } = files();
    const { code, stderr } = await runCli(
      ['reconcile', input, '--state', join(dir, 's'), '--simulate', '--yes'],
      {},
      dir,
    );
    expect(code).toBe(2);
    expect(stderr).toContain('--yes only makes sense with --canary N');
  });
});
