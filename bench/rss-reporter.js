// Loaded with `node --import` into the measured child: at exit, writes its peak RSS (kB) and the CPU
// time it used (µs) as JSON to the file named by BENCH_RSS_FILE.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const { maxRSS, userCPUTime, systemCPUTime } = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRssKb: maxRSS, cpuUs: userCPUTime + systemCPUTime }));
  });
}
