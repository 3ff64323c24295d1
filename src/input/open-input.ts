// Temporary adapter until the input stage rewrite lands (replaced by the merge).
import type { ColumnMap } from './columns.js';
import { openInput as openRows, type ReadItem } from './read-rows.js';
import type { ValidationRules } from './validate-row.js';

export type { ReadItem } from './read-rows.js';
export interface OpenedInput {
  readonly columns: ColumnMap;
  readonly rows: number;
  readonly items: AsyncIterable<ReadItem>;
}
export async function openInput(
  file: string,
  options: { rules?: ValidationRules; requireRows?: boolean } = {},
): Promise<OpenedInput> {
  const opened = await openRows(file, options);
  return { columns: opened.columns, rows: opened.scan.rows, items: opened.items };
}
