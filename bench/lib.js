// Helpers shared by the benchmark scripts: a simulator in its own process, generated inputs, and the
// real CLI run as a child process, measured from outside.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { generatePairs } from '../dist/simulator/index.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'ds100-bulk.js');
const RSS_REPORTER = pathToFileURL(join(ROOT, 'bench', 'rss-reporter.js')).href;

/** A fresh temporary directory, removed by `cleanup()`. */
export async function tempDir(prefix = 'ds100-bench-') {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Starts `ds100-bulk simulate --port 0 ...args` in its own process and reads the URL and token it
 * prints. `stats()` reads GET /__simulator/stats; `stop()` ends the process.
 */
export async function startSimulatorProcess(args = []) {
  const child = spawn(process.execPath, [BIN, 'simulate', '--port', '0', '--stateless', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { PATH: process.env.PATH ?? '' },
  });
  const found = {};
  for await (const line of createInterface({ input: child.stdout })) {
    found.baseUrl ??= /listening at (\S+)/.exec(line)?.[1];
    found.token ??= /token it accepts: (\S+)/.exec(line)?.[1];
    found.statsUrl ??= /answers so far: GET (\S+)/.exec(line)?.[1];
    if (found.baseUrl && found.token && found.statsUrl) break;
  }
  if (!found.statsUrl) throw new Error('the simulator did not print its URL, token and stats address');
  child.stdout.resume();
  return {
    ...found,
    async stats() {
      const response = await fetch(found.statsUrl);
      return response.json();
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Writes a CSV of `rows` distinct, well-formed pairs (with backpressure: fine for millions). */
export async function writeShipment(file, rows, seed = 1) {
  const out = createWriteStream(file);
  let chunk = 'deviceSerialNumber,userId\n';
  for (const pair of generatePairs(rows, seed)) {
    chunk += `${pair.deviceSerialNumber},${pair.userId}\n`;
    if (chunk.length > 64 * 1024) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return file;
}

/**
 * Runs `ds100-bulk enable` (this checkout's, or the one `bin` names) as a child process, the way an administrator would, and measures it:
 * wall time, the run's own elapsed time and figures (from its "run finished" log line), and the
 * child's peak RSS and CPU time (`process.resourceUsage()`, written at exit by bench/rss-reporter.js).
 */
export async function runEnable({ input, out, simulator, flags = [], nodeFlags = [], dir, bin = BIN }) {
  const logFile = join(dir, `enable-${Date.now()}.log`);
  const rssFile = join(dir, `enable-${Date.now()}.rss`);
  const args = [
    ...nodeFlags,
    '--import',
    RSS_REPORTER,
    bin,
    'enable',
    input,
    '--out',
    out,
    '--base-url',
    simulator.baseUrl,
    '--log-file',
    logFile,
    ...flags,
  ];
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', DS100_TOKEN: simulator.token, BENCH_RSS_FILE: rssFile },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [exitCode] = await once(child, 'exit');
  const wallMs = performance.now() - started;
  const logLines = (await readFile(logFile, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  const finished = logLines.find((line) => line.msg === 'run finished');
  if (!finished) throw new Error(`the enable run did not finish (exit ${exitCode}): ${stderr || stdout}`);
  const usage = JSON.parse(await readFile(rssFile, 'utf8'));
  return {
    exitCode,
    wallMs,
    finished,
    logLines,
    stdout,
    stderr,
    maxRssMb: usage.maxRssKb / 1024,
    cpuMs: usage.cpuUs / 1000,
  };
}

/**
 * Requests/s autocannon gets from the simulator with the same PATCH, headers and a distinct pair per
 * request as `enable` sends (so the simulator does the same work): for `seconds`, or for `amount`
 * requests; `overallRate` paces it like `--rate`. The yardstick the benchmarks compare `enable` with.
 */
export async function autocannonRate(simulator, { connections, seconds, amount, overallRate, seed = 1 }) {
  const pairs = generatePairs(10_000_000, seed);
  const result = await autocannon({
    url: new URL('v1/ds100/enable/otp', simulator.baseUrl).href,
    method: 'PATCH',
    connections,
    ...(amount === undefined ? { duration: seconds } : { amount }),
    ...(overallRate === undefined ? {} : { overallRate }),
    headers: {
      authorization: `Bearer ${simulator.token}`,
      accept: 'application/json',
      'content-type': 'application/json',
    },
    requests: [
      {
        setupRequest: (request) => {
          const { deviceSerialNumber, userId } = pairs.next().value;
          return { ...request, body: JSON.stringify({ deviceSerialNumber, userId }) };
        },
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`autocannon saw ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  }
  return result.requests.total / result.duration;
}

/** What the figures were measured on. */
export function machine() {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model?.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export const fmt = (value, digits = 1) => Number(value).toFixed(digits);
export const pct = (value, digits = 1) => `${(value * 100).toFixed(digits)}%`;

/**
 * Prints a benchmark's result for people, then one `RESULT {json}` line that bench/run-all.js reads.
 * `checks` are `{ name, value, target, pass }`.
 */
export function report({ id, title, setup, checks, notes = [] }) {
  const pass = checks.every((check) => check.pass);
  console.log(`\n== ${title}`);
  console.log(`   ${setup}`);
  for (const check of checks) {
    console.log(`   ${check.pass ? 'PASS' : 'FAIL'}  ${check.name}: ${check.value} (target ${check.target})`);
  }
  for (const note of notes) console.log(`   ${note}`);
  console.log(`RESULT ${JSON.stringify({ id, title, setup, checks, notes, pass })}`);
  return pass;
}

/** Runs `main` when the script is started directly; sets the exit code from its result. */
export function runIfMain(meta, main) {
  if (process.argv[1] && meta.url === pathToFileURL(process.argv[1]).href) {
    main().then(
      (pass) => (process.exitCode = pass ? 0 : 1),
      (error) => {
        console.error(error);
        process.exitCode = 2;
      },
    );
  }
}
