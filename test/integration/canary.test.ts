import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Ds100Error,
  exitCodeFor,
  reconcile,
  run,
  runSession,
  StateStore,
  type CanaryReport,
  type RunOptions,
} from '../../src/index.js';
import type { FaultStep, RunningSimulator } from '../../src/simulator/index.js';
import type { Ds100Pair } from '../../src/types.js';
import { pairsCsv, somePairs } from '../helpers/input.js';
import { countBy, readResults } from '../helpers/results.js';
import {
  FAST_RETRY,
  PREFLIGHT_REQUESTS,
  registryOf,
  rowCalls,
  startTestSimulator,
  tenantOf,
} from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

const PAIRS = somePairs(8);

/** What the canary's `approve` saw: each report, and how many row requests the tenant had seen then. */
interface Asked {
  readonly reports: CanaryReport[];
  readonly callsWhenAsked: number[];
}

/**
 * Enables `input` (default: PAIRS) against a simulator with PAIRS registered, with a canary of
 * `rows` whose approve answers `answer` after a short pause (checking that nothing is sent meanwhile).
 */
async function enableWithCanary(
  rows: number,
  answer: boolean | ((signal: AbortSignal) => Promise<boolean>),
  {
    input = pairsCsv(PAIRS),
    faults,
    options = {},
  }: { input?: string; faults?: Map<string, FaultStep[]>; options?: Partial<RunOptions> } = {},
) {
  const simulator = await startTestSimulator({ registry: registryOf(PAIRS), faults });
  const dir = tempDir();
  const out = join(dir, 'results.csv');
  const asked: Asked = { reports: [], callsWhenAsked: [] };
  const summary = await run({
    input: writeFile(dir, 'in.csv', input),
    out,
    ...tenantOf(simulator),
    rate: 1000,
    retryPolicy: FAST_RETRY,
    canary: {
      rows,
      approve: async (report, signal) => {
        asked.reports.push(report);
        asked.callsWhenAsked.push(rowCalls(simulator).length);
        if (typeof answer === 'function') return answer(signal);
        // A moment in which a run that did not wait would send rows (it runs at 1000/s).
        await new Promise((resolve) => setTimeout(resolve, 30));
        expect(rowCalls(simulator)).toHaveLength(asked.callsWhenAsked.at(-1)!);
        return answer;
      },
    },
    ...options,
  });
  return { summary, results: readResults(out), asked, simulator };
}

const pairOf = (simulator: RunningSimulator, pair: Ds100Pair) => simulator.registry.get(pair.deviceSerialNumber);

