import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toSummaryDocument, writeSummaryJson } from '../../src/output/summary-json.js';
import type { RunSummary } from '../../src/output/summary.js';
import { tempDir } from '../helpers/temp-dir.js';

const summary: RunSummary = {
  command: 'enable',
  input: 'in.csv',
  out: 'out.csv',
  rows: 10,
  byOutcome: { enabled: 8, failed: 2 },
  byErrorCode: { NOT_FOUND: 2 },
  requests: 11,
  retries: 1,
  rateLimitedAnswers: 1,
  finalRate: 7.5,
  startedAt: '2026-11-22T02:00:00.000Z',
  elapsedMs: 61_500,
  simulated: false,
};

describe('summary JSON', () => {
  it('carries counts, times, requests and the exit code', () => {
    expect(toSummaryDocument('enable', summary, 1)).toEqual({
      version: 1,
      command: 'enable',
      input: 'in.csv',
      out: 'out.csv',
      simulated: false,
      startedAt: '2026-11-22T02:00:00.000Z',
      endedAt: '2026-11-22T02:01:01.500Z',
      durationSeconds: 61.5,
      rows: 10,
      byOutcome: { enabled: 8, failed: 2 },
      byErrorCode: { NOT_FOUND: 2 },
      requests: 11,
      retries: 1,
      rateLimitedAnswers: 1,
      finalRate: 7.5,
      removedFromInput: 0,
      stopped: null,
      undo: null,
      exitCode: 1,
    });
  });

  it('keeps its keys for a summary without request details: zero retries and 429s, no final pace', () => {
    const { retries: _retries, rateLimitedAnswers: _answers, finalRate: _rate, ...bare } = summary;
    expect(toSummaryDocument('plan', bare, 0)).toMatchObject({ retries: 0, rateLimitedAnswers: 0, finalRate: null });
  });

  it('is written whole, leaving no temporary file behind', () => {
    const dir = tempDir();
    const path = join(dir, 'summary.json');
    writeSummaryJson(path, toSummaryDocument('enable', summary, 0));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ exitCode: 0, rows: 10 });
    expect(readdirSync(dir)).toEqual(['summary.json']);
  });

  it('names the path when it cannot be written', () => {
    const path = join(tempDir(), 'no-such-dir', 'summary.json');
    expect(() => writeSummaryJson(path, toSummaryDocument('enable', summary, 0))).toThrow(
      `cannot write the summary file ${path}: the directory does not exist`,
    );
    expect(existsSync(path)).toBe(false);
  });
});
