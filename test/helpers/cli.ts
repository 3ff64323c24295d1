import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/ds100-bulk.js', import.meta.url));
/** The repository root: the CLI's working directory unless a test says otherwise. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunningCli {
  readonly child: ChildProcess;
  /** Output so far. */
  readonly output: () => { stdout: string; stderr: string };
  readonly done: Promise<CliResult>;
}

/**
 * Starts the built binary with a minimal environment (no inherited DS100_* or proxy variables), for
 * tests that signal or kill it mid-run. Asynchronous, so that a simulator started by the test keeps
 * answering while the CLI runs. Its stdin is empty unless `stdin` is given (then piped in and closed).
 */
export function startCli(
  args: readonly string[],
  env: Record<string, string> = {},
  {
    cwd = ROOT,
    closeStdoutEarly = false,
    stdin,
  }: { cwd?: string | undefined; closeStdoutEarly?: boolean; stdin?: string | undefined } = {},
): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  // A CLI that stops before reading its stdin closes the pipe: EPIPE is no failure of the test.
  child.stdin?.on('error', () => undefined).end(stdin);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (closeStdoutEarly) child.stdout!.destroy(); // like `| head -1`
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, output: () => ({ stdout, stderr }), done };
}

/** Runs the built binary to the end. */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd?: string,
  options: { closeStdoutEarly?: boolean; stdin?: string } = {},
): Promise<CliResult> {
  return startCli(args, env, { cwd, ...options }).done;
}

/**
 * Polls `condition` on real time until it holds, for tests that act on a running binary (signal or
 * kill it once it has got somewhere). Fails after `timeoutMs`.
 */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** `ds100-bulk simulate …` started as a user starts it, once it listens: its URL, token and stats URL as printed. */
export async function startSimulateCli(
  args: readonly string[] = [],
): Promise<{ simulate: RunningCli; url: string; token: string; statsUrl: string }> {
  const simulate = startCli(['simulate', ...args]);
  await waitFor(() => simulate.output().stdout.includes('answers so far: GET '), 'the simulator to listen');
  const { stdout } = simulate.output();
  const printed = (pattern: RegExp): string => pattern.exec(stdout)?.[1] ?? '';
  return {
    simulate,
    url: printed(/listening at (\S+)/),
    token: printed(/token it accepts: (\S+)/),
    statsUrl: printed(/answers so far: GET (\S+)/),
  };
}