describe('run() with a canary', () => {
  it('sends exactly the first N rows, asks with their results, nothing sent while it waits; yes sends the rest', async () => {
    const { summary, results, asked } = await enableWithCanary(3, true, { options: { concurrency: 8 } });
    expect(asked.callsWhenAsked).toEqual([3]);
    expect(asked.reports).toHaveLength(1);
    const [report] = asked.reports;
    expect(report!.results.map((result) => [result.line, result.outcome])).toEqual([
      [2, 'enabled'],
      [3, 'enabled'],
      [4, 'enabled'],
    ]);
    expect(report!.rowsLeft).toBe(5);
    expect(summary.stopped).toBeUndefined();
    expect(summary.byOutcome).toEqual({ enabled: 8 });
    expect(summary.requests).toBe(8 + PREFLIGHT_REQUESTS);
    expect(countBy(results, 'outcome')).toEqual({ enabled: 8 });
    expect(exitCodeFor(summary)).toBe(0);
  });

  it('no: stops with CANARY_ONLY (exit code 8), the rest written not-attempted and never sent', async () => {
    const { summary, results, simulator } = await enableWithCanary(2, false);
    expect(summary.stopped).toEqual({
      code: 'CANARY_ONLY',
      message: '--canary 2: the first 2 rows were sent and going on was not approved; this row was not sent',
    });
    expect(exitCodeFor(summary)).toBe(8);
    expect(results.map((row) => [row['outcome'], row['errorCode']])).toEqual([
      ['enabled', ''],
      ['enabled', ''],
      ...Array.from({ length: 6 }, () => ['not-attempted', 'CANARY_ONLY']),
    ]);
    expect(rowCalls(simulator)).toHaveLength(2);
    expect(pairOf(simulator, PAIRS[2]!)?.tokenStatus).not.toBe('Enabled');
  });

  it('counts only rows that are sent: invalid rows before and between the canary rows are not in it', async () => {
    const [a, b, c, d] = PAIRS;
    const input =
      'deviceSerialNumber,userId\n' +
      `not-a-serial,${a!.userId}\n` +
      `${a!.deviceSerialNumber},${a!.userId}\n` +
      `${b!.deviceSerialNumber},not-a-user\n` +
      `${c!.deviceSerialNumber},${c!.userId}\n` +
      `${d!.deviceSerialNumber},${d!.userId}\n`;
    const { asked, summary } = await enableWithCanary(2, true, { input });
    expect(asked.reports[0]!.results.map((result) => result.line)).toEqual([3, 5]);
    expect(asked.callsWhenAsked).toEqual([2]);
    expect(summary.byOutcome).toEqual({ enabled: 3, invalid: 2 });
  });

  it('does not ask when the file has N valid rows or fewer: the run just finishes', async () => {
    const { asked, summary } = await enableWithCanary(8, false);
    expect(asked.reports).toEqual([]);
    expect(summary.stopped).toBeUndefined();
    expect(summary.byOutcome).toEqual({ enabled: 8 });
  });

  it("a row's own failure (NOT_FOUND) is shown and asked about, not a stop", async () => {
    const stranger = { deviceSerialNumber: '149999999', userId: PAIRS[7]!.userId };
    const input = pairsCsv([stranger, ...PAIRS.slice(0, 3)]);
    const { asked, summary } = await enableWithCanary(2, true, { input });
    expect(asked.reports[0]!.results.map((result) => result.errorCode ?? result.outcome)).toEqual([
      'NOT_FOUND',
      'enabled',
    ]);
    expect(summary.byOutcome).toEqual({ enabled: 3, failed: 1 });
  });

  it('a canary row failing for a reason not its own (403) stops the run with CANARY_FAILED without asking', async () => {
    const forbidden: FaultStep[] = [{ status: 403 }, { status: 403 }, { status: 403 }];
    const faults = new Map([[PAIRS[1]!.deviceSerialNumber, forbidden]]);
    const { asked, summary, results, simulator } = await enableWithCanary(2, true, { faults });
    expect(asked.reports).toEqual([]);
    expect(summary.stopped?.code).toBe('CANARY_FAILED');
    expect(summary.stopped?.message).toContain('the canary failed: 1 of its 2 rows ended FORBIDDEN');
    expect(exitCodeFor(summary)).toBe(3);
    expect(countBy(results, 'errorCode')).toEqual({ '': 1, FORBIDDEN: 1, CANARY_FAILED: 6 });
    expect(new Set(rowCalls(simulator).map((call) => call.serial))).toEqual(
      new Set([PAIRS[0]!.deviceSerialNumber, PAIRS[1]!.deviceSerialNumber]),
    );
  });

  it('5xx after the retries stops it too, naming every code with its count, most first', async () => {
    const faults = new Map([
      [PAIRS[0]!.deviceSerialNumber, [{ status: 500 }]],
      [PAIRS[1]!.deviceSerialNumber, [{ status: 500 }]],
      [PAIRS[2]!.deviceSerialNumber, [{ status: 403 }, { status: 403 }]],
    ]);
    const { summary } = await enableWithCanary(3, true, { faults, options: { retryPolicy: { retries: 0 } } });
    expect(summary.stopped?.message).toMatch(/^the canary failed: 2 of its 3 rows ended SERVER_ERROR, 1 FORBIDDEN, /);
  });

  it('Ctrl-C while the question waits: INTERRUPTED as ever, and the question is told to go away', async () => {
    const stopper = new AbortController();
    let approveSignal: AbortSignal | undefined;
    const { summary, results } = await enableWithCanary(
      2,
      (signal) => {
        approveSignal = signal;
        stopper.abort({ code: 'INTERRUPTED', message: 'SIGINT received' });
        return new Promise<boolean>(() => {}); // never answered
      },
      { options: { signal: stopper.signal } },
    );
    expect(approveSignal?.aborted).toBe(true);
    expect(summary.stopped?.code).toBe('INTERRUPTED');
    expect(countBy(results, 'errorCode')).toEqual({ '': 2, INTERRUPTED: 6 });
  });

  it('an approve that throws ends the run with its error, after the rows under way are written', async () => {
    const error = await enableWithCanary(1, () => Promise.reject(new Error('approve broke'))).catch(
      (caught: unknown) => caught,
    );
    expect(error).toEqual(new Error('approve broke'));
  });

  it('checks the canary: rows a whole number from 1, approve a function', async () => {
    const simulator = await startTestSimulator();
    const options = { input: 'in.csv', out: 'out.csv', ...tenantOf(simulator) };
    const approve = async () => true;
    for (const rows of [0, 1.5, Number.NaN]) {
      const error = await run({ ...options, canary: { rows, approve } }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Ds100Error);
      expect((error as Ds100Error).message).toBe(
        `Expected \`canary.rows\` (--canary) to be a whole number from 1 to 9,007,199,254,740,991, got ${rows}`,
      );
    }
    const noApprove = { rows: 1 } as unknown as RunOptions['canary'];
    await expect(run({ ...options, canary: noApprove })).rejects.toThrow('Expected `canary.approve` to be a function');
  });
});

