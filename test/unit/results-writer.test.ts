import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { RESULT_COLUMNS, resultHeader, ResultsWriter } from '../../src/output/results-writer.js';
import { Ds100Error } from '../../src/errors.js';
import type { RowResult } from '../../src/types.js';
import { tempDir } from '../helpers/temp-dir.js';

const row = (line: number, carried: string[] = []): RowResult => ({
  line,
  deviceSerialNumber: '140100000',
  userId: 'u',
  outcome: 'invalid',
  attempts: 0,
  carried,
});

/**
 * Stands in for process.stdout while the test runs: collects what is written, taking `perWrite` ms per
 * chunk (a slow reader, so that the writer must wait for it to drain), or failing like a closed pipe.
 */
function fakeStdout({ perWrite = 0, error }: { perWrite?: number; error?: NodeJS.ErrnoException } = {}) {
  const chunks: string[] = [];
  const stdout = new Writable({
    highWaterMark: 64,
    write(chunk: Buffer, _encoding, done) {
      if (error) return done(error);
      chunks.push(chunk.toString('utf8'));
      setTimeout(done, perWrite);
    },
  });
  const spy = vi.spyOn(process, 'stdout', 'get').mockReturnValue(stdout as unknown as typeof process.stdout);
  return { stdout, text: () => chunks.join(''), restore: () => spy.mockRestore() };
}

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

  it('to stdout (-): waits for a slow reader, and leaves stdout open for the summary', async () => {
    const fake = fakeStdout({ perWrite: 1 });
    try {
      const writer = await ResultsWriter.open('-', ['note']);
      for (let line = 2; line < 42; line++)
        await writer.write(row(line, [`a note long enough to fill the buffer ${line}`]));
      await writer.close();
      const lines = fake.text().split('\n');
      expect(lines[0]).toBe(`${RESULT_COLUMNS.join(',')},note`);
      expect(lines.slice(1, -1)).toHaveLength(40);
      expect(fake.stdout.writableEnded).toBe(false);
      expect(fake.stdout.writableNeedDrain).toBe(false);
    } finally {
      fake.restore();
    }
  });

  it('to stdout (-): a reader that went away (EPIPE, `| head`) stops the writing, not the run', async () => {
    const fake = fakeStdout({ error: Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) });
    try {
      const writer = await ResultsWriter.open('-', []);
      for (let line = 2; line < 200; line++) await writer.write(row(line));
      await expect(writer.close()).resolves.toBeUndefined();
      expect(fake.text()).toBe('');
    } finally {
      fake.restore();
    }
  });

  it.skipIf(!existsSync('/dev/full'))(
    'a file that fails mid-run (disk full) fails the next write and the close',
    async () => {
      const writer = await ResultsWriter.open('/dev/full', []);
      await vi.waitFor(() => expect(() => writer.write(row(2))).toThrow(/ENOSPC/));
      await expect(writer.close()).rejects.toThrow(/ENOSPC/);
    },
  );
});
