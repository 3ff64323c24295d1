import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { chooseTerminal, progressFields, startProgressBar, type BarStream } from '../../src/cli/progress.js';
import { createLogger } from '../../src/log.js';
import { describeEstimate } from '../../src/output/summary.js';
import { tempDir } from '../helpers/temp-dir.js';

const facts = (overrides: Partial<Parameters<typeof chooseTerminal>[0]> = {}) => ({
  isTTY: false,
  progress: true,
  quiet: false,
  progressIntervalSeconds: 30,
  logFormat: undefined,
  logFile: undefined,
  logLevel: 'info' as const,
  ...overrides,
});

describe('chooseTerminal', () => {
  it('gives a terminal a bar and pretty logs, only warnings and errors above the bar', () => {
    expect(chooseTerminal(facts({ isTTY: true }))).toEqual({
      bar: true,
      progressLogEveryMs: undefined,
      logFormat: 'pretty',
      logLevel: 'warn',
      logsAboveBar: true,
    });
    // With a log file every record goes there, at the level asked for, as JSON; warnings still above the bar.
    expect(chooseTerminal(facts({ isTTY: true, logFile: 'run.log', logLevel: 'debug' }))).toMatchObject({
      bar: true,
      logFormat: 'json',
      logLevel: 'debug',
      logsAboveBar: true,
    });
  });

  it('gives cron, CI or a pipe JSON logs with a progress record every interval, 0 for never', () => {
    expect(chooseTerminal(facts())).toEqual({
      bar: false,
      progressLogEveryMs: 30_000,
      logFormat: 'json',
      logLevel: 'info',
      logsAboveBar: false,
    });
    expect(chooseTerminal(facts({ progressIntervalSeconds: 5 })).progressLogEveryMs).toBe(5000);
    expect(chooseTerminal(facts({ progressIntervalSeconds: 0 })).progressLogEveryMs).toBeUndefined();
  });

  it('turns progress off with --no-progress, and with --quiet lowers the logs to warnings', () => {
    expect(chooseTerminal(facts({ isTTY: true, progress: false }))).toMatchObject({
      bar: false,
      progressLogEveryMs: undefined,
      logLevel: 'info',
      logsAboveBar: false,
    });
    expect(chooseTerminal(facts({ quiet: true }))).toMatchObject({
      bar: false,
      progressLogEveryMs: undefined,
      logLevel: 'warn',
    });
    // --quiet never makes the logs more talkative than asked.
    expect(chooseTerminal(facts({ quiet: true, logLevel: 'error' })).logLevel).toBe('error');
  });

  it('lets --log-format override the choice both ways', () => {
    expect(chooseTerminal(facts({ logFormat: 'pretty' })).logFormat).toBe('pretty');
    expect(chooseTerminal(facts({ isTTY: true, logFormat: 'json' })).logFormat).toBe('json');
  });
});

describe('describeEstimate', () => {
  it('words the time in seconds, minutes or hours', () => {
    expect(describeEstimate(3000, 10)).toBe('3,000 rows at 10/s: about 5 min; raise --rate if your tenant allows');
    expect(describeEstimate(40, 10)).toBe('40 rows at 10/s: about 4 s; raise --rate if your tenant allows');
    expect(describeEstimate(1, 100)).toMatch(/^1 rows at 100\/s: about 1 s;/);
    expect(describeEstimate(90_000, 10)).toBe('90,000 rows at 10/s: about 2.5 h; raise --rate if your tenant allows');
  });
});

describe('the progress bar', () => {
  const progress = {
    rowsDone: 25,
    rowsTotal: 100,
    byOutcome: { enabled: 20, failed: 2, invalid: 1, unknown: 1, 'not-attempted': 1 },
    rowsPerSecond: 2.5,
    etaSeconds: 30,
  };

  it('sums the outcomes it does not name as other', () => {
    expect(progressFields(progress)).toEqual({
      rowsDone: 25,
      rowsTotal: 100,
      rowsPerSecond: 2.5,
      etaSeconds: 30,
      enabled: 20,
      failed: 2,
      invalid: 1,
      other: 2,
    });
  });

  it("names the command's own first outcome: a disable's progress counts disabled rows, not enabled ones", () => {
    const disabling = { ...progress, byOutcome: { disabled: 20, failed: 2, invalid: 1, 'already-disabled': 2 } };
    expect(progressFields(disabling, 'disabled')).toMatchObject({ disabled: 20, failed: 2, invalid: 1, other: 2 });
    expect(progressFields(disabling, 'disabled')).not.toHaveProperty('enabled');
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 200 }) as unknown as BarStream;
    let drawn = '';
    (stream as unknown as PassThrough).on('data', (chunk: Buffer) => (drawn += chunk.toString()));
    const bar = startProgressBar(stream, 100, 'disabled');
    bar.update(disabling);
    bar.stop();
    expect(drawn).toContain('| disabled 20 failed 2 invalid 1 other 2');
  });

  it('draws rows, rate, ETA and outcomes on a terminal, and prints lines above itself', () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 200 }) as unknown as BarStream;
    let drawn = '';
    (stream as unknown as PassThrough).on('data', (chunk: Buffer) => (drawn += chunk.toString()));
    const bar = startProgressBar(stream, 100);
    bar.update(progress);
    bar.log('WARN: a warning');
    bar.stop();
    bar.stop();
    expect(drawn).toContain('25/100 rows | 2.5 rows/s | ETA 30 s | enabled 20 failed 2 invalid 1 other 2');
    expect(drawn).toContain('WARN: a warning\n');
  });
});

describe('createLogger for a person', () => {
  it('with a log file and a bar: every record in the file as JSON, warnings and errors also as readable lines', () => {
    const file = join(tempDir(), 'run.log');
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', file, write: (line) => lines.push(line) });
    logger.debug('a row done');
    logger.error({ accessKey: 'k3y' }, 'an output cannot be written');
    logger.flush();
    const records = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string });
    expect(records.map((record) => record.msg)).toEqual(['a row done', 'an output cannot be written']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ERROR.*: an output cannot be written/);
    expect(lines[0]).not.toContain('k3y');
  });

  it('writes pretty lines through `write`, secrets still redacted', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', format: 'pretty', write: (line) => lines.push(line) });
    logger.warn({ token: 'eyJsecret', row: 3 }, 'a warning');
    logger.debug('not shown');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/WARN.*: a warning/);
    expect(lines[0]).toContain('[redacted]');
    expect(lines[0]).not.toContain('eyJsecret');
    expect(lines[0]).not.toContain('{"level":');
  });
});
