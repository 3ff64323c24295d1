import { describe, expect, it } from 'vitest';
import { barChartSvg, buildReportHtml, escapeHtml, type ReportData } from '../../src/output/report-html.js';
import { AttentionCollector, needsAttention } from '../../src/output/report-rows.js';
import { resultOf, type Outcome, type RowResult } from '../../src/types.js';

const row = (line: number, outcome: Outcome, fields: Partial<RowResult> = {}): RowResult => ({
  ...resultOf(
    { line, deviceSerialNumber: String(140_100_000 + line), userId: `user-${line}`, carried: [] },
    { outcome, attempts: 1 },
  ),
  ...fields,
});

const data = (overrides: Partial<ReportData> = {}): ReportData => ({
  command: 'enable',
  input: 'in.csv',
  out: 'r.csv',
  simulated: false,
  startedAt: '2026-01-02T03:04:05.000Z',
  elapsedMs: 2500,
  rows: 10,
  requests: 12,
  byOutcome: { enabled: 7, failed: 2, invalid: 1 },
  byErrorCode: { NOT_FOUND: 2, MISSING_SERIAL: 1 },
  exitCode: 1,
  attention: { rows: [], more: 0 },
  ...overrides,
});

/** The text of the table's body rows, cell by cell. */
const tableRows = (html: string): string[][] =>
  [...(html.match(/<tbody>([\s\S]*?)<\/tbody>/)?.[1] ?? '').matchAll(/<tr>(.*?)<\/tr>/g)].map((match) =>
    [...match[1]!.matchAll(/<td>(.*?)<\/td>/g)].map((cell) => cell[1]!),
  );

describe('escapeHtml', () => {
  it('escapes the five characters that could end an element or an attribute', () => {
    expect(escapeHtml(`<script>alert("x") & 'y'</script>`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;',
    );
  });
});

describe('barChartSvg', () => {
  it('draws one bar per entry, scaled to the largest, with its label and count', () => {
    const svg = barChartSvg('Rows by outcome', [
      { label: 'enabled', value: 8 },
      { label: 'failed', value: 2 },
    ]);
    expect(svg).toMatch(/^<svg role="img" aria-label="Rows by outcome"/);
    const widths = [...svg.matchAll(/<rect [^>]*width="(\d+)"/g)].map((match) => Number(match[1]));
    expect(widths).toEqual([360, 90]);
    expect(svg).toContain('>enabled</text>');
    expect(svg).toContain('>8</text>');
  });

  it('says "none" instead of an empty chart', () => {
    expect(barChartSvg('Rows by error code', [])).toBe('<p class="none">Rows by error code: none</p>');
  });
});

describe('buildReportHtml', () => {
  it('shows the summary, both charts largest first, and the exit code', () => {
    const html = buildReportHtml(data({ stopped: { code: 'RUN_ABORTED', message: '403s kept coming' } }));
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<dt>rows</dt><dd>10</dd>');
    expect(html).toContain('<dt>requests</dt><dd>12</dd>');
    expect(html).toContain('<dt>elapsed</dt><dd>2.5 s</dd>');
    expect(html).toContain('<dt>exit code</dt><dd>1</dd>');
    expect(html).toContain('<dt>stopped</dt><dd>RUN_ABORTED: 403s kept coming</dd>');
    const outcomes = html.match(/<div id="outcomes">(.*?)<\/div>/)?.[1] ?? '';
    expect([...outcomes.matchAll(/<text x="212"[^>]*>(.*?)<\/text>/g)].map((match) => match[1])).toEqual([
      'enabled',
      'failed',
      'invalid',
    ]);
    expect(html).toMatch(/<div id="error-codes"><svg[\s\S]*NOT_FOUND[\s\S]*MISSING_SERIAL/);
    // Self-contained: nothing is fetched when the file is opened.
    expect(html).not.toMatch(/\b(src|href)=/);
  });

  it('lists the rows that need attention in line order, and filters them with an inline script', () => {
    const html = buildReportHtml(
      data({
        attention: {
          rows: [
            row(7, 'failed', { errorCode: 'NOT_FOUND', errorMessage: 'device not registered' }),
            row(3, 'invalid', { errorCode: 'MISSING_SERIAL', errorMessage: 'no serial' }),
          ],
          more: 0,
        },
      }),
    );
    expect(tableRows(html)).toEqual([
      ['3', '140100003', 'user-3', 'invalid', 'MISSING_SERIAL', 'no serial'],
      ['7', '140100007', 'user-7', 'failed', 'NOT_FOUND', 'device not registered'],
    ]);
    expect(html).toContain('Rows that need attention (2)');
    expect(html).toContain('<input type="search" id="filter"');
    expect(html).not.toContain('id="more"');
  });

  it('escapes every value from files and servers, so none can run as a script', () => {
    const evil = '<script>alert(1)</script>';
    const html = buildReportHtml(
      data({
        input: evil,
        attention: {
          rows: [row(2, 'failed', { deviceSerialNumber: evil, userId: evil, errorMessage: evil })],
          more: 0,
        },
        stopped: { code: 'RUN_ABORTED', message: evil },
      }),
    );
    // The report's own filter script is the only one.
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(tableRows(html)[0]?.slice(1, 3)).toEqual([escapeHtml(evil), escapeHtml(evil)]);
  });

  it('says how many more rows there were than it lists', () => {
    const html = buildReportHtml(data({ attention: { rows: [row(2, 'failed')], more: 41 } }));
    expect(html).toContain('Rows that need attention (42)');
    expect(html).toMatch(
      /<p class="note" id="more">41 more rows need attention and are not listed here \(the report keeps the first 1\)/,
    );
  });

  it('says when every row ended well, with no table and no script', () => {
    const html = buildReportHtml(data({ byOutcome: { enabled: 10 }, byErrorCode: {}, exitCode: 0 }));
    expect(html).toContain('None: every row ended well.');
    expect(html).toContain('Rows by error code: none');
    expect(html).not.toContain('<table');
    expect(html).not.toContain('<script>');
  });
});

describe('AttentionCollector', () => {
  it('keeps the first rows that need attention up to its limit and counts the rest', () => {
    const collector = new AttentionCollector(2);
    for (const [line, outcome] of [
      [2, 'enabled'],
      [3, 'failed'],
      [4, 'unchanged'],
      [5, 'not-attempted'],
      [6, 'conflict'],
      [7, 'unknown'],
    ] as const) {
      collector.add(row(line, outcome));
    }
    expect(collector.collected.rows.map((kept) => [kept.line, kept.outcome])).toEqual([
      [3, 'failed'],
      [5, 'not-attempted'],
    ]);
    expect(collector.collected.more).toBe(2);
  });

  it('counts as needing attention every outcome but the good ones', () => {
    const good: Outcome[] = ['enabled', 'would-enable', 'already-enabled', 'valid', 'unchanged'];
    const bad: Outcome[] = [
      'failed',
      'unknown',
      'invalid',
      'not-attempted',
      'not-registered',
      'registered-to-other-user',
      'conflict',
    ];
    expect(good.filter((outcome) => needsAttention({ outcome }))).toEqual([]);
    expect(bad.filter((outcome) => needsAttention({ outcome }))).toEqual(bad);
  });
});
