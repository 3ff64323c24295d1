import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESULT_COLUMNS } from '../../src/output/results-writer.js';
import { runCli } from '../helpers/cli.js';
import { readResults, readWorkbook, UTF8_BOM } from '../helpers/results.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';
const cli = (...args: string[]) => runCli(args);

describe('results formats on the command line', () => {
  it('enable samples/shipment.csv --out r.xlsx --simulate: a workbook with the CSV columns, every row, text cells', async () => {
    const out = join(tempDir(), 'r.xlsx');
    const { code, stdout } = await cli('enable', 'samples/shipment.csv', '--out', out, '--simulate', '--rate', '1000');
    expect(code).toBe(0);
    expect(stdout).toContain(out);
    const { sheet, rows } = await readWorkbook(out);
    expect(rows[0]).toEqual([...RESULT_COLUMNS, 'site', 'ticket']);
    expect(rows).toHaveLength(31);
    expect(rows.slice(1).every((cells) => cells[3] === 'enabled')).toBe(true);
    expect(rows.find((cells) => cells[1] === '140100000')).toEqual(
      expect.arrayContaining(['00fb8673-8b42-c835-484f-3e32248c1e89', 'Berlin', 'CHG-1000']),
    );
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sheet.autoFilter).toBe('A1:N31');
  });

  it('a report CSV starts with a BOM; with --no-bom it is the same file without it', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', `deviceSerialNumber,userId,city\n012345678,${USER},Zürich\n`);
    const [withBom, withoutBom] = await Promise.all([
      cli('validate', input, '--out', join(dir, 'bom.csv')),
      cli('validate', input, '--out', join(dir, 'plain.csv'), '--no-bom'),
    ]);
    expect([withBom.code, withoutBom.code]).toEqual([0, 0]);
    const bomText = readFileSync(join(dir, 'bom.csv'), 'utf8');
    expect(bomText.startsWith(`${UTF8_BOM}line,deviceSerialNumber,`)).toBe(true);
    expect(readFileSync(join(dir, 'plain.csv'), 'utf8')).toBe(bomText.slice(1));
    expect(readResults(join(dir, 'bom.csv'))).toEqual([
      expect.objectContaining({ deviceSerialNumber: '012345678', userId: USER, city: 'Zürich', outcome: 'valid' }),
    ]);
  });

  it('a results file, BOM and all, reads back as input: its first column is "line", not "\\uFEFFline"', async () => {
    const dir = tempDir();
    const report = join(dir, 'report.csv');
    writeFile(dir, 'in.csv', `deviceSerialNumber,userId\n012345678,${USER}\n`);
    expect((await cli('validate', join(dir, 'in.csv'), '--out', report)).code).toBe(0);
    expect(readFileSync(report, 'utf8').startsWith(UTF8_BOM)).toBe(true);
    const again = await cli('validate', report, '--out', join(dir, 'again.csv'));
    expect(again.code).toBe(0);
    expect(readResults(join(dir, 'again.csv'))).toEqual([
      expect.objectContaining({
        line: '2',
        deviceSerialNumber: '012345678',
        'input.line': '2',
        'input.outcome': 'valid',
      }),
    ]);
  });
});
