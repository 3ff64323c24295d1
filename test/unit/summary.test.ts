import { afterEach, describe, expect, it, vi } from 'vitest';
import { exitCodeHelp } from '../../src/cli/help.js';
import { EXIT_CODES, exitCodeFor, validationExitCode } from '../../src/output/exit-codes.js';
import {
  formatDuration,
  formatSummary,
  formatValidationSummary,
  progressOf,
  resumeAdvice,
  SummaryCounter,
  type RunSummary,
  type ValidationSummary,
} from '../../src/output/summary.js';
import type { RowResult } from '../../src/types.js';

const run = (overrides: Partial<RunSummary> = {}): RunSummary => ({
  command: 'enable',
  input: 'in.csv',
  out: 'out.csv',
  rows: 10,
  byOutcome: { enabled: 8, failed: 1, invalid: 1 },
  byErrorCode: { NOT_FOUND: 1, INVALID_SERIAL: 1 },
  requests: 12,
  startedAt: '2026-11-22T02:00:00.000Z',
  elapsedMs: 4000,
  simulated: false,
  ...overrides,
});

describe('formatSummary', () => {
  it('lists the outcomes of the command in order, the errors by count, the pace and the results file', () => {
    expect(formatSummary(run({ byErrorCode: { NOT_FOUND: 1, INVALID_SERIAL: 3 } }))).toBe(
      [
        'ds100-bulk enable: 10 rows from in.csv',
        '  enabled       8',
        '  failed        1',
        '  invalid       1',
        'errors by code:',
        '  INVALID_SERIAL             3',
        '  NOT_FOUND                  1',
        'requests: 12',
        'time: 4.0 s; 10 rows done in 4.0 s of sending (2.5/s)',
        'results: out.csv',
      ].join('\n'),
    );
  });

  it('says when the tenant was simulated, when and why the run stopped, and the rows it left', () => {
    const text = formatSummary(
      run({
        simulated: true,
        rows: 4,
        byOutcome: { enabled: 1, 'not-attempted': 3 },
        byErrorCode: { RUN_ABORTED: 3 },
        stopped: { code: 'RUN_ABORTED', message: 'stopped after 3 rows in a row were refused' },
      }),
    );
    expect(text.split('\n').slice(0, 3)).toEqual([
      'SIMULATED TENANT (--simulate): no real tenant or device was touched.',
      'ds100-bulk enable: 4 rows from in.csv',
      'RUN STOPPED EARLY (RUN_ABORTED): stopped after 3 rows in a row were refused',
    ]);
    expect(text).toMatch(/^ {2}not-attempted 3$/m);
    // Without a stop, not-attempted is left out rather than listed as 0.
    expect(formatSummary(run())).not.toContain('not-attempted');
  });

  it('lists unknown rows after failed ones when there are some, and leaves the line out otherwise', () => {
    const text = formatSummary(
      run({ byOutcome: { enabled: 8, failed: 1, unknown: 1 }, byErrorCode: { NOT_FOUND: 1, UNKNOWN_OUTCOME: 1 } }),
    );
    expect(text).toMatch(/^ {2}failed +1\n {2}unknown +1\n {2}invalid +0$/m);
    expect(text).toMatch(/^ {2}UNKNOWN_OUTCOME +1$/m);
    expect(formatSummary(run())).not.toContain('unknown');
    // An unknown row needs attention: a run with one is not a clean run.
    expect(exitCodeFor(run({ byOutcome: { enabled: 9, unknown: 1 }, byErrorCode: { UNKNOWN_OUTCOME: 1 } }))).toBe(1);
  });

  it("uses each command's own outcomes, and reports drift from the state file", () => {
    const plan = formatSummary(run({ command: 'plan', byOutcome: { 'would-enable': 10 }, byErrorCode: {} }));
    expect(plan).toMatch(/^ds100-bulk plan: /);
    expect(
      plan
        .split('\n')
        .filter((line) => line.startsWith('  '))
        .map((line) => line.trim().split(/ +/)[0]),
    ).toEqual(['would-enable', 'already-enabled', 'not-registered', 'registered-to-other-user', 'failed', 'invalid']);
    const reconcile = formatSummary(
      run({ command: 'reconcile', byOutcome: { unchanged: 10 }, byErrorCode: {}, removedFromInput: 2 }),
    );
    expect(reconcile).toMatch(/^ {2}unchanged +10$/m);
    expect(reconcile).toContain(
      'removed from input: 2 pairs in the state file are no longer in the input (not acted on)',
    );
  });

  it('names stdout or a missing results file, and a run of no time without dividing by zero', () => {
    expect(formatSummary(run({ out: '-' }))).toMatch(/\nresults: stdout$/);
    expect(formatSummary(run({ out: '', elapsedMs: 0 }))).toMatch(
      /\ntime: 0\.0 s; 10 rows done in 0\.0 s of sending \(0\/s\)\nresults: not written \(add --out FILE for one line per row\)$/,
    );
  });
});

