// 1. Client efficiency: rows/s of a full `enable` run (CSV in, results out) divided by the
// requests/s autocannon gets from the same simulator at the same concurrency.
//
// The simulator runs in its own process (no latency, no limit). autocannon runs in this process with
// the same PATCH, headers and a distinct pair per request (so the simulator does the same work for
// both); `enable` runs as a child process, timed from spawn to exit (node's start-up included).
// autocannon is measured before and after the enable run and the two are averaged, so a change in the
// machine's load during the run shows up as a gap between them. A short autocannon run first warms
// the simulator up and is not counted.
import { join } from 'node:path';
import autocannon from 'autocannon';
import { generatePairs } from '../dist/index.js';
import { fmt, report, runEnable, runIfMain, startSimulatorProcess, tempDir, writeShipment } from './lib.js';

const CONCURRENCY = 8;
const ROWS = 40_000;
const AUTOCANNON_SECONDS = 6;
const TARGET = 0.6;

async function loadGenerator(simulator, seed, seconds = AUTOCANNON_SECONDS) {
  const pairs = generatePairs(10_000_000, seed);
  const result = await autocannon({
    url: new URL('v1/ds100/enable/otp', simulator.baseUrl).href,
    method: 'PATCH',
    connections: CONCURRENCY,
    duration: seconds,
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

export async function main() {
  const { dir, cleanup } = await tempDir();
  const simulator = await startSimulatorProcess();
  try {
    const input = await writeShipment(join(dir, 'shipment.csv'), ROWS);
    await loadGenerator(simulator, 100, 2); // warms the simulator up (JIT); not counted
    const before = await loadGenerator(simulator, 101);
    const run = await runEnable({
      input,
      out: join(dir, 'results.csv'),
      simulator,
      dir,
      flags: ['--rate', '100000', '--concurrency', String(CONCURRENCY)],
    });
    const after = await loadGenerator(simulator, 102);
    const enabled = run.finished.byOutcome.enabled ?? 0;
    if (enabled !== ROWS) throw new Error(`expected ${ROWS} rows enabled, got ${enabled}`);
    const rowsPerSecond = ROWS / (run.wallMs / 1000);
    const inRun = ROWS / (run.finished.elapsedMs / 1000);
    const reference = (before + after) / 2;
    const ratio = rowsPerSecond / reference;
    return report({
      id: 'efficiency',
      title: '1. Client efficiency (enable vs autocannon, same simulator, same concurrency)',
      setup: `${ROWS.toLocaleString('en')} rows, concurrency ${CONCURRENCY}, --rate 100000; simulator without latency or limit; autocannon ${AUTOCANNON_SECONDS} s before and after`,
      checks: [
        {
          name: 'enable rows/s ÷ autocannon req/s',
          value: fmt(ratio, 2),
          target: `>= ${TARGET}`,
          pass: ratio >= TARGET,
        },
      ],
      notes: [
        `enable: ${fmt(rowsPerSecond, 0)} rows/s from spawn to exit (${fmt(inRun, 0)} rows/s inside the run), peak RSS ${fmt(run.maxRssMb, 0)} MB`,
        `autocannon: ${fmt(before, 0)} req/s before, ${fmt(after, 0)} req/s after`,
      ],
    });
  } finally {
    await simulator.stop();
    await cleanup();
  }
}

runIfMain(import.meta, main);
