import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS, isChangedByRun } from '../../src/commands/change-result.js';
import { disableResult } from '../../src/commands/disable.js';
import { enableResult } from '../../src/commands/enable.js';
import { planResult } from '../../src/commands/plan.js';
import { classifyDisableResponse, type AttemptSuccess } from '../../src/client/response.js';
import { Ds100Error } from '../../src/errors.js';
import { exitCodeFor } from '../../src/output/exit-codes.js';
import { checkFileClashes } from '../../src/output/file-clashes.js';
import { describeOutputFailure, describeUndo, formatSummary, type RunSummary } from '../../src/output/summary.js';
import { toSummaryDocument } from '../../src/output/summary-json.js';
import { checkUndoFile, openUndoWriter, undoFileOf } from '../../src/output/undo-writer.js';
import { sessionFiles } from '../../src/session.js';
import { StateStore } from '../../src/state/state-store.js';
import { resultOf, type InputRow } from '../../src/types.js';
import { USER_1, USER_2 } from '../helpers/input.js';
import { UTF8_BOM } from '../helpers/results.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

const row: InputRow = { line: 2, deviceSerialNumber: '140100080', userId: USER_1, carried: ['Zürich, 3rd floor'] };
const RUN_STARTED_AT = Date.parse('2026-12-05T02:00:00.000Z');

const found = (tokenStatus: string, tokenStatusChangedAt: string, userId = USER_1): AttemptSuccess => ({
  ok: true,
  httpStatus: 200,
  userId,
  token: { tokenSerialNumber: '014010008031', tokenStatus, tokenStatusChangedAt, tokenStatusChangedBy: 'admin' },
});

describe('isChangedByRun: a status dated no earlier than the run start less 5 minutes is this run’s', () => {
  it.each([
    ['at the run start', '2026-12-05T02:00:00.000Z', true],
    ['an hour into the run', '2026-12-05T03:00:00.000Z', true],
    ['4 min 59 s before the start (clock skew)', '2026-12-05T01:55:01.000Z', true],
    ['exactly 5 minutes before', '2026-12-05T01:55:00.000Z', true],
    ['a second more than 5 minutes before', '2026-12-05T01:54:59.000Z', false],
    ['last year', '2025-06-01T08:00:00.000Z', false],
    ['a missing date', '', true],
    ['an unreadable date', 'yesterday-ish', true],
  ])('%s: %s -> %s', (_, changedAt, expected) => {
    expect(isChangedByRun({ tokenStatusChangedAt: changedAt }, RUN_STARTED_AT)).toBe(expected);
  });

  it('allows five minutes of skew', () => {
    expect(CLOCK_SKEW_MS).toBe(300_000);
  });
});