describe('formatSummary: counts, requests, time and what to do after a stop', () => {
  it('groups thousands, and gives retries, 429s, the final pace and the rate over the sending time', () => {
    const text = formatSummary(
      run({
        rows: 12_345,
        byOutcome: { enabled: 12_000, failed: 345 },
        byErrorCode: { NOT_FOUND: 345 },
        requests: 13_502,
        retries: 1_157,
        rateLimitedAnswers: 1_020,
        finalRate: 8.5,
        elapsedMs: 252_000,
        sendingMs: 247_000,
      }),
    );
    expect(text).toContain('ds100-bulk enable: 12,345 rows from in.csv');
    expect(text).toMatch(/^ {2}enabled +12,000$/m);
    expect(text).toMatch(/^ {2}NOT_FOUND +345$/m);
    expect(text).toContain('requests: 13,502 (1,157 retries, 1,020 answered 429); final pace 8.5/s');
    expect(text).toContain('time: 4 min 12 s; 12,345 rows done in 4 min 7 s of sending (50/s)');
  });

  it('words durations in seconds, minutes and hours', () => {
    expect(formatDuration(400)).toBe('0.4 s');
    expect(formatDuration(42_400)).toBe('42 s');
    expect(formatDuration(252_000)).toBe('4 min 12 s');
    expect(formatDuration(7_500_000)).toBe('2 h 5 min');
  });

  it('after Ctrl-C or --max-runtime with --state, gives the command that resumes the run', () => {
    const stopped = run({ stopped: { code: 'INTERRUPTED', message: 'SIGINT received' } });
    expect(formatSummary(stopped, { state: 'jobs/ship.state' })).toMatch(
      /\nto finish: ds100-bulk enable in\.csv --out out-resumed\.csv --state jobs\/ship\.state --resume$/,
    );
    const deadline = run({ input: 'my file.csv', out: '', stopped: { code: 'MAX_RUNTIME', message: 'out of time' } });
    expect(resumeAdvice(deadline, { state: 's.state' })).toBe(
      "to finish: ds100-bulk enable 'my file.csv' --out results-resumed.csv --state s.state --resume",
    );
  });

  it('counts only the rows done, not those a stop left unsent, in the rate over the sending time', () => {
    const stopped = run({
      rows: 100,
      byOutcome: { enabled: 20, 'not-attempted': 80 },
      elapsedMs: 12_000,
      sendingMs: 10_000,
      stopped: { code: 'MAX_RUNTIME', message: 'out of time' },
    });
    expect(formatSummary(stopped)).toContain('time: 12 s; 20 rows done in 10 s of sending (2/s)');
  });

  it('without --state gives the --only-failed command for its results, or says running again is harmless; nothing for other stops', () => {
    const stopped = run({ stopped: { code: 'INTERRUPTED', message: 'SIGTERM received' } });
    expect(formatSummary({ ...stopped, out: 'r.csv' })).toContain(
      'to finish: ds100-bulk enable --only-failed r.csv --out r-resumed.csv (sends only the rows that did not succeed)',
    );
    // Results on stdout or in a workbook cannot be read back.
    expect(formatSummary({ ...stopped, out: '-' })).toContain(
      'without --state it sends every row again, which is harmless',
    );
    expect(formatSummary({ ...stopped, out: 'r.xlsx' })).toContain('without --state it sends every row again');
    expect(resumeAdvice(run({ stopped: { code: 'RUN_ABORTED', message: 'breaker' } }), { state: 's' })).toBeUndefined();
    expect(resumeAdvice(run(), { state: 's' })).toBeUndefined();
    expect(resumeAdvice(run({ command: 'plan', stopped: { code: 'MAX_RUNTIME', message: 'x' } }))).toBeUndefined();
  });
});

