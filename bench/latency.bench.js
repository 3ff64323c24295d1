// 4. Latency hiding: with 100 ms of simulated latency and enough concurrency, throughput should be
// at least 95% of min(rate, concurrency / latency).
import { join } from 'node:path';
import { fmt, pct, report, runEnable, runIfMain, startSimulatorProcess, tempDir, writeShipment } from './lib.js';

const LATENCY_MS = 100;
const CONCURRENCY = 32;
const RATE = 1000;
const SECONDS = 12;

export async function main() {
  const { dir, cleanup } = await tempDir();
  const simulator = await startSimulatorProcess(['--latency', String(LATENCY_MS)]);
  try {
    const bound = Math.min(RATE, CONCURRENCY / (LATENCY_MS / 1000));
    const rows = Math.round(bound * SECONDS);
    const input = await writeShipment(join(dir, 'latency.csv'), rows, 4);
    const run = await runEnable({
      input,
      out: join(dir, 'latency.results.csv'),
      simulator,
      dir,
      flags: ['--rate', String(RATE), '--concurrency', String(CONCURRENCY)],
    });
    const throughput = rows / (run.finished.elapsedMs / 1000);
    return report({
      id: 'latency',
      title: '4. Latency hiding (100 ms per answer)',
      setup: `${rows} rows, latency ${LATENCY_MS} ms, concurrency ${CONCURRENCY}, --rate ${RATE}: bound = min(${RATE}, ${CONCURRENCY} / ${LATENCY_MS / 1000} s) = ${bound}/s`,
      checks: [
        {
          name: 'rows/s over the whole run',
          value: `${fmt(throughput)}/s = ${pct(throughput / bound)} of the bound`,
          target: '>= 95%',
          pass: throughput >= 0.95 * bound,
        },
      ],
      notes: [`failed rows: ${run.finished.byOutcome.failed ?? 0}`],
    });
  } finally {
    await simulator.stop();
    await cleanup();
  }
}

runIfMain(import.meta, main);
