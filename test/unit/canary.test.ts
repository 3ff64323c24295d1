import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { askYesNo, canaryApprover, canaryOnTerminal, formatCanaryReport } from '../../src/cli/canary-prompt.js';
import { checkCanaryFlags } from '../../src/cli/options.js';
import { startProgressBar, type BarStream } from '../../src/cli/progress.js';
import { EXIT_CODES, EXIT_CODE_MEANINGS, exitCodeFor } from '../../src/output/exit-codes.js';
import { formatSummary, resumeAdvice, type RunSummary } from '../../src/output/summary.js';
import { canaryFailure, NOT_THE_ROWS_OWN, type CanaryReport } from '../../src/pipeline/canary.js';
import { resultOf, type Outcome, type RowErrorCode, type RowResult } from '../../src/types.js';

const USER = '8899d818-977d-6aa2-2466-92996dcc5940';

const result = (line: number, outcome: Outcome, errorCode?: RowErrorCode, errorMessage?: string): RowResult =>
  resultOf(
    { line, deviceSerialNumber: String(140_100_000 + line), userId: USER, carried: [] },
    { outcome, errorCode, errorMessage, attempts: 1 },
  );

/** A stream that collects what is written to it. */
function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

const report = (results: RowResult[], rowsLeft = 10): CanaryReport => ({ results, rowsLeft });

describe('canaryFailure', () => {
  it('passes a canary whose rows ended well or failed for their own reasons', () => {
    const rows = [
      result(2, 'enabled'),
      result(3, 'failed', 'NOT_FOUND'),
      result(4, 'failed', 'BAD_REQUEST'),
      result(5, 'invalid', 'INVALID_SERIAL'),
      result(6, 'conflict'),
      result(7, 'not-attempted', 'MAX_CHANGES_REACHED'),
    ];
    expect(canaryFailure(rows)).toBeUndefined();
  });

  it('stops on every code that is not the row’s own, naming each with its count, most first', () => {
    for (const code of NOT_THE_ROWS_OWN) {
      expect(canaryFailure([result(2, 'failed', code)])?.code).toBe('CANARY_FAILED');
    }
    const rows = [
      result(2, 'failed', 'TIMEOUT'),
      result(3, 'unknown', 'UNKNOWN_OUTCOME'),
      result(4, 'unknown', 'UNKNOWN_OUTCOME'),
      result(5, 'enabled'),
    ];
    expect(canaryFailure(rows)).toEqual({
      code: 'CANARY_FAILED',
      message:
        "the canary failed: 2 of its 4 rows ended UNKNOWN_OUTCOME, 1 TIMEOUT, a failure that is not the rows' own " +
        '(credentials, network or tenant); nobody was asked, and the run stopped before this row was sent',
    });
  });
});

describe('formatCanaryReport', () => {
  it('lists the rows in columns with their counts, long messages cut short', () => {
    const long = `the tenant says ${'x'.repeat(80)}`;
    const text = formatCanaryReport(report([result(2, 'enabled'), result(3, 'failed', 'NOT_FOUND', long)]));
    const lines = text.split('\n');
    expect(lines[0]).toBe('canary: 2 rows sent: enabled 1, failed 1');
    expect(lines[1]).toBe(
      'line  deviceSerialNumber  userId                                outcome  errorCode  message',
    );
    expect(lines[2]).toBe(`2     140100002           ${USER}  enabled`);
    expect(lines[3]).toMatch(new RegExp(`^3 +140100003 +${USER} +failed +NOT_FOUND +the tenant says x+…$`));
    expect(lines[3]!.endsWith(`${long.slice(0, 59)}…`)).toBe(true);
    expect(formatCanaryReport(report([result(2, 'enabled')])).split('\n')[0]).toBe('canary: 1 row sent: enabled 1');
  });
});

