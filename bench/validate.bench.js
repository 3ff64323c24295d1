// Validation speed and memory: `ds100-bulk validate` on generated files of 100,000 and 1,000,000 rows,
// next to csv-parse's own raw parse of the same file (the floor: validation reads the file twice, so
// about twice that is the best it can do). Peak RSS of `validate` under 150 MB at 100,000 rows and
// under 300 MB at 1,000,000 (the pre-scan keeps a map entry per distinct serial and per user).
// `validate --out` is measured too, for the notes. Run after `npm run build`:
//   node bench/validate.bench.js                  (BENCH_ROWS=20000,200000 for other sizes)
// Each measurement runs in its own process; wall time is from spawn to exit (Node's start-up
// included); peak RSS comes from /usr/bin/time when present, otherwise from the child's own
// process.resourceUsage().maxRSS.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { generatePairs } from '../dist/simulator/index.js';
import { ROOT, fmt, report, runIfMain, tempDir } from './lib.js';

const TIME = '/usr/bin/time';
const SIZES = (process.env.BENCH_ROWS ?? '100000,1000000').split(',').map(Number);
/** Peak RSS targets: 150 MB up to 100,000 rows, 300 MB above. */
const rssTargetMb = (rows) => (rows <= 100_000 ? 150 : 300);

async function writeShipment(file, rows) {
  const out = createWriteStream(file);
  out.write('deviceSerialNumber,userId,site,ticket\n');
  let index = 0;
  for (const { deviceSerialNumber, userId } of generatePairs(rows, 42)) {
    const line = `${deviceSerialNumber},${userId},Site ${index % 97},CHG-${100000 + index}\n`;
    index++;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await finished(out);
}

/** Runs `node args…` in a child; returns wall seconds and peak RSS in MB; throws unless it exits 0. */
function measure(name, args) {
  const useTime = existsSync(TIME);
  const command = useTime ? TIME : process.execPath;
  const argv = useTime ? ['-f', 'peak-rss-kb=%M', process.execPath, ...args] : args;
  const started = performance.now();
  const result = spawnSync(command, argv, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`${name} exited ${result.status}: ${result.stderr}`);
  const fromTime = /peak-rss-kb=(\d+)/.exec(result.stderr ?? '');
  const fromChild = /maxRSS=(\d+)/.exec(result.stdout ?? '');
  return { seconds, rssMb: Number(fromTime?.[1] ?? fromChild?.[1] ?? NaN) / 1024 };
}

const RAW_PARSE = `
  import { createReadStream } from 'node:fs';
  import { parse } from 'csv-parse';
  let records = 0;
  for await (const record of createReadStream(process.argv[1]).pipe(parse())) records++;
  console.log('records=' + records + ' maxRSS=' + process.resourceUsage().maxRSS);
`;

async function measureSize(rows, dir) {
  const input = join(dir, `shipment-${rows}.csv`);
  await writeShipment(input, rows);
  const { size } = await stat(input);
  const bin = join(ROOT, 'bin', 'ds100-bulk.js');
  return {
    rows,
    megabytes: size / 1e6,
    raw: measure('csv-parse raw parse', ['--input-type=module', '-e', RAW_PARSE, input]),
    validate: measure('validate', [bin, 'validate', input]),
    withOut: measure('validate --out', [bin, 'validate', input, '--out', join(dir, `report-${rows}.csv`)]),
  };
}

const figure = ({ seconds, rssMb }) => `${fmt(seconds, 2)} s, ${fmt(rssMb, 0)} MB`;

export async function main() {
  const { dir, cleanup } = await tempDir('ds100-bench-validate-');
  try {
    const results = [];
    for (const rows of SIZES) results.push(await measureSize(rows, dir));
    return report({
      id: 'validate',
      title: 'Validation speed and memory',
      setup:
        `ds100-bulk validate on generated files (${SIZES.map((rows) => rows.toLocaleString('en')).join(' and ')} ` +
        'rows of deviceSerialNumber,userId,site,ticket: distinct 9-digit serials, random user IDs), each run in ' +
        'its own process, wall time from spawn to exit, peak RSS from /usr/bin/time',
      checks: results.map(({ rows, validate }) => ({
        name: `validate peak RSS, ${rows.toLocaleString('en')} rows`,
        value: `${fmt(validate.rssMb, 0)} MB`,
        target: `< ${rssTargetMb(rows)} MB`,
        pass: validate.rssMb < rssTargetMb(rows),
      })),
      notes: results.map(
        ({ rows, megabytes, raw, validate, withOut }) =>
          `${rows.toLocaleString('en')} rows (${fmt(megabytes)} MB): validate ${figure(validate)} ` +
          `(${fmt(validate.seconds / raw.seconds, 2)}× csv-parse's raw parse, ${Math.round(rows / validate.seconds).toLocaleString('en')} rows/s); ` +
          `validate --out ${figure(withOut)}; csv-parse raw parse ${figure(raw)}`,
      ),
    });
  } finally {
    await cleanup();
  }
}

runIfMain(import.meta, main);
