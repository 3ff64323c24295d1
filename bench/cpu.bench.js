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
import { fmt, report, runEnable, runIfMain, startSimulatorProcess, tempDir, writeShipment } from './lib.js';

const ROWS = Number(process.env.BENCH_CPU_ROWS ?? 3000);
const FLAGS = ['--rate', '100', '--concurrency', '32'];
// At 100 rows/s, a tool that needs more than a second of CPU per 1,000 rows would use a tenth of a
// core for a job whose limit is the tenant's; far below that, CPU is no concern of a user's.
const LIMIT_MS = 1000;

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
        .map((r) => `${fmt(r.cpuPerThousand, 0)} ms (${fmt(r.rate, 1)} rows/s, peak RSS ${fmt(r.rss, 0)} MB)`)
        .join(', ');
    return report({
      id: 'cpu',
      title: '6. CPU at a realistic pace (--rate 100, 150 ms per answer)',
      setup: `${ROWS.toLocaleString('en')} rows, enable ${FLAGS.join(' ')}, simulator with 150 ms latency; CPU time (user + system) of the enable process, start-up included, per 1,000 rows; best of 2${before ? ', alternating with the checkout in BENCH_BEFORE' : ''}`,
      checks: [
        {
          name: 'CPU per 1,000 rows',
          value: `${fmt(now.cpuPerThousand, 0)} ms`,
          target: `< ${LIMIT_MS} ms`,
          pass: now.cpuPerThousand < LIMIT_MS,
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