describe('askYesNo', () => {
  const ask = (typed: string | undefined, signal?: AbortSignal) => {
    const input = new PassThrough();
    const output = sink();
    const answer = askYesNo('Go on? [y/N] ', { input, output: output.stream, signal });
    if (typed === undefined) input.end();
    else input.write(typed);
    return { answer, output };
  };

  it('is yes only for y or yes, in any case; Enter and anything else are no', async () => {
    for (const typed of ['y\n', 'Y\n', ' yes \n', 'YES\r\n']) expect(await ask(typed).answer).toBe(true);
    for (const typed of ['\n', 'n\n', 'no\n', 'yep\n', 'sure\n']) expect(await ask(typed).answer).toBe(false);
  });

  it('asks on the output', async () => {
    const { answer, output } = ask('y\n');
    await answer;
    expect(output.text()).toBe('Go on? [y/N] ');
  });

  it('is no when the input ends, or when the run is stopped while it waits', async () => {
    expect(await ask(undefined).answer).toBe(false);
    const stopper = new AbortController();
    const waiting = ask('', stopper.signal);
    stopper.abort();
    expect(await waiting.answer).toBe(false);
    expect(waiting.output.text()).toBe('Go on? [y/N] \n');
    expect(await ask('y\n', AbortSignal.abort()).answer).toBe(false);
  });
});

describe('canaryApprover', () => {
  const approve = (options: { yes?: boolean; canAsk?: boolean; whyNotAsked?: string; command?: string }) => {
    const output = sink();
    const input = new PassThrough();
    let paused = 0;
    const approver = canaryApprover({
      command: options.command ?? 'enable',
      yes: options.yes ?? false,
      canAsk: options.canAsk ?? false,
      whyNotAsked: options.whyNotAsked,
      input,
      output: output.stream,
      beforePrint: () => paused++,
    });
    return { approver, output, input, paused: () => paused };
  };
  const canary = report([result(2, 'enabled')], 1);

  it('with --yes: prints the canary and goes on without asking', async () => {
    const { approver, output, paused } = approve({ yes: true });
    expect(await approver(canary, new AbortController().signal)).toBe(true);
    expect(paused()).toBe(1);
    expect(output.text()).toContain('canary: 1 row sent: enabled 1\n');
    expect(output.text()).toContain('--yes: going on with the remaining 1 row\n');
  });

  it('without a terminal: declines and says how to go on, per command and reason', async () => {
    const enable = approve({});
    expect(await enable.approver(canary, new AbortController().signal)).toBe(false);
    expect(enable.output.text()).toContain(
      'stdin is not a terminal; re-run with --yes to go on (or --resume with --state); stopping after the canary\n',
    );
    const reconcile = approve({ command: 'reconcile', whyNotAsked: 'stdin is the input file' });
    expect(await reconcile.approver(canary, new AbortController().signal)).toBe(false);
    expect(reconcile.output.text()).toContain(
      'stdin is the input file; re-run with --yes to go on; stopping after the canary\n',
    );
  });

  it('on a terminal: asks how many rows are left, and takes the answer', async () => {
    const { approver, output, input } = approve({ canAsk: true });
    const answer = approver(report([result(2, 'enabled')], 1234), new AbortController().signal);
    input.write('y\n');
    expect(await answer).toBe(true);
    expect(output.text()).toMatch(/Go on with the remaining 1,234 rows\? \[y\/N\] $/);
  });
});

describe('canaryOnTerminal', () => {
  const stdin = Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.ReadStream;
  const terminal = { stdin, stderr: new PassThrough(), bar: () => undefined };

  it('is no canary without --canary, and asks nobody when stdin is the input file', async () => {
    expect(
      canaryOnTerminal('enable', { input: 'in.csv', canaryRows: undefined, yes: false }, terminal),
    ).toBeUndefined();
    const stderr = sink();
    const canary = canaryOnTerminal('enable', { input: '-', canaryRows: 3 }, { ...terminal, stderr: stderr.stream });
    expect(canary?.rows).toBe(3);
    expect(await canary!.approve(report([result(2, 'enabled')]), new AbortController().signal)).toBe(false);
    expect(stderr.text()).toContain('stdin is the input file, so nobody can be asked there; re-run with --yes');
  });
});

describe('checkCanaryFlags', () => {
  it('maps --canary and --yes, and refuses --canary 0, 1.5 and --yes alone', () => {
    expect(checkCanaryFlags({ canary: 5, yes: true })).toEqual({ canaryRows: 5, yes: true });
    expect(checkCanaryFlags({ canary: undefined, yes: false })).toEqual({ canaryRows: undefined, yes: false });
    expect(() => checkCanaryFlags({ canary: 0, yes: false })).toThrow(
      'Expected `canary.rows` (--canary) to be a whole number from 1',
    );
    expect(() => checkCanaryFlags({ canary: 1.5, yes: false })).toThrow('got 1.5');
    expect(() => checkCanaryFlags({ canary: undefined, yes: true })).toThrow('--yes only makes sense with --canary N');
  });
});