describe('progressOf', () => {
  it('gives the rate since the first row and the seconds left at it, rounded up', () => {
    expect(progressOf({ rowsDone: 25, byOutcome: { enabled: 25 } }, 100, 10_000)).toEqual({
      rowsDone: 25,
      rowsTotal: 100,
      byOutcome: { enabled: 25 },
      rowsPerSecond: 2.5,
      etaSeconds: 30,
    });
    expect(progressOf({ rowsDone: 1, byOutcome: {} }, 4, 3000).etaSeconds).toBe(9);
  });

  it('has no estimate before time has passed, and none left when every row is done', () => {
    expect(progressOf({ rowsDone: 0, byOutcome: {} }, 100, 0)).toMatchObject({
      rowsPerSecond: 0,
      etaSeconds: undefined,
    });
    expect(progressOf({ rowsDone: 5, byOutcome: {} }, 5, 0).etaSeconds).toBe(0);
  });
});

describe('formatValidationSummary', () => {
  const summary = (overrides: Partial<ValidationSummary> = {}): ValidationSummary => ({
    input: 'in.csv',
    out: '',
    rows: 6,
    valid: 4,
    invalid: 2,
    byErrorCode: { DUPLICATE_ROW: 1, INVALID_USER_ID: 1 },
    byWarningCode: { SERIAL_LENGTH: 2 },
    examples: new Map([
      ['DUPLICATE_ROW', [{ line: 3, message: 'the same device and user are already on line 2' }]],
      [
        'SERIAL_LENGTH',
        [
          { line: 4, message: 'warning: 10 digits' },
          { line: 6, message: 'warning: 8 digits' },
        ],
      ],
    ]),
    elapsedMs: 250,
    ...overrides,
  });

  it('gives counts, each code with its examples, errors before warnings, and the report', () => {
    expect(formatValidationSummary(summary())).toBe(
      [
        'ds100-bulk validate: 6 rows in in.csv (checked offline: nothing was sent)',
        '  valid      4 (2 with a warning)',
        '  invalid    2',
        'errors by code (these rows would not be sent):',
        '  DUPLICATE_ROW              1',
        '    in.csv: line 3: the same device and user are already on line 2',
        '  INVALID_USER_ID            1',
        'warnings by code (these rows would still be sent):',
        '  SERIAL_LENGTH              2',
        '    in.csv: line 4: warning: 10 digits',
        '    in.csv: line 6: warning: 8 digits',
        'checked in 0.3 s',
        'report: not written (add --out FILE for one line per row)',
      ].join('\n'),
    );
  });

  it('leaves out empty sections and names the report', () => {
    const clean = formatValidationSummary(
      summary({ valid: 6, invalid: 0, byErrorCode: {}, byWarningCode: {}, examples: new Map(), out: '-' }),
    );
    expect(clean).not.toContain('by code');
    expect(clean).toMatch(/^ {2}valid {6}6$/m);
    expect(clean).toMatch(/\nreport: stdout$/);
    expect(formatValidationSummary(summary({ out: 'report.csv' }))).toMatch(/\nreport: report\.csv$/);
  });
});

