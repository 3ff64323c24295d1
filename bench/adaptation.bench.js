// 3. Adaptation: against a token bucket of L requests/s, `enable --rate 3L` must settle below the
// limit by itself: finish within 15% of the ideal time (rows / L), 429s under 5% of requests, and no
// row failed (every 429 is retried).
import { join } from 'node:path';
import { fmt, pct, report, runEnable, runIfMain, startSimulatorProcess, tempDir, writeShipment } from './lib.js';

const LIMIT = 200;
const ROWS = 4000;
const CONCURRENCY = 8;

export async function main() {
  const { dir, cleanup } = await tempDir();
  const simulator = await startSimulatorProcess(['--rate-limit', String(LIMIT)]);
  try {
    const input = await writeShipment(join(dir, 'adaptation.csv'), ROWS, 3);
    const run = await runEnable({
      input,
      out: join(dir, 'adaptation.results.csv'),
      simulator,
      dir,
      flags: ['--rate', String(3 * LIMIT), '--concurrency', String(CONCURRENCY)],
    });
    const stats = await simulator.stats();
    const tooMany = stats.countsByStatus['429'] ?? 0;
    const share429 = tooMany / stats.requests;
    const seconds = run.finished.elapsedMs / 1000;
    const ideal = ROWS / LIMIT;
    const failed = run.finished.byOutcome.failed ?? 0;
    // What the pace layer concluded about the tenant, in its own words (info lines).
    const concluded = run.logLines.filter((line) => /^the tenant (allows about|refuses every request)/.test(line.msg));
    return report({
      id: 'adaptation',
      title: '3. Adaptation (--rate 3x the tenant limit)',
      setup: `${ROWS} rows, tenant limit ${LIMIT}/s (burst ${LIMIT}), --rate ${3 * LIMIT}, concurrency ${CONCURRENCY}; ideal time = rows / limit = ${fmt(ideal)} s`,
      checks: [
        {
          name: 'run time vs ideal',
          value: `${fmt(seconds, 2)} s = ${fmt(seconds / ideal, 3)} x ideal`,
          target: '<= 1.15 x ideal',
          pass: seconds <= 1.15 * ideal,
        },
        {
          name: '429 answers',
          value: `${tooMany} of ${stats.requests} = ${pct(share429, 2)}`,
          target: '< 5%',
          pass: share429 < 0.05,
        },
        { name: 'failed rows', value: String(failed), target: '0', pass: failed === 0 },
      ],
      notes: [
        `the pace layer concluded ${concluded.length} times; final rate ${fmt(run.finished.finalRate)}/s`,
        ...concluded.slice(0, 3).map((line) => `log: "${line.msg}"`),
      ],
    });
  } finally {
    await simulator.stop();
    await cleanup();
  }
}

runIfMain(import.meta, main);