describe('enableResult and disableResult: changed by this run, or so already', () => {
  it('enable: a credential enabled before the run is already-enabled, a success that says since when', () => {
    const before = enableResult(
      row,
      { outcome: found('Enabled', '2025-06-01T08:00:00.000Z'), attempts: 1 },
      RUN_STARTED_AT,
    );
    expect(before).toMatchObject({
      outcome: 'already-enabled',
      errorCode: undefined,
      errorMessage: 'already enabled since 2025-06-01T08:00:00.000Z; not changed by this run',
    });
    expect(exitCodeFor(summaryOf('enable', { 'already-enabled': 1 }))).toBe(0);
    const now = enableResult(
      row,
      { outcome: found('Enabled', '2026-12-05T02:00:03.000Z'), attempts: 1 },
      RUN_STARTED_AT,
    );
    expect(now).toMatchObject({ outcome: 'enabled', errorMessage: undefined });
  });

  it('disable: disabled by this run, already-disabled before it, and a lost answer settled either way', () => {
    const sent = (changedAt: string, lostAnswer?: string) => ({
      outcome: { ...found('Disabled', changedAt), lostAnswer },
      attempts: 2,
    });
    expect(disableResult(row, sent('2026-12-05T02:10:00.000Z'), RUN_STARTED_AT)).toMatchObject({
      outcome: 'disabled',
      errorMessage: undefined,
    });
    expect(disableResult(row, sent('2026-12-05T02:10:00.000Z', 'ECONNRESET'), RUN_STARTED_AT)).toMatchObject({
      outcome: 'disabled',
      errorMessage: 'the answer was lost (ECONNRESET); a lookup confirmed the credential is disabled',
    });
    expect(disableResult(row, sent('2024-01-01T00:00:00.000Z', 'ECONNRESET'), RUN_STARTED_AT)).toMatchObject({
      outcome: 'already-disabled',
      errorMessage:
        'the answer was lost (ECONNRESET); a lookup showed the credential disabled since 2024-01-01T00:00:00.000Z; not changed by this run',
    });
    const notFound = { ok: false, code: 'NOT_FOUND', httpStatus: 404, message: 'not registered to user x' } as const;
    expect(disableResult(row, { outcome: notFound, attempts: 1 }, RUN_STARTED_AT)).toMatchObject({
      outcome: 'failed',
      errorCode: 'NOT_FOUND',
      httpStatus: 404,
    });
    const lost = { ok: false, code: 'UNKNOWN_OUTCOME', message: 'nobody could tell' } as const;
    expect(disableResult(row, { outcome: lost, attempts: 3 }, RUN_STARTED_AT).outcome).toBe('unknown');
  });
});

describe('classifyDisableResponse', () => {
  const pair = { deviceSerialNumber: '140100080', userId: USER_1 };
  const record = (tokenStatus: string) =>
    JSON.stringify([
      {
        userId: USER_1,
        tokenSerialNumber: '014010008031',
        tokenStatus,
        tokenStatusChangedAt: '2026-12-05T02:00:00.000Z',
        tokenStatusChangedBy: 'admin',
        deviceSerialNumber: '140100080',
      },
    ]);

  it('a 200 with the credential Disabled is a success carrying the record', () => {
    expect(classifyDisableResponse({ status: 200, body: record('Disabled') }, pair)).toMatchObject({
      ok: true,
      httpStatus: 200,
      token: { tokenSerialNumber: '014010008031', tokenStatus: 'Disabled' },
    });
  });

  it('a 200 that says Enabled is an unreadable answer, settled by a lookup', () => {
    expect(classifyDisableResponse({ status: 200, body: record('Enabled') }, pair)).toEqual({
      ok: false,
      code: 'BAD_RESPONSE',
      httpStatus: 200,
      message: `the credential's tokenStatus is "Enabled", not "Disabled"`,
      isAnswerLost: true,
    });
  });

  it('the API’s 404 is NOT_FOUND, as for enable', () => {
    const body = JSON.stringify({ code: '404 NOT_FOUND', description: 'DS100 140100080 is not registered to user x' });
    expect(classifyDisableResponse({ status: 404, body }, pair)).toMatchObject({
      ok: false,
      code: 'NOT_FOUND',
      message: 'DS100 140100080 is not registered to user x',
    });
  });
});

describe('planResult with action disable', () => {
  it.each([
    ['Enabled', USER_1, 'would-disable'],
    ['Disabled', USER_1, 'already-disabled'],
    ['Enabled', USER_2, 'registered-to-other-user'],
  ] as const)('%s for %s: %s', (status, user, outcome) => {
    const sent = { outcome: found(status, '2020-01-01T00:00:00.000Z', user), attempts: 1 };
    expect(planResult(row, sent, 'disable').outcome).toBe(outcome);
  });

  it('a device the tenant does not know is not-registered', () => {
    const outcome = { ok: false, code: 'NOT_FOUND', httpStatus: 404, message: 'not found' } as const;
    expect(planResult(row, { outcome, attempts: 1 }, 'disable').outcome).toBe('not-registered');
  });
});

