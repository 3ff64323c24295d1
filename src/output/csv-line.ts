// Cells a spreadsheet would run as a formula (or as a command, in some): = + - @, tab and CR, and the
// full-width forms Apple Numbers folds into them. The same set csv-stringify's `escape_formulas` uses.
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;
const NEEDS_QUOTES = /[",\r\n]/;
const NEEDS_CARE = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]|[",\r\n]/;

/**
 * One CSV cell: quoted (with quotes doubled) only when it holds a quote, comma or line break, as
 * RFC 4180 has it; a cell that starts like a formula gets a leading ' so that a spreadsheet shows it
 * instead of running it (OWASP "CSV injection").
 */
export function csvCell(value: string): string {
  if (!NEEDS_CARE.test(value)) return value; // the common case, in one test
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * One CSV line, LF-terminated, byte for byte what csv-stringify writes with `escape_formulas: true`
 * for string cells (a test holds the two side by side). Written by hand because this runs for every
 * row of a run: csv-stringify's per-cell casting and option handling allocated about 5 KB per row
 * and, with its Transform stream, took about a twentieth of a run's CPU (BENCHMARKS.md).
 */
export function csvLine(cells: readonly string[]): string {
  let line = '';
  for (let index = 0; index < cells.length; index++) {
    if (index > 0) line += ',';
    line += csvCell(cells[index]!);
  }
  return `${line}\n`;
}
