import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

// Debian's package; CI installs it (.ci/run) and the test is skipped where it is missing.
const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) {
  console.warn(`report-browser.test.ts skipped: no ${CHROMIUM} (apt-get install chromium to run it)`);
}
const ARTIFACTS = join(ROOT, 'test', 'artifacts');

describe.skipIf(!HAS_CHROMIUM)('--report in a real browser (skipped without /usr/bin/chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the counts, the charts and the failed rows, and the search box filters the table', async () => {
    const dir = tempDir();
    const report = join(dir, 'report.html');
    const run = await runCli([
      'enable',
      'samples/messy-shipment.csv',
      '--out',
      join(dir, 'r.csv'),
      '--simulate',
      '--simulate-tenant',
      'samples/messy-tenant.csv',
      '--rate',
      '1000',
      '--log-level',
      'silent',
      '--report',
      report,
    ]);
    expect(run.code).toBe(1);

    const page = await browser.newPage();
    // The report must need no network: any request but the file itself fails the test.
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(pathToFileURL(report).href);

    const summary = page.locator('#summary');
    await expect(summary.innerText()).resolves.toMatch(/rows\s+14/);
    await expect(summary.innerText()).resolves.toMatch(/exit code\s+1/);
    await expect(page.locator('#outcomes svg').count()).resolves.toBe(1);
    await expect(page.locator('#outcomes svg text').allTextContents()).resolves.toEqual(
      expect.arrayContaining(['enabled', '6', 'failed', '2', 'invalid']),
    );
    await expect(page.locator('#error-codes svg text').allTextContents()).resolves.toContain('NOT_FOUND');
    await expect(page.locator('#timeline svg polyline.pace').count()).resolves.toBe(1);

    const rows = page.locator('#attention tbody tr');
    await expect(rows.count()).resolves.toBe(8);
    const failed = rows.filter({ hasText: 'NOT_FOUND' });
    await expect(failed.count()).resolves.toBe(2);

    await page.locator('#filter').fill('not_found');
    await expect(page.locator('#attention tbody tr:visible').count()).resolves.toBe(2);
    await expect(page.locator('#shown').innerText()).resolves.toBe('2');
    await page.locator('#filter').fill('');
    await expect(page.locator('#attention tbody tr:visible').count()).resolves.toBe(8);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(report).href]);
    await page.close();
  });
});