describe('undoFileOf: where the undo file goes', () => {
  it.each([
    ['enable', 'results.csv', undefined, undefined, 'results.undo.csv'],
    ['enable', 'out/Results.XLSX', undefined, undefined, 'out/Results.undo.csv'],
    ['enable', 'results', undefined, undefined, 'results.undo.csv'],
    ['disable', 'undo-results.csv', undefined, undefined, 'undo-results.undo.csv'],
    ['enable', '-', undefined, undefined, undefined],
    ['disable', '-', 's.state', undefined, undefined],
    ['enable', '-', undefined, 'mine.csv', 'mine.csv'],
    ['reconcile', undefined, 'nightly.state', undefined, 'nightly.state.undo.csv'],
    ['reconcile', '-', 'nightly.state', undefined, 'nightly.state.undo.csv'],
    ['reconcile', 'last-run.csv', 'nightly.state', undefined, 'last-run.undo.csv'],
    ['plan', 'plan.csv', undefined, undefined, undefined],
  ] as const)('%s --out %s --state %s --undo-file %s: %s', (command, out, state, undoFile, expected) => {
    expect(undoFileOf({ command, out, state, undoFile })).toBe(expected);
  });
});

describe('the undo file', () => {
  const changed = (serial: string, note: string, userId = USER_1) =>
    resultOf({ line: 2, deviceSerialNumber: serial, userId, carried: [note] }, { outcome: 'enabled', attempts: 1 });

  it('is in the input format, carried columns as named in the input, with a BOM when created', async () => {
    const file = join(tempDir(), 'results.undo.csv');
    expect(await checkUndoFile(file, ['deviceSerialNumber', 'userId', 'site'])).toBeUndefined();
    const writer = await openUndoWriter(file, ['site'], { append: undefined });
    await writer.write(changed('140100001', 'Zürich, 3rd floor'));
    await writer.write(changed('140100002', '=1+1'));
    await writer.close();
    expect(writer.rowsWritten).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe(
      `${UTF8_BOM}deviceSerialNumber,userId,site\n` +
        `140100001,${USER_1},"Zürich, 3rd floor"\n` +
        `140100002,${USER_1},'=1+1\n`,
    );
  });

  it('is appended to when it exists with the same header, without a second header or BOM', async () => {
    const dir = tempDir();
    // A file someone edited by hand: no BOM, no line break at the end.
    const file = writeFile(dir, 'results.undo.csv', `deviceSerialNumber,userId,site\n140100001,${USER_1},a`);
    const append = await checkUndoFile(file, ['deviceSerialNumber', 'userId', 'site']);
    expect(append).toEqual({ needsLineBreak: true, listed: new Set([`140100001|${USER_1}`]) });
    const writer = await openUndoWriter(file, ['site'], { append });
    await writer.write(changed('140100002', 'b'));
    // Listed already (by an earlier run, the user ID in another case): not added again.
    await writer.write(changed('140100001', 'again', USER_1.toUpperCase()));
    await writer.close();
    expect(writer.rowsWritten).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe(
      `deviceSerialNumber,userId,site\n140100001,${USER_1},a\n140100002,${USER_1},b\n`,
    );
    const withBom = writeFile(dir, 'bom.undo.csv', `${UTF8_BOM}deviceSerialNumber,userId\n`);
    expect(await checkUndoFile(withBom, ['deviceSerialNumber', 'userId'])).toEqual({
      needsLineBreak: false,
      listed: new Set(),
    });
  });

  it('is refused, naming the file, when it exists with another header', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 'results.undo.csv', `deviceSerialNumber,userId,site\n140100001,${USER_1},a\n`);
    const error = await checkUndoFile(file, ['deviceSerialNumber', 'userId']).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(Ds100Error);
    expect(error).toMatchObject({
      code: 'OUTPUT_FILE',
      message:
        `${file}: line 1: the undo file exists with the header "deviceSerialNumber,userId,site", not this run's ` +
        '"deviceSerialNumber,userId"; it is only appended to with the same columns: name another file with ' +
        '--undo-file, or move this one away',
    });
    const results = writeFile(dir, 'results.csv', 'line,deviceSerialNumber,userId,outcome\n');
    await expect(checkUndoFile(results, ['deviceSerialNumber', 'userId'])).rejects.toThrow(/exists with the header/);
    expect(await checkUndoFile(writeFile(dir, 'empty.csv', ''), ['deviceSerialNumber', 'userId'])).toBeUndefined();
  });
});

