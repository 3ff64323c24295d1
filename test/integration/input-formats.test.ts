import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, runSession } from '../../src/index.js';
import { USER_1, USER_2 } from '../helpers/input.js';
import { memoryLog } from '../helpers/log-sink.js';
import { readResults } from '../helpers/results.js';
import { FAST_RETRY, registryOf, startTestSimulator, tenantOf } from '../helpers/simulator.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

describe('run() on an Excel export in a European locale (";", Windows-1252)', () => {
  it('enables its pairs, logs how it was read, and carries its accents into the UTF-8 results', async () => {
    const pairs = [
      { deviceSerialNumber: '140100001', userId: USER_1 },
      { deviceSerialNumber: '140100002', userId: USER_2 },
    ];
    const simulator = await startTestSimulator({ registry: registryOf(pairs) });
    const dir = tempDir();
    // "€" is 0x80 in Windows-1252; every other character here is its own Latin-1 byte.
    const text =
      'Serial Number;User ID;Name;Betrag\r\n' +
      `140100001;${USER_1};Renée Müller;"1,50 €"\r\n` +
      `140100002;${USER_2};"Jürgen\r\nWeiß";2,75 €\r\n`;
    const input = writeFile(dir, 'export.csv', Buffer.from(text.replaceAll('€', '\x80'), 'latin1'));
    const out = join(dir, 'results.csv');
    const log = memoryLog('info');
    const summary = await run({
      input,
      inputFormat: { encoding: 'windows-1252' },
      out,
      ...tenantOf(simulator),
      rate: 1000,
      retryPolicy: FAST_RETRY,
      logger: log.logger,
    });
    expect(summary.byOutcome).toEqual({ enabled: 2 });
    const note = log.records.filter((record) => record['delimiter'] !== undefined);
    expect(note).toEqual([
      expect.objectContaining({
        level: 30,
        delimiter: ';',
        encoding: 'windows-1252',
        msg: `${input}: values separated by ";" (detected from the header; --delimiter overrides); read as windows-1252 as --encoding says`,
      }),
    ]);
    const results = readResults(out);
    expect(results.map((row) => [row['line'], row['outcome'], row['Name'], row['Betrag']])).toEqual([
      ['2', 'enabled', 'Renée Müller', '1,50 €'],
      ['3', 'enabled', 'Jürgen\r\nWeiß', '2,75 €'],
    ]);
  });

  it('plan --simulate registers the input on the simulated tenant read the same way', async () => {
    const dir = tempDir();
    const text = `serial;userId;name\n140100001;${USER_1};Müller\n140100002;${USER_2};Weiß\n`;
    const input = writeFile(dir, 'export.csv', Buffer.from(text, 'latin1'));
    const { summary, exitCode } = await runSession({
      command: 'plan',
      input,
      inputFormat: { encoding: 'latin1' },
      simulate: true,
      rate: 1000,
    });
    expect(exitCode).toBe(0);
    expect(summary.byOutcome).toEqual({ 'would-enable': 2 });
  });
});
