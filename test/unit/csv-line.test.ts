import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { csvCell, csvLine } from '../../src/output/csv-line.js';
import { seededRandom } from '../../src/simulator/tenant.js';

// Characters that matter to CSV and to spreadsheets, plus ordinary and multi-byte ones.
const ALPHABET = [
  'a',
  'Z',
  '0',
  ' ',
  ',',
  '"',
  "'",
  '\n',
  '\r',
  '\t',
  '=',
  '+',
  '-',
  '@',
  'é',
  '✓',
  '＝',
  '＋',
  '－',
  '＠',
  ';',
];

function randomCells(random: () => number): string[] {
  return Array.from({ length: 1 + Math.floor(random() * 6) }, () =>
    Array.from({ length: Math.floor(random() * 8) }, () => ALPHABET[Math.floor(random() * ALPHABET.length)]).join(''),
  );
}

describe('csvLine', () => {
  it('writes exactly what csv-stringify writes with escape_formulas, for 5,000 random rows', () => {
    const random = seededRandom(42);
    for (let row = 0; row < 5000; row++) {
      const cells = randomCells(random);
      expect(csvLine(cells)).toBe(stringify([cells], { escape_formulas: true }));
    }
  });

  it('reads back as the same cells, a formula prefix aside', () => {
    const random = seededRandom(7);
    for (let row = 0; row < 2000; row++) {
      const cells = randomCells(random);
      const [parsed] = parse(csvLine(cells), { relax_column_count: true }) as string[][];
      expect(parsed).toEqual(cells.map((cell) => (/^[=+\-@\t\r＝＋－＠]/.test(cell) ? `'${cell}` : cell)));
    }
  });

  it('quotes only what needs it', () => {
    expect(csvLine(['plain', '', 'a,b', 'say "hi"', 'two\nlines'])).toBe('plain,,"a,b","say ""hi""","two\nlines"\n');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
  });
});
