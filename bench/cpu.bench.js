// 6. CPU at a realistic pace: what a run costs the machine it runs on, at a pace a real tenant
// allows. `enable --rate 100 --concurrency 32` against the simulator with 150 ms of latency per
// answer; CPU time (user + system) of the enable process per 1,000 rows, node's start-up included.
//
// BENCH_BEFORE=/path/to/other/checkout (built, with its own node_modules) also runs that checkout's
// bin against the same simulator and input, alternating with this one (A B A B), so that both
// figures come from one run:
//   git worktree add --detach /tmp/before 53428f3 && (cd /tmp/before && npm ci)
//   BENCH_BEFORE=/tmp/before node bench/cpu.bench.js
import { join } from 'node:path';
import { fmt, pct, report, runEnable, runIfMain, startSimulatorProcess, tempDir, writeShipment } from './lib.js';

const ROWS = Number(process.env.BENCH_CPU_ROWS ?? 3000);
const FLAGS = ['--rate', '100', '--concurrency', '32'];
// The share of one core the run keeps busy while it sends at this pace. The job's limit is the
// tenant's, so the tool should leave the machine nearly idle: a quarter of a core would say that
// something spins.
const MAX_CORE_SHARE = 0.25;

export async function main() {
  const { dir, cleanup } = await tempDir();
  const simulator = await startSimulatorProcess(['--latency', '150']);
  const before = process.env.BENCH_BEFORE;
  try {
    const input = await writeShipment(join(dir, 'shipment.csv'), ROWS, 7);
    const measure = async (bin) => {
      const run = await runEnable({ input, out: join(dir, 'results.csv'), simulator, dir, flags: FLAGS, bin });
      if ((run.finished.byOutcome.enabled ?? 0) !== ROWS) throw new Error(`expected ${ROWS} rows enabled`);
      return {
        cpuPerThousand: (run.cpuMs * 1000) / ROWS,
        coreShare: run.cpuMs / run.wallMs,
        rate: ROWS / (run.finished.elapsedMs / 1000),
        rss: run.maxRssMb,
      };
    };
    const after = [];
    const old = [];
    for (let round = 0; round < 2; round++) {
      after.push(await measure(undefined));
      if (before) old.push(await measure(join(before, 'bin', 'ds100-bulk.js')));
    }
    const best = (runs) => runs.toSorted((a, b) => a.cpuPerThousand - b.cpuPerThousand)[0];
    const now = best(after);
    const then = before ? best(old) : undefined;
    const describe = (runs) =>
      runs
        .map(
          (r) =>
            `${fmt(r.cpuPerThousand, 0)} ms, ${pct(r.coreShare)} of a core (${fmt(r.rate, 1)} rows/s, peak RSS ${fmt(r.rss, 0)} MB)`,
        )
        .join(', ');
    return report({
      id: 'cpu',
      title: '6. CPU at a realistic pace (--rate 100, 150 ms per answer)',
      setup: `${ROWS.toLocaleString('en')} rows, enable ${FLAGS.join(' ')}, simulator with 150 ms latency; CPU time (user + system) of the enable process, start-up included, per 1,000 rows; best of 2${before ? ', alternating with the checkout in BENCH_BEFORE' : ''}`,
      checks: [
        {
          name: 'CPU per 1,000 rows, and the share of one core it kept busy',
          value: `${fmt(now.cpuPerThousand, 0)} ms, ${pct(now.coreShare)} of a core`,
          target: `< ${pct(MAX_CORE_SHARE, 0)} of a core`,
          pass: now.coreShare < MAX_CORE_SHARE,
        },
      ],
      notes: [
        `this checkout: ${describe(after)}`,
        ...(then
          ? [
              `before (${before}): ${describe(old)}`,
              `after ÷ before: ${fmt(now.cpuPerThousand / then.cpuPerThousand, 2)}`,
            ]
          : ['set BENCH_BEFORE to a built checkout of another commit to compare']),
      ],
    });
  } finally {
    await simulator.stop();
    await cleanup();
  }
}

runIfMain(import.meta, main);
