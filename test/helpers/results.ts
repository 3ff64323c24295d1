import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

/** A results (or report) CSV as objects keyed by column name, sorted by input line. */
export function readResults(path: string): Array<Record<string, string>> {
  const rows = parse(readFileSync(path), { columns: true, bom: true }) as Array<Record<string, string>>;
  return rows.toSorted((a, b) => Number(a['line']) - Number(b['line']));
}

/** Counts values of one column. */
export const countBy = (rows: ReadonlyArray<Record<string, string>>, column: string): Record<string, number> =>
  rows.reduce<Record<string, number>>((counts, row) => {
    const value = row[column] ?? '';
    counts[value] = (counts[value] ?? 0) + 1;
    return counts;
  }, {});
