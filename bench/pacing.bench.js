// 2. Pacing: against a simulator whose token bucket allows R requests/s (burst: one second of it),
// `enable --rate R` should achieve at least 97% of R with fewer than 0.5% of requests answered 429.
//
// The achieved rate is measured where it matters, at the tenant: the simulator's count of requests
// over the time between the first and the last arrival (GET /__simulator/stats). enable runs as a
// child process with its default settings (adaptation on) apart from --rate and --concurrency.
import { join } from 'node:path';
import { fmt, pct, report, runEnable, runIfMain, startSimulatorProcess, tempDir, writeShipment } from './lib.js';

const SECONDS = 15;
const CONCURRENCY = 16;

async function pace(rate, dir) {
  const simulator = await startSimulatorProcess(['--rate-limit', String(rate)]);
  try {
    const rows = rate * SECONDS;
    const input = await writeShipment(join(dir, `pacing-${rate}.csv`), rows, rate);
    const run = await runEnable({
      input,
      out: join(dir, `pacing-${rate}.results.csv`),
      simulator,
      dir,
      flags: ['--rate', String(rate), '--concurrency', String(CONCURRENCY)],
    });
    const stats = await simulator.stats();
    const achieved = (stats.requests - 1) / (stats.spanMs / 1000);
    const tooMany = stats.countsByStatus['429'] ?? 0;
    return {
      rate,
      rows,
      achieved,
      share429: tooMany / stats.requests,
      tooMany,
      requests: stats.requests,
      failed: run.finished.byOutcome.failed ?? 0,
    };
  } finally {
    await simulator.stop();
  }
}

export async function main() {
  const { dir, cleanup } = await tempDir();
  try {
    const results = [];
    for (const rate of [50, 500]) results.push(await pace(rate, dir));
    return report({
      id: 'pacing',
      title: '2. Pacing at the tenant limit (--rate R against a token bucket of R/s)',
      setup: `R = 50 and R = 500, ${SECONDS} s of rows each, concurrency ${CONCURRENCY}, simulator burst = R; rate measured at the simulator (first to last arrival)`,
      checks: results.flatMap((r) => [
        {
          name: `R=${r.rate}: achieved rate`,
          value: `${fmt(r.achieved)}/s = ${pct(r.achieved / r.rate)} of R`,
          target: '>= 97% of R',
          pass: r.achieved >= 0.97 * r.rate,
        },
        {
          name: `R=${r.rate}: 429 answers`,
          value: `${r.tooMany} of ${r.requests} = ${pct(r.share429, 2)}`,
          target: '< 0.5%',
          pass: r.share429 < 0.005,
        },
      ]),
      notes: results.map((r) => `R=${r.rate}: ${r.rows} rows, ${r.failed} failed`),
    });
  } finally {
    await cleanup();
  }
}

runIfMain(import.meta, main);