describe('the canary stops in the exit codes and the summary', () => {
  const run = (overrides: Partial<RunSummary> = {}): RunSummary => ({
    command: 'enable',
    input: 'in.csv',
    out: 'out.csv',
    rows: 10,
    byOutcome: { enabled: 2, 'not-attempted': 8 },
    byErrorCode: { CANARY_ONLY: 8 },
    requests: 3,
    startedAt: '2026-12-05T00:00:00.000Z',
    elapsedMs: 1000,
    simulated: false,
    stopped: { code: 'CANARY_ONLY', message: 'declined' },
    ...overrides,
  });

  it('CANARY_ONLY is exit 8, CANARY_FAILED exit 3, both documented for enable, reconcile and disable', () => {
    expect(exitCodeFor(run())).toBe(EXIT_CODES.canaryOnly);
    expect(EXIT_CODES.canaryOnly).toBe(8);
    expect(exitCodeFor(run({ stopped: { code: 'CANARY_FAILED', message: 'x' } }))).toBe(3);
    const eight = EXIT_CODE_MEANINGS.find((meaning) => meaning.code === '8');
    expect(eight?.commands).toEqual(['enable', 'reconcile', 'disable']);
    expect(EXIT_CODE_MEANINGS.some((m) => m.code === '3' && m.meaning.includes('CANARY_FAILED'))).toBe(true);
  });

  it('after CANARY_ONLY says how to send the rest: resume with --state, --yes otherwise', () => {
    expect(formatSummary(run(), { state: 'ship.state' })).toMatch(
      /\nonly the canary was sent; to send the rest: ds100-bulk enable in\.csv --out out-resumed\.csv --state ship\.state --resume \(the canary rows are in the state file and are not sent again\)$/,
    );
    expect(resumeAdvice(run())).toBe(
      'only the canary was sent; to send the rest: ds100-bulk enable --only-failed out.csv --out out-resumed.csv ' +
        '(the canary rows that succeeded are left out)',
    );
    expect(resumeAdvice(run({ out: '-' }))).toBe(
      'only the canary was sent; the rows it did are in the results; to send the rest: run the same command again ' +
        'with --yes (without --state it sends the canary rows again, which changes nothing: they are reported ' +
        'already-enabled)',
    );
    // A disable's, and one whose rows came from earlier results: the same rows again, by the same flag.
    expect(
      resumeAdvice(run({ command: 'disable', input: 'r.csv' }), { state: 's', rowsFrom: ['--only-failed', 'r.csv'] }),
    ).toContain('to send the rest: ds100-bulk disable --only-failed r.csv --out out-resumed.csv --state s --resume');
    expect(resumeAdvice(run({ command: 'reconcile' }), { state: 's' })).toContain(
      'run the same command again with --yes (the rows it enabled are in the state file',
    );
    expect(resumeAdvice(run({ stopped: { code: 'CANARY_FAILED', message: 'x' } }), { state: 's' })).toBeUndefined();
  });
});

describe('the progress bar around the question', () => {
  it('pauses (its last state left on screen, lines printed straight) and draws afresh below on the next update', () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 200 }) as unknown as BarStream;
    let drawn = '';
    (stream as unknown as PassThrough).on('data', (chunk: Buffer) => (drawn += chunk.toString()));
    const progress = (rowsDone: number) => ({
      rowsDone,
      rowsTotal: 10,
      byOutcome: { enabled: rowsDone },
      rowsPerSecond: 1,
      etaSeconds: 10 - rowsDone,
    });
    const bar = startProgressBar(stream, 10);
    bar.update(progress(2));
    bar.pause();
    bar.pause();
    expect(drawn).toContain('2/10 rows');
    const beforeQuestion = drawn.length;
    bar.log('WARN: while asking');
    expect(drawn.slice(beforeQuestion)).toBe('WARN: while asking\n');
    bar.update(progress(7));
    bar.stop();
    bar.pause();
    bar.update(progress(9));
    expect(drawn.slice(beforeQuestion)).toContain('7/10 rows');
    expect(drawn).not.toContain('9/10 rows');
  });
});
