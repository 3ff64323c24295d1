import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { generatePairs } from '../src/simulator/index.js';
import type { Ds100Pair } from '../src/types.js';

/** A fresh temporary folder for one test. */
export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'ds100-bulk-test-'));

/** Writes `text` to `name` inside `dir` and returns the path. */
export function writeFile(dir: string, name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** An input CSV with the standard header and the given pairs. */
export const pairsCsv = (pairs: readonly Ds100Pair[], header = 'deviceSerialNumber,userId'): string =>
  `${header}\n${pairs.map((pair) => `${pair.deviceSerialNumber},${pair.userId}`).join('\n')}\n`;

export const somePairs = (count: number, seed = 1): Ds100Pair[] => [...generatePairs(count, seed)];

/** Reads a results CSV into objects keyed by column name, sorted by input line. */
export function readResults(path: string): Record<string, string>[] {
  const rows = parse(readFileSync(path), { columns: true }) as Record<string, string>[];
  return rows.toSorted((a, b) => Number(a['line']) - Number(b['line']));
}

/** Retry timing small enough that tests never wait on backoff (Retry-After is still honoured). */
export const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5 } as const;
