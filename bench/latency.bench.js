// 4. Latency hiding: with 100 ms of simulated latency and enough concurrency, throughput should be
// at least 95% of min(rate, concurrency / latency).
import { join } from 'node:path';
import {
  autocannonRate,
  fmt,
  pct,
  report,
  runEnable,
  runIfMain,
  startSimulatorProcess,
  tempDir,
  writeShipment,
} from './lib.js';

const LATENCY_MS = 100;
const SECONDS = 12;
// Two ways to be bound: by the rate, with concurrency to spare (the configuration an administrator
// should pick), and by concurrency / latency itself (sensitive to how late the simulator's 100 ms
// timer fires on a busy machine: every millisecond late is 1% off the bound).
const CASES = [
  { name: 'rate-bound', rate: 250, concurrency: 40 },
  { name: 'concurrency-bound', rate: 1000, concurrency: 32 },
];

async function measure({ name, rate, concurrency }, dir) {
  const simulator = await startSimulatorProcess(['--latency', String(LATENCY_MS)]);
  try {
    const bound = Math.min(rate, concurrency / (LATENCY_MS / 1000));
    const rows = Math.round(bound * SECONDS);
    const input = await writeShipment(join(dir, `latency-${name}.csv`), rows, 4);
    // The yardstick first (it also warms the simulator up): autocannon, paced and as concurrent as
    // enable, sending as many requests. What it reaches shows what this simulator, with its timer
    // firing a little late, and this machine allow at that moment.
    const reference = await autocannonRate(simulator, {
      connections: concurrency,
      amount: rows,
      overallRate: rate,
      seed: 40,
    });
    const run = await runEnable({
      input,
      out: join(dir, `latency-${name}.results.csv`),
      simulator,
      dir,
      flags: ['--rate', String(rate), '--concurrency', String(concurrency)],
    });
    const throughput = rows / (run.finished.elapsedMs / 1000);
    return {
      check: {
        name: `${name}: --rate ${rate} --concurrency ${concurrency}, bound ${bound}/s`,
        value: `${fmt(throughput)} rows/s = ${pct(throughput / bound)} of the bound`,
        target: '>= 95%',
        pass: throughput >= 0.95 * bound,
      },
      note: `${name}: ${rows} rows, ${run.finished.byOutcome.failed ?? 0} failed; autocannon on the same simulator: ${fmt(reference)} req/s = ${pct(reference / bound)} of the bound`,
    };
  } finally {
    await simulator.stop();
  }
}

export async function main() {
  const { dir, cleanup } = await tempDir();
  try {
    const results = [];
    for (const testCase of CASES) results.push(await measure(testCase, dir));
    return report({
      id: 'latency',
      title: '4. Latency hiding (100 ms per answer)',
      setup: `latency ${LATENCY_MS} ms counted from each request's arrival, ${SECONDS} s of rows per case; bound = min(rate, concurrency / latency); rows/s over the whole run`,
      checks: results.map((r) => r.check),
      notes: results.map((r) => r.note),
    });
  } finally {
    await cleanup();
  }
}

runIfMain(import.meta, main);
