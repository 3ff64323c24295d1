import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';

/** The results file as objects keyed by column name. */
export async function readResults(path: string): Promise<Array<Record<string, string>>> {
  return parse(await readFile(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
}

/** Counts values of one column. */
export const countBy = (rows: ReadonlyArray<Record<string, string>>, column: string): Record<string, number> =>
  rows.reduce<Record<string, number>>((counts, row) => {
    const value = row[column] ?? '';
    counts[value] = (counts[value] ?? 0) + 1;
    return counts;
  }, {});
