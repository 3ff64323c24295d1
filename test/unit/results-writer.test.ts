import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RESULT_COLUMNS, resultHeader, ResultsWriter } from '../../src/output/results-writer.js';
import { Ds100Error } from '../../src/errors.js';
import type { RowResult } from '../../src/types.js';
import { readResults, UTF8_BOM } from '../helpers/results.js';
import { tempDir } from '../helpers/temp-dir.js';
import { CAN_MOUNT, fill, tinyDisk, unmountAll } from '../helpers/tiny-disk.js';

afterEach(unmountAll);

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

  it('starts a file with a UTF-8 BOM by default, so Excel reads Zürich; bom: false leaves it out', async () => {
    const dir = tempDir();
    for (const [name, bom, start] of [
      ['default.csv', undefined, `${UTF8_BOM}line,`],
      ['bom.csv', true, `${UTF8_BOM}line,`],
      ['no-bom.csv', false, 'line,'],
    ] as const) {
      const path = join(dir, name);
      const writer = await ResultsWriter.open(path, ['city'], { bom });
      await writer.write(row(2, ['Zürich']));
      await writer.close();
      const text = readFileSync(path, 'utf8');
      expect(text.startsWith(start), name).toBe(true);
      expect(text.indexOf(UTF8_BOM, 1), name).toBe(-1);
      // The tool's own reader takes both, and the mark is not part of the first column's name.
      expect(readResults(path), name).toEqual([expect.objectContaining({ line: '2', city: 'Zürich' })]);
      expect(writer.rowsWritten, name).toBe(1);
    }
  });

  it('fails with an OUTPUT_FILE error naming the path when it cannot write', async () => {
    const path = join(tempDir(), 'missing-dir', 'out.csv');
    await expect(ResultsWriter.open(path, [])).rejects.toThrow(Ds100Error);
    await expect(ResultsWriter.open(path, [])).rejects.toThrow(
      `cannot write the results file ${path}: the directory does not exist`,
    );
  });

  it('to stdout (-): waits for a slow reader, and leaves stdout open for the summary', async () => {
    const fake = fakeStdout({ perWrite: 1 });
    try {
      const writer = await ResultsWriter.open('-', ['note'], { bom: true });
      for (let line = 2; line < 42; line++)
        await writer.write(row(line, [`a note long enough to fill the buffer ${line}`]));
      await writer.close();
      const lines = fake.text().split('\n');
      // No BOM on stdout, even with bom: true: in a pipe it would stick to the first column's name.
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
    'a file that cannot take even the header (/dev/full) is refused at open, with the reason in words',
    async () => {
      await expect(ResultsWriter.open('/dev/full', [])).rejects.toMatchObject({
        code: 'OUTPUT_FILE',
        message: 'cannot write the results file /dev/full: the disk is full',
      });
    },
  );

  it.skipIf(!CAN_MOUNT)(
    'a disk that fills up: tells onError once, knows the rows the file holds and those it lacks (root: tmpfs)',
    async () => {
      const disk = tinyDisk();
      fill(disk, 4096);
      const path = join(disk, 'out.csv');
      const failures: Ds100Error[] = [];
      const writer = await ResultsWriter.open(path, ['note'], { onError: (error) => failures.push(error) });
      const handed: number[] = [];
      // Far more than fits; the kernel's refusal is reported a little after the write that hit it.
      for (let line = 2; line < 400 && !writer.failure; line++) {
        handed.push(line);
        // A write that waited for room may be the one to learn of the failure.
        await Promise.resolve(
          writer.write(row(line, ['a note long enough that a few dozen rows fill the disk'])),
        ).catch((error: unknown) => expect(error).toBe(writer.failure));
      }
      await vi.waitFor(() => expect(failures).toHaveLength(1));
      expect(failures[0]!.message).toBe(`cannot write the results file ${path}: the disk is full`);
      const complete = readFileSync(path, 'utf8').split('\n').slice(1, -1);
      expect(writer.rowsWritten).toBe(complete.length);
      expect(complete.map((line) => Number(line.split(',')[0]))).toEqual(handed.slice(0, complete.length));
      expect(writer.unwritten.map((each) => each.line)).toEqual(handed.slice(complete.length));
      expect(() => writer.write(row(999))).toThrow(failures[0]);
      await expect(writer.close()).rejects.toBe(failures[0]);
      expect(failures).toHaveLength(1);
    },
  );
});
