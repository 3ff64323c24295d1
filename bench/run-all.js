// `npm run bench`: runs every benchmark in its own process, one after the other (they would disturb
// each other's figures in parallel), prints their output, and rewrites the generated sections of
// BENCHMARKS.md with the figures, the date, the machine and the command.
//
//   node bench/run-all.js                  all of them
//   node bench/run-all.js pacing latency   only these (their sections are updated, the rest kept)
//
// Each benchmark script prints a `RESULT {json}` line (see report() in lib.js); a script without one
// would have its output kept verbatim instead.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, machine } from './lib.js';

const BENCHMARKS = [
  { id: 'efficiency', file: 'efficiency.bench.js' },
  { id: 'pacing', file: 'pacing.bench.js' },
  { id: 'adaptation', file: 'adaptation.bench.js' },
  { id: 'latency', file: 'latency.bench.js' },
  { id: 'memory', file: 'memory.bench.js' },
  { id: 'cpu', file: 'cpu.bench.js' },
  { id: 'validate', file: 'validate.bench.js' },
  { id: 'limiters', file: 'limiters.bench.js' },
];
const MARKDOWN = join(ROOT, 'BENCHMARKS.md');

async function runOne({ id, file }) {
  const started = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'bench', file)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const output = [];
  let result;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('RESULT ')) {
      result = JSON.parse(line.slice('RESULT '.length));
    } else {
      output.push(line);
      console.log(line);
    }
  }
  const exitCode = await new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  return { id, file, result, output, exitCode, seconds: (performance.now() - started) / 1000 };
}

const escapeCell = (text) => String(text).replaceAll('|', '\\|');

function renderSection(run) {
  const lines = [];
  if (run.result) {
    const { setup, checks, notes } = run.result;
    lines.push(`Setup: ${setup}.`, '', '| check | figure | target | result |', '|---|---|---|---|');
    for (const check of checks) {
      const cells = [check.name, check.value, check.target, check.pass ? 'PASS' : '**FAIL**'];
      lines.push(`| ${cells.map(escapeCell).join(' | ')} |`);
    }
    if (notes.length > 0) lines.push('', ...notes.map((note) => `- ${note}`));
  } else {
    const status = run.exitCode === 0 ? 'finished' : `**did not finish** (exit code ${run.exitCode})`;
    lines.push(`\`bench/${run.file}\` ${status}; its output:`, '', '```', ...run.output.slice(-40), '```');
  }
  lines.push('', `_Took ${run.seconds.toFixed(0)} s._`);
  return lines.join('\n');
}

function renderRun(runs, totalSeconds, onlySome) {
  const box = machine();
  const lines = [
    `Last run: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, \`${onlySome ? `node bench/run-all.js ${runs.map((r) => r.id).join(' ')}` : 'npm run bench'}\`, ${totalSeconds.toFixed(0)} s in all.`,
    '',
    `Machine: ${box.cpus} CPUs (${box.cpuModel}), Node.js ${box.node}, ${box.platform}. The machine was shared with other work while measuring, so absolute figures are noisy; each benchmark compares figures taken in the same run.`,
    '',
    '| benchmark | result |',
    '|---|---|',
    ...runs.map((run) => {
      const verdict = run.result ? (run.result.pass ? 'PASS' : '**FAIL**') : run.exitCode === 0 ? 'ran' : '**error**';
      return `| ${escapeCell(run.result?.title ?? run.file)} | ${verdict} |`;
    }),
  ];
  return lines.join('\n');
}

/** Replaces what is between `<!-- bench:ID -->` and `<!-- /bench:ID -->`, or appends a new section. */
function replaceSection(markdown, id, body, heading) {
  const start = `<!-- bench:${id} -->`;
  const end = `<!-- /bench:${id} -->`;
  const from = markdown.indexOf(start);
  const to = markdown.indexOf(end);
  if (from !== -1 && to > from) return `${markdown.slice(0, from + start.length)}\n${body}\n${markdown.slice(to)}`;
  return `${markdown.trimEnd()}\n\n## ${heading}\n\n${start}\n${body}\n${end}\n`;
}

async function main() {
  const wanted = process.argv.slice(2);
  const selected = BENCHMARKS.filter(({ id }) => wanted.length === 0 || wanted.includes(id));
  const started = performance.now();
  const runs = [];
  for (const benchmark of selected) runs.push(await runOne(benchmark));
  const totalSeconds = (performance.now() - started) / 1000;

  let markdown = existsSync(MARKDOWN) ? await readFile(MARKDOWN, 'utf8') : '# Benchmarks\n';
  markdown = replaceSection(markdown, 'run', renderRun(runs, totalSeconds, wanted.length > 0), 'Last run');
  for (const run of runs)
    markdown = replaceSection(markdown, run.id, renderSection(run), run.result?.title ?? run.file);
  await writeFile(MARKDOWN, markdown);

  console.log(`\n${renderRun(runs, totalSeconds, wanted.length > 0)}\n\nBENCHMARKS.md updated.`);
  const isAllGood = runs.every((run) => run.exitCode === 0 && (run.result?.pass ?? true));
  process.exitCode = isAllGood ? 0 : 1;
}

await main();
