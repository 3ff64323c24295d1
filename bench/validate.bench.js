// Validation speed: `ds100-bulk validate` on a generated 1,000,000-row file, next to csv-parse's
// own raw parsing of the same file. Run after `npm run build`:
//   node bench/validate.bench.js            (BENCH_ROWS=200000 for a quicker run)
// Each measurement runs in its own process; peak RSS comes from /usr/bin/time when present,
// otherwise from the child's own process.resourceUsage().maxRSS.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { generatePairs } from '../dist/simulator/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TIME = '/usr/bin/time';

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

/** Runs `node args…` in a child; returns wall seconds, peak RSS in MB and the exit code. */
function measure(args) {
  const useTime = existsSync(TIME);
  const command = useTime ? TIME : process.execPath;
  const argv = useTime ? ['-f', 'peak-rss-kb=%M', process.execPath, ...args] : args;
  const started = performance.now();
  const result = spawnSync(command, argv, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - started) / 1000;
  const fromTime = /peak-rss-kb=(\d+)/.exec(result.stderr ?? '');
  const fromChild = /maxRSS=(\d+)/.exec(result.stdout ?? '');
  const rssKb = Number(fromTime?.[1] ?? fromChild?.[1] ?? NaN);
  return { seconds, rssMb: rssKb / 1024, code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const RAW_PARSE = `
  import { createReadStream } from 'node:fs';
  import { parse } from 'csv-parse';
  let records = 0;
  const parser = createReadStream(process.argv[1]).pipe(parse());
  parser.on('data', () => records++);
  await new Promise((resolve, reject) => { parser.on('end', resolve); parser.on('error', reject); });
  console.log('records=' + records + ' maxRSS=' + process.resourceUsage().maxRSS);
`;

export async function main({ rows = Number(process.env.BENCH_ROWS ?? 1_000_000) } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'ds100-bench-validate-'));
  try {
    const input = join(dir, 'shipment.csv');
    await writeShipment(input, rows);
    const { size } = await stat(input);
    const bin = join(root, 'bin', 'ds100-bulk.js');
    const runs = [
      ['csv-parse raw parse (default options)', ['--input-type=module', '-e', RAW_PARSE, input]],
      ['ds100-bulk validate (summary only)', [bin, 'validate', input]],
      ['ds100-bulk validate --out report.csv', [bin, 'validate', input, '--out', join(dir, 'report.csv')]],
    ];
    const results = [];
    for (const [name, args] of runs) {
      const result = measure(args);
      if (result.code !== 0) throw new Error(`${name} exited ${result.code}: ${result.stderr}`);
      results.push({ name, ...result, rowsPerSecond: rows / result.seconds });
    }
    const raw = results[0];
    console.log(
      `validate benchmark: ${rows.toLocaleString('en')} rows, ${(size / 1e6).toFixed(1)} MB, node ${process.version}`,
    );
    console.log('| run | seconds | rows/s | peak RSS | vs csv-parse |');
    console.log('|---|---:|---:|---:|---:|');
    for (const result of results) {
      console.log(
        `| ${result.name} | ${result.seconds.toFixed(2)} | ${Math.round(result.rowsPerSecond).toLocaleString('en')} | ` +
          `${result.rssMb.toFixed(0)} MB | ${(result.rowsPerSecond / raw.rowsPerSecond).toFixed(2)} |`,
      );
    }
    return results.map(({ name, seconds, rowsPerSecond, rssMb }) => ({ name, seconds, rowsPerSecond, rssMb }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