function summaryOf(
  command: RunSummary['command'],
  byOutcome: RunSummary['byOutcome'],
  extra: Partial<RunSummary> = {},
) {
  const rows = Object.values(byOutcome).reduce((sum, n) => sum + (n ?? 0), 0);
  return {
    command,
    input: 'in.csv',
    out: 'results.csv',
    rows,
    byOutcome,
    byErrorCode: {},
    requests: rows,
    startedAt: '2026-12-05T02:00:00.000Z',
    elapsedMs: 1000,
    simulated: false,
    ...extra,
  } satisfies RunSummary;
}

describe('the summary of a run that changes the tenant', () => {
  it('says where the undo file is, how many lines this run added, and the command that takes them back', () => {
    const enabled = summaryOf(
      'enable',
      { enabled: 3, 'already-enabled': 1 },
      { undo: { file: 'results.undo.csv', linesAdded: 3 } },
    );
    const text = formatSummary(enabled);
    expect(text).toMatch(/^ {2}already-enabled 1$/m);
    expect(text).toContain(
      'undo: results.undo.csv (3 lines added by this run); to take the changes back: ' +
        'ds100-bulk disable results.undo.csv --out undo-results.csv (with your usual flags)',
    );
    expect(toSummaryDocument('enable', enabled, 0).undo).toEqual({ file: 'results.undo.csv', linesAdded: 3 });
    const disabled = summaryOf(
      'disable',
      { disabled: 1 },
      { undo: { file: 'dir/undo-results.undo.csv', linesAdded: 1 } },
    );
    expect(describeUndo(disabled)).toBe(
      'undo: dir/undo-results.undo.csv (1 line added by this run); to take the changes back: ' +
        'ds100-bulk enable dir/undo-results.undo.csv --out undo-undo-results.csv (with your usual flags)',
    );
    expect(
      describeUndo(summaryOf('disable', { 'already-disabled': 2 }, { undo: { file: 'u.csv', linesAdded: 0 } })),
    ).toBe('undo: u.csv (0 lines added by this run)');
    const onStdout = summaryOf('enable', { enabled: 1 }, { out: '-', undo: { file: undefined, linesAdded: 0 } });
    expect(describeUndo(onStdout)).toMatch(/^undo: not written \(the results went to stdout\); add --undo-file FILE/);
    expect(toSummaryDocument('enable', onStdout, 0).undo).toEqual({ file: null, linesAdded: 0 });
    expect(describeUndo(summaryOf('plan', { 'would-enable': 1 }))).toBeUndefined();
  });

  it('after a stop, the command that resumes a disable keeps this run’s undo file', () => {
    const stopped = summaryOf(
      'disable',
      { disabled: 1, 'not-attempted': 2 },
      { stopped: { code: 'INTERRUPTED', message: 'SIGINT' }, undo: { file: 'undo-results.undo.csv', linesAdded: 1 } },
    );
    expect(formatSummary(stopped, { state: 'd.state' })).toContain(
      'to finish: ds100-bulk disable in.csv --out results-resumed.csv --state d.state --resume ' +
        '--undo-file undo-results.undo.csv',
    );
    expect(formatSummary(stopped)).toContain(
      'to finish: ds100-bulk disable --only-failed results.csv --out results-resumed.csv --undo-file undo-results.undo.csv',
    );
    expect(formatSummary({ ...stopped, out: '-', undo: undefined })).toContain(
      'without --state it sends every row again, which is harmless (a disabled credential stays disabled)',
    );
  });

  it('exit codes: disabled and already-disabled are good; plan --action disable’s verdicts too', () => {
    expect(exitCodeFor(summaryOf('disable', { disabled: 2, 'already-disabled': 1 }))).toBe(0);
    expect(exitCodeFor(summaryOf('disable', { disabled: 2, failed: 1 }))).toBe(1);
    expect(exitCodeFor(summaryOf('plan', { 'would-disable': 2, 'already-disabled': 1 }))).toBe(0);
    const held = summaryOf('disable', { disabled: 2, 'not-attempted': 1 }, { byErrorCode: { MAX_CHANGES_REACHED: 1 } });
    expect(exitCodeFor(held)).toBe(5);
  });
});

