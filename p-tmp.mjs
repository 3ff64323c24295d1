import { createReadStream } from 'node:fs';
import { Parser } from 'csv-parse';
class LP extends Parser {
  push(r, e) {
    return r === null ? super.push(null) : super.push({ record: r, lines: this.info.lines });
  }
}
const opts = JSON.parse(process.argv[2]);
const t = performance.now();
let n = 0,
  last = 0;
const p = createReadStream('/tmp/v4/1m.csv', { highWaterMark: 1 << 16 }).pipe(
  process.argv[3] === 'lp' ? new LP(opts) : new Parser(opts),
);
if (process.argv[4] === 'iter')
  for await (const x of p) {
    n++;
  }
else {
  p.on('data', () => n++);
  await new Promise((r) => p.on('end', r));
}
const s = (performance.now() - t) / 1000;
console.log(process.argv.slice(2).join(' '), n, s.toFixed(2), Math.round(n / s), 'rows/s');
