import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';

/** The UTF-8 byte order mark a results CSV file starts with (unless --no-bom). */
export const UTF8_BOM = '\uFEFF';

/**
 * A results (or report) CSV as objects keyed by column name, sorted by input line; a plan's fingerprint
 * line (it starts with #) is not a row. A leading BOM
 * (there by default) is not part of the first column's name.
 */
export function readResults(path: string): Array<Record<string, string>> {
  const rows = parse(readFileSync(path), { columns: true, bom: true, comment: '#', comment_no_infix: true }) as Array<
    Record<string, string>
  >;
  return rows.toSorted((a, b) => Number(a['line']) - Number(b['line']));
}

/** A results workbook read back with exceljs: its one sheet, and every row's cells as exceljs holds them. */
export async function readWorkbook(path: string): Promise<{ sheet: ExcelJS.Worksheet; rows: ExcelJS.CellValue[][] }> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(path);
  const [sheet, ...others] = workbook.worksheets;
  if (!sheet || others.length > 0) throw new Error(`${path}: expected one sheet, got ${workbook.worksheets.length}`);
  const rows: ExcelJS.CellValue[][] = [];
  sheet.eachRow((row) => {
    const cells: ExcelJS.CellValue[] = [];
    for (let column = 1; column <= sheet.columnCount; column++) cells.push(row.getCell(column).value);
    rows.push(cells);
  });
  return { sheet, rows };
}

/** Counts values of one column. */
export const countBy = (rows: ReadonlyArray<Record<string, string>>, column: string): Record<string, number> =>
  rows.reduce<Record<string, number>>((counts, row) => {
    const value = row[column] ?? '';
    counts[value] = (counts[value] ?? 0) + 1;
    return counts;
  }, {});