describe('the state ledger across enable and disable runs', () => {
  it('an enable entry is never done for a disable resume, nor a disable entry for an enable resume', () => {
    const file = join(tempDir(), 's.state');
    const pair = (serial: string, userId = USER_1): InputRow => ({
      line: 2,
      deviceSerialNumber: serial,
      userId,
      carried: [],
    });
    const token = (tokenStatus: string) => ({
      tokenSerialNumber: 't',
      tokenStatus,
      tokenStatusChangedAt: '',
      tokenStatusChangedBy: '',
    });
    const state = StateStore.open(file);
    try {
      state.record(resultOf(pair('140100001'), { outcome: 'enabled', attempts: 1, token: token('Enabled') }));
      state.record(resultOf(pair('140100002'), { outcome: 'already-enabled', attempts: 1, token: token('Enabled') }));
      state.record(resultOf(pair('140100003'), { outcome: 'disabled', attempts: 1, token: token('Disabled') }));
      state.record(resultOf(pair('140100004'), { outcome: 'already-disabled', attempts: 1, token: token('Disabled') }));
      // Another user's credential, enabled: says nothing about this pair.
      state.record(resultOf(pair('140100005'), { outcome: 'conflict', attempts: 1, token: token('Enabled') }));
    } finally {
      state.close();
    }
    const next = StateStore.open(file);
    try {
      const enabled = (serial: string) => next.enabledResult(pair(serial), 'enabled', 'earlier')?.outcome;
      const disabled = (serial: string) => next.disabledResult(pair(serial), 'disabled', 'earlier')?.outcome;
      expect(['140100001', '140100002', '140100003', '140100004', '140100005'].map(enabled)).toEqual([
        'enabled',
        'enabled',
        undefined,
        undefined,
        undefined,
      ]);
      expect(['140100001', '140100002', '140100003', '140100004', '140100005'].map(disabled)).toEqual([
        undefined,
        undefined,
        'disabled',
        'disabled',
        undefined,
      ]);
    } finally {
      next.close();
    }
  });
});

describe('the undo file among the files a run writes', () => {
  it('is one of the outputs no input may be: disable results.undo.csv --out results.csv is refused', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'results.undo.csv', `deviceSerialNumber,userId\n140100001,${USER_1}\n`);
    await expect(
      checkFileClashes(sessionFiles({ command: 'disable', input, out: join(dir, 'results.csv') })),
    ).rejects.toThrow(/^the undo file \(--undo-file\) \(.*\) and the input file \(.*\) are the same file/);
    await expect(
      checkFileClashes(sessionFiles({ command: 'disable', input, out: join(dir, 'undo-results.csv') })),
    ).resolves.toBeUndefined();
  });

  it('a failed undo file is said in the stop message, and where the changes it lacks are', () => {
    expect(
      describeOutputFailure({
        command: 'disable',
        failures: ['cannot write the undo file u.csv: the disk is full'],
        errno: 'ENOSPC',
        results: { out: 'r.csv', failed: false, rowsWritten: 10 },
        state: { file: 's.state', failed: false },
        undo: { file: 'u.csv', failed: true, outcome: 'disabled' },
      }),
    ).toBe(
      'cannot write the undo file u.csv: the disk is full; the results file r.csv holds every row, the state file ' +
        's.state every row that was sent, the undo file u.csv lacks the rows disabled after that (the results list ' +
        'them, and the log names them); free space and run again with --resume',
    );
  });
});