describe('SummaryCounter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('tallies rows by outcome and error code, and times the run', () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-11-22T02:00:00.000Z') });
    const counter = new SummaryCounter();
    const row = (outcome: RowResult['outcome'], errorCode?: RowResult['errorCode']): RowResult => ({
      line: 2,
      deviceSerialNumber: '140100000',
      userId: 'u',
      outcome,
      errorCode,
      attempts: 1,
      carried: [],
    });
    for (const result of [row('enabled'), row('enabled'), row('failed', 'NOT_FOUND'), row('invalid', 'MISSING_SERIAL')])
      counter.add(result);
    vi.setSystemTime(Date.parse('2026-11-22T02:00:01.500Z'));
    expect(
      counter.finish({ command: 'enable', input: 'in.csv', out: 'out.csv', requests: 3, simulated: false }),
    ).toEqual({
      command: 'enable',
      input: 'in.csv',
      out: 'out.csv',
      requests: 3,
      simulated: false,
      rows: 4,
      byOutcome: { enabled: 2, failed: 1, invalid: 1 },
      byErrorCode: { NOT_FOUND: 1, MISSING_SERIAL: 1 },
      startedAt: '2026-11-22T02:00:00.000Z',
      elapsedMs: 1500,
    });
  });
});

describe('exit codes', () => {
  it('says why a run stopped early before anything else', () => {
    const stoppedBy = (code: NonNullable<RunSummary['stopped']>['code']) =>
      exitCodeFor(run({ stopped: { code, message: 'm' }, byOutcome: { enabled: 10 }, byErrorCode: {} }));
    expect(stoppedBy('RUN_ABORTED')).toBe(EXIT_CODES.aborted);
    expect(stoppedBy('INTERRUPTED')).toBe(EXIT_CODES.sigint);
    expect(stoppedBy('MAX_RUNTIME')).toBe(EXIT_CODES.maxRuntime);
  });

  it('is 5 when --max-changes held changes back, else 0 only when every row ended well for the command', () => {
    expect(exitCodeFor(run({ command: 'reconcile', byErrorCode: { MAX_CHANGES_REACHED: 1 } }))).toBe(5);
    expect(exitCodeFor(run({ byOutcome: { enabled: 10 }, byErrorCode: {} }))).toBe(0);
    expect(exitCodeFor(run())).toBe(1);
    const reconcile = { command: 'reconcile', byErrorCode: {} } as const;
    expect(exitCodeFor(run({ ...reconcile, byOutcome: { enabled: 2, unchanged: 5, 'not-registered': 3 } }))).toBe(0);
    expect(exitCodeFor(run({ ...reconcile, byOutcome: { unchanged: 9, conflict: 1 } }))).toBe(1);
    const plan = { command: 'plan', byErrorCode: {} } as const;
    expect(exitCodeFor(run({ ...plan, byOutcome: { 'would-enable': 4, 'already-enabled': 6 } }))).toBe(0);
    expect(exitCodeFor(run({ ...plan, byOutcome: { 'would-enable': 9, 'not-registered': 1 } }))).toBe(1);
  });

  it('for validate, is 1 only when a row is invalid', () => {
    const base = { input: 'in.csv', out: '', rows: 2, byErrorCode: {}, byWarningCode: {}, examples: new Map() };
    expect(validationExitCode({ ...base, valid: 2, invalid: 0, elapsedMs: 1 })).toBe(0);
    expect(validationExitCode({ ...base, valid: 1, invalid: 1, elapsedMs: 1 })).toBe(1);
  });

  it("lists each command's codes for --help, a meaning's further lines indented under it", () => {
    const help = exitCodeHelp('plan');
    expect(help.split('\n').slice(0, 5)).toEqual([
      'Exit codes:',
      '  0   every row would be enabled or is already enabled',
      '      (--action disable: would be disabled or is already disabled)',
      '  1   some rows are invalid, not registered, registered to another user,',
      '      or their lookup failed',
    ]);
    expect(help).toContain('\n  130 / 143  interrupted by SIGINT / SIGTERM;\n      rows not sent are not-attempted');
    expect(help).not.toMatch(/\n {2}[45] /);
    expect(exitCodeHelp('validate')).not.toContain('130 / 143');
    expect(exitCodeHelp('reconcile')).toMatch(/\n {2}5 {3}--max-changes was reached/);
  });
});
