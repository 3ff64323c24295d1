// 7. Limiter kinds: the adaptive pace against each kind of rate limit a tenant may have (token bucket,
// sliding window, fixed window, concurrency limit, a limit that changes mid-run) and against random
// 429s with no limit behind them. Each case runs `enable --rate <10x the limit> --concurrency 16` with
// the default (adaptive) pace against a fresh simulator process, and is held to: run time within 15%
// of the ideal (20% for the concurrency limit), fewer than 3% of requests answered 429, no failed row;
// against random 429s, throughput at least 80% of --rate.
//
// The ideal is the row count at the limit's long-run pace (N requests per W seconds, integrated over a
// schedule), not the fastest the limit allows: a bucket starts with a burst and a window limiter lets
// N through at once, so an even pace is the yardstick and the fastest is printed beside it.
//
//   node bench/limiters.bench.js                         every case
//   node bench/limiters.bench.js sliding-10s fixed-10s   only these
import { join } from 'node:path';
import { fmt, pct, report, runEnable, runIfMain, startSimulatorProcess, tempDir, writeShipment } from './lib.js';

const CONCURRENCY = 16;

/**
 * `limit`: the limit's pace in requests/s as `[{ atS, perSecond }]` (for the ideal); `fastestS`: the
 * earliest the last row can start under it (bursts and windows used to the full; against random
 * 429s, --rate), for the notes. `--max-runtime` stops a run at 4x its ideal.
 */
const CASES = [
  {
    id: 'bucket',
    models: 'bucket 50 per 1 s, burst 50',
    simulator: ['--limiter', 'bucket', '--limit', '50'],
    rows: 750,
    rate: 500,
    limit: [{ atS: 0, perSecond: 50 }],
    fastestS: (750 - 50) / 50,
  },
  {
    id: 'sliding-1s',
    models: 'sliding window, 50 per 1 s',
    simulator: ['--limiter', 'sliding', '--limit', '50', '--window', '1'],
    rows: 750,
    rate: 500,
    limit: [{ atS: 0, perSecond: 50 }],
    fastestS: (750 / 50 - 1) * 1,
  },
  {
    id: 'sliding-10s',
    models: 'sliding window, 250 per 10 s',
    simulator: ['--limiter', 'sliding', '--limit', '250', '--window', '10'],
    rows: 750,
    rate: 250,
    limit: [{ atS: 0, perSecond: 25 }],
    fastestS: (750 / 250 - 1) * 10,
  },
  {
    id: 'fixed-10s',
    models: 'fixed window, 250 per 10 s',
    simulator: ['--limiter', 'fixed', '--limit', '250', '--window', '10'],
    rows: 750,
    rate: 250,
    limit: [{ atS: 0, perSecond: 25 }],
    fastestS: (750 / 250 - 1) * 10,
  },
  {
    id: 'concurrency',
    models: '4 in flight, 100 ms per answer (40/s)',
    simulator: ['--limiter', 'concurrency', '--limit', '4', '--latency', '100'],
    rows: 600,
    rate: 400,
    limit: [{ atS: 0, perSecond: 40 }],
    timeFactor: 1.2,
    fastestS: 600 / 40,
  },
  {
    id: 'limit-doubles',
    models: 'bucket 50/s, 100/s from 10 s on',
    simulator: ['--limiter', 'bucket', '--limit-schedule', '0:50,10:100'],
    rows: 1500,
    rate: 1000,
    limit: [
      { atS: 0, perSecond: 50 },
      { atS: 10, perSecond: 100 },
    ],
    fastestS: 10 + (1500 - 50 - 500) / 100,
  },
  {
    id: 'limit-halves',
    models: 'bucket 100/s, 50/s from 10 s on',
    simulator: ['--limiter', 'bucket', '--limit-schedule', '0:100,10:50'],
    rows: 1500,
    rate: 1000,
    limit: [
      { atS: 0, perSecond: 100 },
      { atS: 10, perSecond: 50 },
    ],
    fastestS: 10 + (1500 - 100 - 1000) / 50,
  },
  {
    id: 'random-429',
    models: 'no limit, 3% of requests answered 429 at random (Retry-After: 1)',
    simulator: ['--random-429', '0.03'],
    rows: 1000,
    rate: 50,
    limit: [{ atS: 0, perSecond: 50 }],
    isNoise: true,
    fastestS: 1000 / 50,
  },
];

/** Seconds for `rows` at the pace of `steps` (`[{ atS, perSecond }]`, the last one lasting). */
export function idealSeconds(rows, steps) {
  let left = rows;
  for (const [index, { atS, perSecond }] of steps.entries()) {
    const until = steps[index + 1]?.atS ?? Infinity;
    if (left <= (until - atS) * perSecond) return atS + left / perSecond;
    left -= (until - atS) * perSecond;
  }
  throw new Error('unreachable: the last step lasts for ever');
}

