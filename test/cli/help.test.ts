import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_WIDTH, examplesHelp, helpWidth, JOB_EXAMPLES } from '../../src/cli/help.js';
import { closestName, editDistance, withFlagSuggestions } from '../../src/cli/suggest.js';
import { ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

// One binary start per --help page, every check of that page on it.
describe('--help', () => {
  it('enable documents the credentials, the pacing, the circuit breakers and every exit code', async () => {
    const { code, stdout } = await runCli(['enable', '--help']);
    expect(code).toBe(0);
    for (const text of [
      'DS100_TOKEN',
      '--key-file',
      '--oauth-client',
      '--adaptive-rate',
      '--max-consecutive-forbidden',
      '--max-failure-rate',
      '--failure-rate-min-rows',
      'HTTPS_PROXY',
      'NODE_EXTRA_CA_CERTS',
    ]) {
      expect(stdout).toContain(text);
    }
    expect(stdout).toMatch(/Exit codes:\n {2}0 +every row was enabled/);
    expect(stdout).toMatch(/\n {2}3 {3}the run was stopped early/);
    for (const exitCode of ['1', '2', '3', '4', '6', '70', '130 / 143']) {
      expect(stdout).toMatch(new RegExp(`\\n {2}${exitCode} +\\S`));
    }
  });

  it('reconcile documents exit code 5, and simulate documents --burst', async () => {
    const [reconcile, simulate] = await Promise.all([runCli(['reconcile', '--help']), runCli(['simulate', '--help'])]);
    expect(reconcile.code).toBe(0);
    expect(reconcile.stdout).toMatch(/\n {2}5 +--max-changes was reached/);
    expect(simulate.code).toBe(0);
    expect(simulate.stdout).toContain('--burst');
  });
});

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('-h and -v', () => {
  it('-h is --help and -v is --version, on the top level and on a command', async () => {
    const [short, long, enableShort, enableLong, ...versions] = await Promise.all([
      runCli(['-h']),
      runCli(['--help']),
      runCli(['enable', '-h']),
      runCli(['enable', '--help']),
      runCli(['-v']),
      runCli(['--version']),
      runCli(['reconcile', '-v']),
    ]);
    expect(short.code).toBe(0);
    expect(short.stdout).toContain('-h, --help');
    expect(short.stdout).toContain('-v, --version');
    expect(short.stdout).toBe(long.stdout);
    expect(enableShort.code).toBe(0);
    expect(enableShort.stdout).toContain('ds100-bulk enable [input]');
    expect(enableShort.stdout).toBe(enableLong.stdout);
    for (const version of versions) {
      expect(version.code).toBe(0);
      expect(version.stdout.trim()).toBe(VERSION);
    }
  });
});

describe('did you mean', () => {
  it('a mistyped command or flag gets the closest one, with exit 2 and the usual usage line', async () => {
    const [command, flag, far] = await Promise.all([
      runCli(['enabel', 'samples/shipment.csv']),
      runCli(['enable', 'samples/shipment.csv', '--out', 'r.csv', '--simulat']),
      runCli(['reconcile', 'samples/shipment.csv', '--state', 's', '--zzzzzz']),
    ]);
    expect(command.code).toBe(2);
    expect(command.stderr).toBe(
      'ds100-bulk: Unknown command: enabel. Did you mean enable?\nRun ds100-bulk --help for usage.\n',
    );
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe(
      'ds100-bulk: Unknown argument: simulat. Did you mean --simulate?\nRun ds100-bulk --help for usage.\n',
    );
    expect(far.code).toBe(2);
    expect(far.stderr).toBe('ds100-bulk: Unknown argument: zzzzzz\nRun ds100-bulk --help for usage.\n');
  });

  it('suggests only for names typed as flags, close in length-relative distance or a unique prefix', () => {
    expect(editDistance('simulat', 'simulate')).toBe(1);
    expect(editDistance('', 'out')).toBe(3);
    expect(editDistance('rate', 'state')).toBe(2);
    const known = ['out', 'state', 'simulate', 'simulate-tenant', 'concurrency', 'max-changes', 'max-runtime'];
    expect(closestName('ot', known)).toBe('out');
    expect(closestName('x', known)).toBeUndefined();
    expect(closestName('concur', known)).toBe('concurrency');
    expect(closestName('max-', known)).toBeUndefined(); // two names start so
    expect(closestName('co', known)).toBeUndefined(); // too short for a prefix
    const args = ['enable', 'simulat', '--simulat', '--ot=r.csv', '-statee', 'x'];
    expect(withFlagSuggestions('Unknown arguments: simulat, ot, statee, x', args, known)).toBe(
      'Unknown arguments: simulat, ot, statee, x. Did you mean --simulate (for simulat), --out (for ot), --state (for statee)?',
    );
    // Typed as a positional only: not a flag, no suggestion.
    expect(withFlagSuggestions('Unknown argument: simulat', ['enable', 'simulat'], known)).toBe(
      'Unknown argument: simulat',
    );
    expect(withFlagSuggestions('Missing required argument: out', ['--simulat'], known)).toBe(
      'Missing required argument: out',
    );
  });
});

/** The example commands of a help page, continuation lines joined, as typed after `ds100-bulk`. */
function exampleCommands(help: string): string[][] {
  const section = /^Examples:\n([\s\S]*?)\n\n/m.exec(help)?.[1] ?? '';
  return section
    .replace(/ \\\n\s+/g, ' ')
    .split('\n')
    .filter((line) => line.startsWith('    ds100-bulk '))
    .map((line) => line.trim().split(/\s+/).slice(1));
}

describe('help width and examples', () => {
  it('wraps at the terminal width from COLUMNS (at most 120, never cutting an example), else at 80', async () => {
    const widest = (text: string) => Math.max(...text.split('\n').map((line) => line.length));
    const [plain, wide, wider, narrow] = await Promise.all([
      runCli(['reconcile', '--help']),
      runCli(['reconcile', '--help'], { COLUMNS: '100' }),
      runCli(['reconcile', '--help'], { COLUMNS: '300' }),
      runCli(['reconcile', '--help'], { COLUMNS: '40' }),
    ]);
    expect(widest(plain.stdout)).toBeLessThanOrEqual(80);
    expect(widest(plain.stdout)).toBeGreaterThan(EXAMPLE_WIDTH);
    expect(widest(wide.stdout)).toBeLessThanOrEqual(100);
    expect(widest(wide.stdout)).toBeGreaterThan(80);
    expect(widest(wider.stdout)).toBeLessThanOrEqual(120);
    expect(widest(wider.stdout)).toBeGreaterThan(100);
    expect(widest(narrow.stdout)).toBeLessThanOrEqual(EXAMPLE_WIDTH);
    for (const { stdout } of [plain, wide, wider, narrow]) {
      expect(exampleCommands(stdout)).toEqual(JOB_EXAMPLES.reconcile.map(({ command }) => command.split(' ').slice(1)));
    }
    expect(helpWidth(132, '60')).toBe(120);
    expect(helpWidth(null, 'wide')).toBe(80);
  });

  // Ten starts of the binary, six at once: on a busy two-core machine that can take more than 5 s.
  it('enable, reconcile and validate each show the three jobs, and every example on the simulator or samples/ exits 0', async () => {
    const pages = await Promise.all(
      ['enable', 'reconcile', 'validate', 'plan'].map((command) => runCli([command, '--help'])),
    );
    const commands = pages.map(({ stdout }) => exampleCommands(stdout));
    for (const page of commands.slice(0, 3)) {
      const lines = page.map((args) => args.join(' '));
      expect(lines.some((line) => /^enable samples\/\S+ .*--simulate/.test(line))).toBe(true);
      expect(lines.some((line) => /^reconcile samples\/\S+ .*--state .*--simulate/.test(line))).toBe(true);
      expect(lines.some((line) => /^validate samples\//.test(line) || line.includes('--dry-run'))).toBe(true);
    }
    const runnable = new Map(
      commands
        .flat()
        .filter((args) => args.includes('--simulate') || args.some((arg) => arg.startsWith('samples/')))
        .map((args) => [args.join(' '), args]),
    );
    expect(runnable.size).toBeGreaterThanOrEqual(5);
    // Pasted as shown, in a fresh folder that has the samples, as a user's checkout has; against the
    // simulator a faster pace than the default 10/s, so that the test does not wait out real seconds.
    const runs = await Promise.all(
      [...runnable.values()].map(async (args) => {
        const cwd = tempDir();
        cpSync(join(ROOT, 'samples'), join(cwd, 'samples'), { recursive: true });
        const fast = args.includes('--simulate') ? ['--rate', '1000'] : [];
        return { args: args.join(' '), ...(await runCli([...args, ...fast], {}, cwd)) };
      }),
    );
    for (const { args, code, stderr } of runs) {
      expect({ args, code, stderr: code === 0 ? '' : stderr }).toEqual({ args, code: 0, stderr: '' });
    }
  }, 15_000);

  it('breaks a long example before a flag, with a shell continuation, and refuses one that cannot fit', () => {
    const help = examplesHelp([
      { what: 'Long:', command: `ds100-bulk enable ${'a'.repeat(40)}.csv --out ${'b'.repeat(30)}` },
    ]);
    expect(help).toBe(
      `Examples:\n  Long:\n    ds100-bulk enable ${'a'.repeat(40)}.csv \\\n      --out ${'b'.repeat(30)}`,
    );
    expect(() => examplesHelp([{ what: 'Too long:', command: `ds100-bulk ${'a'.repeat(70)}` }])).toThrow(
      /wider than 72 columns/,
    );
  });
});