describe('a canary with a state ledger', () => {
  it('enable --resume after a declined canary: the ledger rows are not the next canary, which is the next rows', async () => {
    const simulator = await startTestSimulator({ registry: registryOf(PAIRS) });
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', pairsCsv(PAIRS));
    const state = join(dir, 's.state');
    const session = {
      command: 'enable' as const,
      input,
      state,
      baseUrl: simulator.baseUrl,
      credentials: { kind: 'token' as const, token: simulator.token },
      rate: 1000,
    };
    const first = await runSession({
      ...session,
      out: join(dir, 'r1.csv'),
      canary: { rows: 2, approve: async () => false },
    });
    expect(first.exitCode).toBe(8);
    const lines: number[][] = [];
    const second = await runSession({
      ...session,
      out: join(dir, 'r2.csv'),
      resume: true,
      canary: {
        rows: 2,
        approve: async ({ results }) => {
          lines.push(results.map((result) => result.line));
          return true;
        },
      },
    });
    expect(lines).toEqual([[4, 5]]);
    expect(second.exitCode).toBe(0);
    expect(second.summary.byOutcome).toEqual({ enabled: 8 });
    expect(rowCalls(simulator)).toHaveLength(8);
  });

  it('reconcile takes a canary too: the lookups and enables of the first N rows, then the question', async () => {
    const simulator = await startTestSimulator({ registry: registryOf(PAIRS) });
    const dir = tempDir();
    const store = StateStore.open(join(dir, 's.state'));
    try {
      let callsWhenAsked: number | undefined;
      const summary = await reconcile({
        input: writeFile(dir, 'in.csv', pairsCsv(PAIRS)),
        ...tenantOf(simulator),
        state: store,
        rate: 1000,
        canary: {
          rows: 3,
          approve: async () => {
            callsWhenAsked = rowCalls(simulator).length;
            return false;
          },
        },
      });
      expect(callsWhenAsked).toBe(6); // a lookup and an enable for each
      expect(summary.byOutcome).toEqual({ enabled: 3, 'not-attempted': 5 });
      expect(summary.stopped?.code).toBe('CANARY_ONLY');
    } finally {
      store.close();
    }
  });
});