async function runCase(test, dir) {
  const ideal = idealSeconds(test.rows, test.limit);
  const simulator = await startSimulatorProcess(test.simulator);
  try {
    const input = await writeShipment(join(dir, `${test.id}.csv`), test.rows, 7);
    const run = await runEnable({
      input,
      out: join(dir, `${test.id}.results.csv`),
      simulator,
      dir,
      // A pace that collapses would take minutes: stopped at 4x the ideal, it fails all the same.
      flags: [
        '--rate',
        String(test.rate),
        '--concurrency',
        String(CONCURRENCY),
        '--max-runtime',
        `${Math.ceil(4 * ideal)}s`,
      ],
    });
    const stats = await simulator.stats();
    const { finished } = run;
    return {
      test,
      ideal,
      seconds: finished.elapsedMs / 1000,
      requests: stats.requests,
      tooMany: stats.countsByStatus['429'] ?? 0,
      failed: finished.byOutcome.failed ?? 0,
      notAttempted: finished.byOutcome['not-attempted'] ?? 0,
      finalRate: finished.finalRate,
      // What the pace layer concluded about the tenant, in its own words (info lines); the first kept.
      concluded: run.logLines.filter((line) => /^the tenant (allows about|refuses every request)/.test(line.msg)),
      exitCode: run.exitCode,
    };
  } finally {
    await simulator.stop();
  }
}

/** `figure`, or what a run stopped by --max-runtime got done, which fails its checks all the same. */
const stoppedOr = (r, figure) =>
  r.notAttempted > 0
    ? `stopped by --max-runtime at ${fmt(r.seconds, 2)} s, ${r.test.rows - r.notAttempted} of ${r.test.rows} rows sent; ${figure}`
    : figure;

function checksOf(r) {
  const { test } = r;
  const share429 = r.tooMany / r.requests;
  const failed = {
    name: `${test.id}: failed rows`,
    value: r.notAttempted > 0 ? `${r.failed} (and ${r.notAttempted} not attempted)` : String(r.failed),
    target: '0',
    pass: r.failed === 0 && r.notAttempted === 0,
  };
  if (test.isNoise) {
    const throughput = (test.rows - r.notAttempted) / r.seconds;
    return [
      {
        name: `${test.id}: throughput`,
        value: stoppedOr(r, `${fmt(throughput)} rows/s = ${pct(throughput / test.rate)} of --rate ${test.rate}`),
        target: '>= 80% of --rate',
        pass: throughput >= 0.8 * test.rate,
      },
      failed,
    ];
  }
  const factor = test.timeFactor ?? 1.15;
  return [
    {
      name: `${test.id}: run time vs ideal`,
      value: stoppedOr(r, `${fmt(r.seconds, 2)} s = ${fmt(r.seconds / r.ideal, 3)} x ideal ${fmt(r.ideal)} s`),
      target: `<= ${factor} x ideal`,
      pass: r.seconds <= factor * r.ideal,
    },
    {
      name: `${test.id}: 429 answers`,
      value: `${r.tooMany} of ${r.requests} = ${pct(share429, 2)}`,
      target: '< 3%',
      pass: share429 < 0.03,
    },
    failed,
  ];
}

const noteOf = (r) =>
  `${r.test.id} (${r.test.models}; ${r.test.rows} rows, --rate ${r.test.rate}): ${fmt(r.seconds, 2)} s ` +
  `(ideal ${fmt(r.ideal)} s, fastest possible ${fmt(r.test.fastestS)} s), ` +
  `${r.tooMany} of ${r.requests} requests answered 429, ${r.concluded.length} conclusions` +
  (r.concluded[0] ? ` (first: "${r.concluded[0].msg}")` : '') +
  ', ' +
  `final pace ${fmt(r.finalRate)}/s, exit ${r.exitCode}`;

export async function main(wanted = process.argv.slice(2)) {
  const unknown = wanted.filter((id) => !CASES.some((test) => test.id === id));
  if (unknown.length > 0) {
    throw new Error(`unknown case ${unknown.join(', ')}; the cases are ${CASES.map((test) => test.id).join(', ')}`);
  }
  const selected = CASES.filter((test) => wanted.length === 0 || wanted.includes(test.id));
  const { dir, cleanup } = await tempDir();
  try {
    const results = [];
    for (const test of selected) results.push(await runCase(test, dir));
    return report({
      id: 'limiters',
      title: '7. Limiter kinds (--rate 10x the limit, adaptive pace)',
      setup:
        `${selected.map((test) => test.id).join(', ')}; each against a fresh simulator, enable --rate 10x the limit ` +
        `--concurrency ${CONCURRENCY}, default adaptive pace; ideal = rows / (N / W) at the limit's long-run pace, ` +
        "integrated over a schedule (a bucket's burst and a window's first N make the fastest possible run " +
        'shorter, given in the notes); random 429s: --rate 50, no limit',
      checks: results.flatMap(checksOf),
      notes: results.map(noteOf),
    });
  } finally {
    await cleanup();
  }
}

runIfMain(import.meta, main);
