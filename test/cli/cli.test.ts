import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { readResults } from '../helpers/results.js';
import { registryOf, startTestSimulator } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

const cli = (args: readonly string[], env: Record<string, string> = {}, options: { closeStdoutEarly?: boolean } = {}) =>
  runCli(args, env, undefined, options);

/** The bundled sample on the simulator, results to stdout. */
const SAMPLE_TO_STDOUT = ['enable', 'samples/shipment.csv', '--out', '-', '--simulate', '--rate', '1000'];

describe('ds100-bulk enable (built CLI)', () => {
  it('runs the bundled sample against the simulator, says so, and exits 0', async () => {
    const out = join(tempDir(), 'results.csv');
    const { code, stdout, stderr } = await cli([
      'enable',
      'samples/shipment.csv',
      '--out',
      out,
      '--simulate',
      '--rate',
      '1000',
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('SIMULATED TENANT (--simulate): no real tenant or device was touched.');
    expect(stdout).toMatch(/^ {2}enabled +30$/m);
    const results = readResults(out);
    expect(results).toHaveLength(30);
    expect(results.every((row) => row['outcome'] === 'enabled' && /^\d{12}$/.test(row['tokenSerialNumber']!))).toBe(
      true,
    );
    expect(Object.keys(results[0]!).slice(-2)).toEqual(['site', 'ticket']);
    // Logs are JSON lines on stderr, one of them the warning about the simulated tenant.
    const logs = stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string });
    expect(logs.map((log) => log.msg)).toContain('using the built-in SIMULATED tenant; nothing real is touched');
  });

  it('exits 1 when some rows fail or are invalid, with every row in the results', async () => {
    const out = join(tempDir(), 'results.csv');
    const args = ['enable', 'samples/messy-shipment.csv', '--out', out, '--simulate', '--rate', '1000'];
    const { code, stdout } = await cli([
      ...args,
      '--simulate-tenant',
      'samples/messy-tenant.csv',
      '--log-level',
      'silent',
    ]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/enabled +6\n +failed +2\n +invalid +6/);
    expect(stdout).toMatch(/NOT_FOUND +2/);
    const results = readResults(out);
    expect(results.map((row) => row['line'])).toEqual(Array.from({ length: 14 }, (_, index) => String(index + 2)));
    expect(results.find((row) => row['note']?.includes('HYPERLINK'))?.['note']).toBe(`'=HYPERLINK("http://x")`);
  });

  it('takes the token from DS100_TOKEN and never prints it, even at trace level', async () => {
    const pairs = somePairs(3);
    const simulator = await startTestSimulator({
      registry: registryOf(pairs.slice(0, 2)),
      token: 'tok-3f9a2c7e51-secret',
    });
    const dir = tempDir();
    const out = join(dir, 'results.csv');
    const logFile = join(dir, 'run.log');
    const input = writeFile(dir, 'in.csv', pairsCsv(pairs));
    const { code, stdout, stderr } = await cli(
      [
        'enable',
        input,
        '--out',
        out,
        '--base-url',
        simulator.baseUrl,
        '--rate',
        '1000',
        '--log-level',
        'trace',
        '--log-file',
        logFile,
      ],
      { DS100_TOKEN: 'tok-3f9a2c7e51-secret' },
    );
    expect(code).toBe(1);
    expect(readResults(out).map((row) => row['outcome'])).toEqual(['enabled', 'enabled', 'failed']);
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('"msg":"row done"');
    expect(stderr).toBe('');
    for (const text of [stdout, stderr, log, readFileSync(out, 'utf8')]) expect(text).not.toContain('tok-3f9a2c7e51');
  });

  it('writes the results to stdout with -, keeping the summary and logs on stderr', async () => {
    const { code, stdout, stderr } = await cli(SAMPLE_TO_STDOUT);
    expect(code).toBe(0);
    const rows = parse(stdout, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(30);
    expect(stdout.startsWith('line,deviceSerialNumber,userId,outcome,')).toBe(true);
    expect(stderr).toContain('ds100-bulk enable: 30 rows from samples/shipment.csv');
  });

  it('finishes the run and reports when the reader of stdout goes away (| head)', async () => {
    const args = [...SAMPLE_TO_STDOUT, '--log-level', 'silent'];
    const { code, stderr } = await cli(args, {}, { closeStdoutEarly: true });
    expect(code).toBe(0);
    expect(stderr).toMatch(/enabled +30/);
    expect(stderr).not.toMatch(/EPIPE|internal error/);
  });

  it('refuses to start without a tenant, exit 2, and writes nothing', async () => {
    const out = join(tempDir(), 'results.csv');
    const { code, stdout, stderr } = await cli(['enable', 'samples/shipment.csv', '--out', out], { DS100_TOKEN: 'x' });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^ds100-bulk: No tenant given: set --base-url or DS100_BASE_URL/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a plain-http base URL that is not loopback', async () => {
    const out = join(tempDir(), 'results.csv');
    const { code, stderr } = await cli(
      ['enable', 'samples/shipment.csv', '--out', out, '--base-url', 'http://tenant.example/'],
      {
        DS100_TOKEN: 'x',
      },
    );
    expect(code).toBe(2);
    expect(stderr).toContain(
      'Expected the base URL to use https:// (plain http only on loopback), got "http://tenant.example/"',
    );
  });

  it('exits 2 naming the file when the header is unusable', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'export.csv', 'email,name\njane@example.com,Jane\n');
    const { code, stderr } = await cli([
      'enable',
      input,
      '--out',
      join(dir, 'r.csv'),
      '--simulate',
      '--log-level',
      'silent',
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain(
      `ds100-bulk: ${input}: line 1: the header has no device serial column (looked for deviceSerialNumber`,
    );
    expect(existsSync(join(dir, 'r.csv'))).toBe(false);
  });

  it('exits 2 on an unknown flag', async () => {
    const { code, stderr } = await cli(['enable', 'samples/shipment.csv', '--out', 'x.csv', '--simulat']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Unknown argument: simulat/);
  });
});
