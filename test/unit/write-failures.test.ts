import { describe, expect, it } from 'vitest';
import { exitCodeHelp } from '../../src/cli/help.js';
import { describeWriteError, Ds100Error } from '../../src/errors.js';
import { EXIT_CODES, exitCodeFor } from '../../src/output/exit-codes.js';
import { describeOutputFailure, formatSummary, type RunSummary } from '../../src/output/summary.js';

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: something, write`), { code });

describe('describeWriteError', () => {
  it('says why a write failed in words an administrator acts on', () => {
    expect(describeWriteError(errno('ENOSPC'))).toBe('the disk is full');
    expect(describeWriteError(errno('EDQUOT'))).toBe('the disk quota is exceeded');
    expect(describeWriteError(errno('EROFS'))).toBe('the file system is read-only');
    expect(describeWriteError(errno('EIO'))).toBe('an I/O error');
    expect(describeWriteError(errno('EFBIG'))).toBe('the file is too large');
    expect(describeWriteError(errno('EACCES'))).toBe('permission denied');
    expect(describeWriteError(errno('ENOENT'))).toBe('the directory does not exist');
  });

  it('names a code it has no words for, reads through a Ds100Error to its cause, and copes with no code', () => {
    expect(describeWriteError(errno('EWHATEVER'))).toBe('the system refused the write (EWHATEVER)');
    expect(describeWriteError(new Ds100Error('OUTPUT_FILE', 'x', { cause: errno('EIO') }))).toBe('an I/O error');
    expect(describeWriteError(new Error('stream destroyed'))).toBe('stream destroyed');
    expect(describeWriteError('odd')).toBe('odd');
  });
});

describe('describeOutputFailure', () => {
  const results = { out: 'r.csv', failed: true, rowsWritten: 26 };
  const state = { file: 's.state', failed: false };

  it('results failed, state file fine: says what each holds and to resume', () => {
    expect(
      describeOutputFailure({
        command: 'enable',
        failures: ['cannot write the results file r.csv: the disk is full'],
        errno: 'ENOSPC',
        results,
        state,
      }),
    ).toBe(
      'cannot write the results file r.csv: the disk is full; the results file r.csv holds 26 rows, ' +
        'the state file s.state every row that was sent; free space and run again with --resume',
    );
  });

  it('results failed without a state file: the log has the rest; a rerun enables again harmlessly', () => {
    expect(describeOutputFailure({ command: 'enable', failures: ['cannot write …'], errno: 'EDQUOT', results })).toBe(
      'cannot write …; the results file r.csv holds 26 rows, the rows sent after that are in the log; ' +
        'free space and run again (a row enabled already is enabled again, which changes nothing on the tenant)',
    );
  });

  it('state file failed: the results are the record; --resume sends again what the state file lacks', () => {
    expect(
      describeOutputFailure({
        command: 'enable',
        failures: ['cannot write the state file s.state: an I/O error'],
        errno: 'EIO',
        results: { out: '-', failed: false, rowsWritten: undefined },
        state: { file: 's.state', failed: true },
      }),
    ).toBe(
      'cannot write the state file s.state: an I/O error; the results on stdout hold every row, the state file ' +
        's.state holds the rows recorded before that, the results are the record of this run; fix that and run ' +
        'again with --resume (rows the state file lacks are sent again, which changes nothing for those enabled already)',
    );
  });

  it('reconcile, both failed on a read-only disk, after an earlier stop', () => {
    expect(
      describeOutputFailure({
        command: 'reconcile',
        failures: [
          'cannot write the results file r.csv: the file system is read-only',
          'cannot write the state file …',
        ],
        errno: 'EROFS',
        results: { out: '-', failed: true, rowsWritten: undefined },
        state: { file: 's.state', failed: true },
        earlierStop: { code: 'INTERRUPTED', message: 'SIGINT received' },
      }),
    ).toBe(
      'cannot write the results file r.csv: the file system is read-only; and cannot write the state file …; ' +
        'the results on stdout end early, the state file s.state holds the rows recorded before that, the rows ' +
        'sent after that are in the log; make the file system writable and run again; the run had been stopped ' +
        'already: SIGINT received',
    );
  });
});

describe('exit code 7', () => {
  const stopped: RunSummary = {
    command: 'enable',
    input: 'in.csv',
    out: 'r.csv',
    rows: 10,
    byOutcome: { enabled: 4, 'not-attempted': 6 },
    byErrorCode: { OUTPUT_FAILED: 6 },
    requests: 4,
    startedAt: '2026-11-22T02:00:00.000Z',
    elapsedMs: 1000,
    simulated: false,
    stopped: { code: 'OUTPUT_FAILED', message: 'cannot write the results file r.csv: the disk is full; …' },
  };

  it('is what a run that could not write an output exits with, and the summary says why', () => {
    expect(EXIT_CODES.outputFailed).toBe(7);
    expect(exitCodeFor(stopped)).toBe(7);
    expect(formatSummary(stopped)).toContain(
      'RUN STOPPED EARLY (OUTPUT_FAILED): cannot write the results file r.csv: the disk is full; …',
    );
  });

  it('is in --help for the commands that write as they go, and for validate only about --report', () => {
    for (const command of ['enable', 'plan', 'reconcile'] as const) {
      expect(exitCodeHelp(command)).toContain(
        '\n  7   an output file could not be written (disk full, I/O error …);\n      the run stopped;',
      );
    }
    expect(exitCodeHelp('validate')).toContain(
      '\n  7   every row is valid, but the --report file could not be written',
    );
  });
});
