import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESULT_COLUMNS, resultHeader, ResultsWriter } from '../../src/output/results-writer.js';
import { Ds100Error } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

describe('results columns', () => {
  it('are the documented contract, in order', () => {
    expect(RESULT_COLUMNS.join(',')).toBe(
      'line,deviceSerialNumber,userId,outcome,tokenSerialNumber,tokenStatus,tokenStatusChangedAt,' +
        'tokenStatusChangedBy,httpStatus,errorCode,errorMessage,attempts',
    );
  });

  it('rename carried columns that clash with fixed ones', () => {
    expect(resultHeader(['site', 'Outcome', 'line'])).toEqual([
      ...RESULT_COLUMNS,
      'site',
      'input.Outcome',
      'input.line',
    ]);
  });
});

describe('ResultsWriter', () => {
  it('neutralises cells a spreadsheet would evaluate', async () => {
    const path = join(tempDir(), 'out.csv');
    const writer = await ResultsWriter.open(path, ['note']);
    for (const [line, note] of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx', 'plain'].entries()) {
      await writer.write({
        line,
        deviceSerialNumber: '1',
        userId: 'u',
        outcome: 'invalid',
        attempts: 0,
        carried: [note],
      });
    }
    await writer.close();
    const notes = readFileSync(path, 'utf8')
      .split('\n')
      .slice(1, -1)
      .map((row) => row.split(',').at(-1));
    expect(notes).toEqual(["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", `"'\rx"`, 'plain']);
  });

  it('fails with an OUTPUT_FILE error naming the path when it cannot write', async () => {
    const path = join(tempDir(), 'missing-dir', 'out.csv');
    await expect(ResultsWriter.open(path, [])).rejects.toThrow(Ds100Error);
    await expect(ResultsWriter.open(path, [])).rejects.toThrow(`${path}: cannot write the results file: ENOENT`);
  });
});
