import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validate } from '../../src/commands/validate.js';
import { RESULT_COLUMNS } from '../../src/output/results-writer.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';
import { csvCase, startsLikeFormula, type CsvCase } from './csv-model.js';
import { RUNS } from './runs.js';

// The fixed columns (README "Results file"); carried input columns follow.
const FIXED: readonly string[] = RESULT_COLUMNS;
const fixedLowerCase = new Set(FIXED.map((name) => name.toLowerCase()));

/**
 * What a cell holding `value` reads back as: the value itself, or, when it starts with = + - @, tab,
 * carriage return or their full-width forms (＝ ＋ － ＠), the value after one `'`.
 */
const asWritten = (value: string): string => (startsLikeFormula(value) ? `'${value}` : value);

/** The report's header: the fixed columns, then each carried column's name as README "Results file" says. */
const expectedHeader = ({ header, carriedIndexes }: CsvCase): string[] => [
  ...FIXED,
  ...carriedIndexes.map((column) => {
    const name = header[column] || `column${column + 1}`;
    return asWritten(fixedLowerCase.has(name.toLowerCase()) ? `input.${name}` : name);
  }),
];

describe('validate --out on generated files', () => {
  it('writes one report line per data record, in file order, with every value read back exactly', async () => {
    const dir = tempDir();
    let count = 0;
    await fc.assert(
      fc.asyncProperty(csvCase, async (csv) => {
        fc.pre(csv.rows.length > 0);
        const input = writeFile(dir, `${++count}.csv`, csv.text);
        const out = join(dir, `${count}.report.csv`);
        await validate({ input, out });
        // Strict parsing: a line with another number of fields than the header fails here.
        const [header, ...lines] = parse(readFileSync(out), { bom: true }) as string[][];
        expect(header).toEqual(expectedHeader(csv));
        expect(lines.map((cells) => [...cells.slice(0, 4), cells[9], cells[11], ...cells.slice(12)])).toEqual(
          csv.rows.map((row) => [
            String(row.line),
            asWritten(row.serial),
            asWritten(row.userId),
            row.code === undefined ? 'valid' : 'invalid',
            row.code ?? row.warning ?? '',
            '0',
            ...row.carried.map(asWritten),
          ]),
        );
      }),
      RUNS.csvCase,
    );
  });
});
