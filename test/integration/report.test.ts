import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { validate } from '../../src/commands/validate.js';
import { Ds100Error, runSession } from '../../src/index.js';
import { fakeTimers, settle } from '../helpers/fake-time.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { startTestSimulator, simulatedEnable } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

const PAIRS = somePairs(5);
let dir: string;
let input: string;
let tenant: string;
beforeEach(() => {
  dir = tempDir();
  // Three registered pairs, two the tenant lacks, and a row without a serial.
  input = writeFile(dir, 'in.csv', `${pairsCsv(PAIRS)},${PAIRS[0]!.userId}\n`);
  tenant = writeFile(dir, 'tenant.csv', pairsCsv(PAIRS.slice(0, 3)));
});

/** The cells of the report's table, row by row. */
const tableRows = (html: string): string[][] =>
  [...(html.match(/<tbody>([\s\S]*?)<\/tbody>/)?.[1] ?? '').matchAll(/<tr>(.*?)<\/tr>/g)].map((match) =>
    [...match[1]!.matchAll(/<td>(.*?)<\/td>/g)].map((cell) => cell[1]!),
  );

describe('--report', () => {
  it('enable writes the summary, both charts and the rows that need attention, and leaves no .tmp', async () => {
    const report = join(dir, 'report.html');
    const { summary, exitCode } = await runSession({
      ...simulatedEnable(input, join(dir, 'r.csv')),
      simulateTenant: tenant,
      report,
    });
    expect(summary.byOutcome).toEqual({ enabled: 3, failed: 2, invalid: 1 });
    expect(exitCode).toBe(1);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<dt>rows</dt><dd>6</dd>');
    expect(html).toContain('<dt>exit code</dt><dd>1</dd>');
    expect(html).toContain('SIMULATED TENANT');
    // Outcomes, error codes and the timeline.
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).toContain('<div id="timeline"><svg ');
    expect(tableRows(html).map(([line, serial, , outcome, code]) => [line, serial, outcome, code])).toEqual([
      ['5', PAIRS[3]!.deviceSerialNumber, 'failed', 'NOT_FOUND'],
      ['6', PAIRS[4]!.deviceSerialNumber, 'failed', 'NOT_FOUND'],
      ['7', '', 'invalid', 'MISSING_SERIAL'],
    ]);
    expect(existsSync(`${report}.tmp-${process.pid}`)).toBe(false);
  });

  it("keeps calling the caller's own onResult next to the report's", async () => {
    const seen: number[] = [];
    const report = join(dir, 'report.html');
    await runSession({
      ...simulatedEnable(input, join(dir, 'r.csv')),
      simulateTenant: tenant,
      report,
      onResult: (result) => seen.push(result.line),
    });
    expect(seen.toSorted((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(tableRows(readFileSync(report, 'utf8'))).toHaveLength(3);
  });

  it('holds the timeline of rows, 429s and pace when the tenant rate-limits the run', async () => {
    // On fake time (as in the 429 storm test): the tenant's bucket and every Retry-After pass at once.
    fakeTimers();
    const simulator = await startTestSimulator({ autoRegister: true, rateLimit: { perSecond: 20, burst: 5 } });
    const report = join(dir, 'report.html');
    const { summary } = await settle(
      runSession({
        command: 'enable',
        input: writeFile(dir, 'many.csv', pairsCsv(somePairs(40, 7))),
        out: join(dir, 'r.csv'),
        baseUrl: simulator.baseUrl,
        credentials: { kind: 'token', token: simulator.token },
        rate: 100,
        report,
      }),
    );
    expect(summary.byOutcome).toEqual({ enabled: 40 });
    const html = readFileSync(report, 'utf8');
    const timeline = html.match(/<div id="timeline">(<svg [\s\S]*?<\/svg>)<\/div>/)?.[1] ?? '';
    expect(timeline).toContain('aria-label="Throughput and pace over time"');
    const rows = [...timeline.matchAll(/: (\d+) rows<\/title>/g)].reduce((sum, match) => sum + Number(match[1]), 0);
    expect(rows).toBe(40);
    const limited = [...timeline.matchAll(/: (\d+) answered 429<\/title>/g)].map((match) => Number(match[1]));
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.reduce((sum, count) => sum + count, 0)).toBe(simulator.countsByStatus.get(429));
    expect(timeline).toContain('<polyline class="pace"');
  });

  it('plan lists the pairs that are not registered', async () => {
    const report = join(dir, 'plan.html');
    await runSession({ command: 'plan', input, simulate: true, simulateTenant: tenant, rate: 1000, report });
    const outcomes = tableRows(readFileSync(report, 'utf8')).map((cells) => cells[3]);
    expect(outcomes).toEqual(['not-registered', 'not-registered', 'invalid']);
  });

  it('a report that cannot be written turns exit 0 into 7 and names the file, the run is kept', async () => {
    const report = join(dir, 'report.html');
    // A folder in its place: the temporary file is written, the rename over it fails.
    mkdirSync(report);
    const fine = writeFile(dir, 'fine.csv', pairsCsv(PAIRS.slice(0, 2)));
    const result = await runSession({
      ...simulatedEnable(fine, join(dir, 'r.csv')),
      report,
    });
    expect(result.summary.byOutcome).toEqual({ enabled: 2 });
    expect(result.exitCode).toBe(7);
    expect(result.summaryJsonFailure).toBe(`cannot write the report ${report}: it is a directory`);
    expect(existsSync(`${report}.tmp-${process.pid}`)).toBe(false);
  });

  it('is checked against the other files before anything runs', async () => {
    const out = join(dir, 'r.csv');
    const error = await runSession({ command: 'enable', input, out, simulate: true, report: out }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(Ds100Error);
    expect((error as Ds100Error).code).toBe('USAGE');
    expect((error as Ds100Error).message).toMatch(/--report/);
    expect(existsSync(out)).toBe(false);
  });

  it('validate lists the invalid rows and says its exit code', async () => {
    const report = join(dir, 'validate.html');
    const result = await validate({ input, report });
    expect(result).toMatchObject({ valid: 5, invalid: 1, exitCode: 1, reportFailure: undefined });
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<dt>command</dt><dd>validate</dd>');
    expect(html).toContain('<dt>exit code</dt><dd>1</dd>');
    expect(tableRows(html).map((cells) => [cells[0], cells[3], cells[4]])).toEqual([
      ['7', 'invalid', 'MISSING_SERIAL'],
    ]);
  });

  it('validate: a report that cannot be written turns exit 0 into 7', async () => {
    const report = join(dir, 'validate.html');
    mkdirSync(report);
    const result = await validate({ input: tenant, report });
    expect(result).toMatchObject({ invalid: 0, exitCode: 7 });
    expect(result.reportFailure).toBe(`cannot write the report ${report}: it is a directory`);
  });
});
