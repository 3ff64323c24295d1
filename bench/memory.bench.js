// 5. Memory and scaling: `enable` on 100,000 and 1,000,000 rows against the fast simulator (no
// latency, no limit, stateless so that its own memory stays flat). Peak RSS of the enable process
// under 150 MB and 300 MB (a shipment is 10^3 to 10^5 devices; a million rows is the scaling check),
// and the larger run's time per row within 10% of the smaller's (linear cost).
//
// Peak RSS is the child's own `process.resourceUsage().maxRSS`; time per row is the run's elapsed
// time (its "run finished" log line) over its rows, so node's start-up does not weigh on the small
// run. `--profile` adds `node --cpu-prof` to the large run (profile in bench/out/).
// BENCH_LARGE_ROWS=200000 shortens the large run for a quick look.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, fmt, pct, report, runEnable, runIfMain, startSimulatorProcess, tempDir, writeShipment } from './lib.js';

const SMALL = 100_000;
const LARGE = Number(process.env.BENCH_LARGE_ROWS ?? 1_000_000);
const CONCURRENCY = 8;
const RSS_LIMIT_MB = { [SMALL]: 150, [LARGE]: 300 };

async function measure(rows, dir, simulator, nodeFlags = []) {
  const input = await writeShipment(join(dir, `memory-${rows}.csv`), rows, 5);
  const run = await runEnable({
    input,
    out: join(dir, `memory-${rows}.results.csv`),
    simulator,
    dir,
    nodeFlags,
    flags: ['--rate', '100000', '--concurrency', String(CONCURRENCY)],
  });
  const enabled = run.finished.byOutcome.enabled ?? 0;
  if (enabled !== rows) throw new Error(`expected ${rows} rows enabled, got ${enabled}`);
  return {
    rows,
    rssMb: run.maxRssMb,
    usPerRow: (run.finished.elapsedMs * 1000) / rows,
    cpuUsPerRow: (run.cpuMs * 1000) / rows,
  };
}

const describe = (r) =>
  `${r.rows.toLocaleString('en')} rows: peak RSS ${fmt(r.rssMb, 0)} MB, ${fmt(r.usPerRow, 0)} µs/row elapsed (${fmt(1e6 / r.usPerRow, 0)} rows/s), ${fmt(r.cpuUsPerRow, 0)} µs/row CPU`;

export async function main() {
  const profile = process.argv.includes('--profile');
  const { dir, cleanup } = await tempDir();
  const simulator = await startSimulatorProcess();
  try {
    const profileDir = join(ROOT, 'bench', 'out');
    if (profile) await mkdir(profileDir, { recursive: true });
    const small = await measure(SMALL, dir, simulator);
    const large = await measure(LARGE, dir, simulator, profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []);
    const growth = large.usPerRow / small.usPerRow;
    return report({
      id: 'memory',
      title: `5. Memory and scaling (${SMALL.toLocaleString('en')} vs ${LARGE.toLocaleString('en')} rows)`,
      setup: `fast simulator (no latency, no limit, stateless), --rate 100000, concurrency ${CONCURRENCY}`,
      checks: [
        {
          name: `peak RSS, ${SMALL.toLocaleString('en')} rows`,
          value: `${fmt(small.rssMb, 0)} MB`,
          target: `< ${RSS_LIMIT_MB[SMALL]} MB`,
          pass: small.rssMb < RSS_LIMIT_MB[SMALL],
        },
        {
          name: `peak RSS, ${LARGE.toLocaleString('en')} rows`,
          value: `${fmt(large.rssMb, 0)} MB`,
          target: `< ${RSS_LIMIT_MB[LARGE]} MB`,
          pass: large.rssMb < RSS_LIMIT_MB[LARGE],
        },
        {
          name: 'time per row, large ÷ small',
          value: `${fmt(growth, 3)} (${pct(growth - 1)})`,
          target: '<= 1.10',
          pass: growth <= 1.1,
        },
      ],
      notes: [describe(small), describe(large)],
    });
  } finally {
    await simulator.stop();
    await cleanup();
  }
}

runIfMain(import.meta, main);
