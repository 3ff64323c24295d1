import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/auth/token-cache.js';
import { run } from '../../src/index.js';
import { LARGE_INPUT_BYTES, prescanNotice } from '../../src/input/prescan-notice.js';
import { memoryLog } from '../helpers/log-sink.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

describe('prescanNotice', () => {
  it('says a large input is checked in full first, with its size; nothing for a small one, stdin or a missing file', async () => {
    const dir = tempDir();
    const large = writeFile(dir, 'large.csv', '');
    truncateSync(large, LARGE_INPUT_BYTES + 5 * 1024 * 1024); // sparse: no disk used
    expect(await prescanNotice(large)).toBe(
      `checking every row of ${large} (25 MB) before anything is sent; this takes a moment`,
    );
    expect(await prescanNotice(writeFile(dir, 'small.csv', 'deviceSerialNumber,userId\n'))).toBeUndefined();
    expect(await prescanNotice('-')).toBeUndefined();
    expect(await prescanNotice(join(dir, 'missing.csv'))).toBeUndefined();
  });

  it('is logged by a run before the pre-scan starts', async () => {
    const dir = tempDir();
    const large = writeFile(dir, 'large.csv', '');
    truncateSync(large, LARGE_INPUT_BYTES); // zeros: not a usable CSV, refused after the notice
    const log = memoryLog('info');
    await expect(
      run({
        input: large,
        out: join(dir, 'r.csv'),
        baseUrl: 'http://127.0.0.1:9/AdminInterface/restapi/',
        tokenProvider: staticTokenProvider('t'),
        logger: log.logger,
      }),
    ).rejects.toMatchObject({ code: 'INPUT_FILE' });
    expect(log.records.map((record) => record.msg)).toEqual([
      `checking every row of ${large} (20 MB) before anything is sent; this takes a moment`,
    ]);
  });
});
