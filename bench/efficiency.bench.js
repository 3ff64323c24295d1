// 1. Client efficiency: rows/s of a full `enable` run (CSV in, results out) divided by the
// requests/s autocannon gets from the same simulator at the same concurrency.
//
// The simulator runs in its own process (no latency, no limit). autocannon runs in this process with
// the same PATCH, headers and a distinct pair per request (so the simulator does the same work for
// both); `enable` runs as a child process, timed from spawn to exit (node's start-up included).
// After a warm-up of both, autocannon and enable alternate (A E A E A), so that a change in the
// machine's load shows up in the spread of the figures, which are all printed.
//
// BENCH_BEFORE=/path/to/other/checkout (built, with its own node_modules) also runs that checkout's
// enable against the same simulator after each of this one's (A E B A E B A), as a yardstick: the
// ratio depends on how fast the simulator answers on the machine at hand, and another design's
// figure from the same run says what the machine allows.
import { join } from 'node:path';
import {
  autocannonRate,
  fmt,
  report,
  runEnable,
  runIfMain,
  startSimulatorProcess,
  tempDir,
  writeShipment,
} from './lib.js';

const CONCURRENCY = 8;
const ROWS = 40_000;
const AUTOCANNON_SECONDS = 6;
const TARGET = 0.4;

export async function main() {
  const { dir, cleanup } = await tempDir();
  const simulator = await startSimulatorProcess();
  try {
    const input = await writeShipment(join(dir, 'shipment.csv'), ROWS);
    const warmInput = await writeShipment(join(dir, 'warm.csv'), 5000, 99);
    const flags = ['--rate', '100000', '--concurrency', String(CONCURRENCY)];
    // Warm the simulator up (JIT, heap) with both clients; not counted.
    await autocannonRate(simulator, { connections: CONCURRENCY, seconds: 3, seed: 100 });
    await runEnable({ input: warmInput, out: join(dir, 'warm.results.csv'), simulator, dir, flags });
    // Then alternate: autocannon, enable, autocannon, enable, autocannon.
    const loadGenerator = (seed) =>
      autocannonRate(simulator, { connections: CONCURRENCY, seconds: AUTOCANNON_SECONDS, seed });
    const reference = [await loadGenerator(101)];
    const runs = [];
    const before = process.env.BENCH_BEFORE;
    const beforeRuns = [];
    for (let round = 0; round < 2; round++) {
      runs.push(await runEnable({ input, out: join(dir, 'results.csv'), simulator, dir, flags }));
      if (before) {
        const bin = join(before, 'bin', 'ds100-bulk.js');
        beforeRuns.push(await runEnable({ input, out: join(dir, 'before.csv'), simulator, dir, flags, bin }));
      }
      reference.push(await loadGenerator(102 + round));
    }
    const run = runs.toSorted((a, b) => a.wallMs - b.wallMs)[0];
    for (const { finished } of runs) {
      if ((finished.byOutcome.enabled ?? 0) !== ROWS) throw new Error(`expected ${ROWS} rows enabled`);
    }
    // The best of each (the least disturbed by the rest of the machine), compared.
    const rowsPerSecond = ROWS / (run.wallMs / 1000);
    const inRun = ROWS / (run.finished.elapsedMs / 1000);
    const best = Math.max(...reference);
    const ratio = rowsPerSecond / best;
    return report({
      id: 'efficiency',
      title: '1. Client efficiency (enable vs autocannon, same simulator, same concurrency)',
      setup: `${ROWS.toLocaleString('en')} rows, concurrency ${CONCURRENCY}, --rate 100000; simulator without latency or limit, warmed up; autocannon ${AUTOCANNON_SECONDS} s x 3 alternating with enable x 2: best enable run ÷ best autocannon run`,
      checks: [
        {
          name: 'enable rows/s ÷ autocannon req/s',
          value: fmt(ratio, 2),
          target: `>= ${TARGET}`,
          pass: ratio >= TARGET,
        },
      ],
      notes: [
        `enable: ${runs.map((r) => fmt(ROWS / (r.wallMs / 1000), 0)).join(' and ')} rows/s from spawn to exit (best run: ${fmt(inRun, 0)} rows/s inside the run, ${fmt((run.cpuMs * 1000) / ROWS, 0)} µs CPU/row, peak RSS ${fmt(run.maxRssMb, 0)} MB)`,
        `autocannon: ${reference.map((r) => fmt(r, 0)).join(', ')} req/s in order`,
        ...(before
          ? [
              `${before}: ${beforeRuns.map((r) => fmt(ROWS / (r.wallMs / 1000), 0)).join(' and ')} rows/s, ${fmt((Math.min(...beforeRuns.map((r) => r.cpuMs)) * 1000) / ROWS, 0)} µs CPU/row: ratio ${fmt(ROWS / (Math.min(...beforeRuns.map((r) => r.wallMs)) / 1000) / best, 2)}`,
            ]
          : []),
      ],
    });
  } finally {
    await simulator.stop();
    await cleanup();
  }
}

runIfMain(import.meta, main);
