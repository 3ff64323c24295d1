import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger, onLogFileFailure, silentLogger, type LogFileFailure } from '../../src/log.js';
import { tempDir, writeFile } from '../helpers/temp-dir.js';

const lines = (file: string): Array<Record<string, unknown>> =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('createLogger', () => {
  it('writes JSON lines at the level asked for to a log file, making its folder', () => {
    const file = join(tempDir(), 'logs', 'nightly', 'run.log');
    const logger = createLogger({ level: 'info', file });
    logger.debug('not at info');
    logger.info({ rows: 3 }, 'run started');
    logger.child({ line: 7 }).warn('row warning');
    logger.flush();
    expect(lines(file)).toEqual([
      expect.objectContaining({ level: 30, msg: 'run started', rows: 3, time: expect.any(Number) }),
      expect.objectContaining({ level: 40, msg: 'row warning', line: 7 }),
    ]);
  });

  it('censors secrets by path, wherever a careless log call puts them', () => {
    const file = join(tempDir(), 'run.log');
    const logger = createLogger({ level: 'trace', file });
    logger.info(
      {
        token: 'tok-1',
        accessKey: 'key-1',
        headers: { authorization: 'Bearer tok-2' },
        request: { privateKey: 'key-2', token: 'tok-3', path: '/v1' },
      },
      'careless',
    );
    logger.flush();
    const [line] = lines(file);
    expect(line).toMatchObject({
      token: '[redacted]',
      accessKey: '[redacted]',
      headers: { authorization: '[redacted]' },
      request: { privateKey: '[redacted]', token: '[redacted]', path: '/v1' },
    });
    expect(readFileSync(file, 'utf8')).not.toMatch(/tok-\d|key-\d/);
  });

  it('has a silent logger for library callers that pass none', () => {
    expect(silentLogger.isLevelEnabled('fatal')).toBe(false);
  });

  it.skipIf(!existsSync('/dev/full'))(
    'a log file the disk refuses (/dev/full): log calls go on silently, listeners hear it once, in words',
    () => {
      const logger = createLogger({ level: 'info', file: '/dev/full' });
      const heard: LogFileFailure[] = [];
      onLogFileFailure(logger, (failure) => heard.push(failure));
      expect(() => {
        for (let index = 0; index < 50; index++) logger.info({ index }, 'a line the disk will not take');
        logger.flush();
      }).not.toThrow();
      expect(heard).toHaveLength(1);
      expect(heard[0]).toMatchObject({ file: '/dev/full' });
      expect(heard[0]!.error).toMatchObject({
        code: 'OUTPUT_FILE',
        message: 'cannot write the log file /dev/full: the disk is full',
      });
      // A listener that comes later hears of it at once; one on another logger, never.
      const late: LogFileFailure[] = [];
      onLogFileFailure(logger, (failure) => late.push(failure));
      onLogFileFailure(silentLogger, (failure) => late.push(failure));
      expect(late).toEqual([heard[0]]);
    },
  );

  it('a log file that cannot be opened is an OUTPUT_FILE error naming it', () => {
    const notAFolder = writeFile(tempDir(), 'plain', 'x');
    const file = join(notAFolder, 'run.log');
    expect(() => createLogger({ level: 'info', file })).toThrow(
      expect.objectContaining({
        code: 'OUTPUT_FILE',
        message: expect.stringMatching(`^cannot write the log file ${file}: `),
      }),
    );
  });

  it('a stderr that is closed under it (EBADF) never throws out of a log call', () => {
    const logModule = fileURLToPath(new URL('../../dist/log.js', import.meta.url));
    const script = `
      import { closeSync } from 'node:fs';
      import { createLogger, onLogFileFailure } from ${JSON.stringify(logModule)};
      closeSync(2);
      const logger = createLogger({ level: 'debug' });
      let heard = 0;
      onLogFileFailure(logger, () => heard++);
      for (let index = 0; index < 100; index++) logger.debug({ index }, 'to a closed stderr');
      logger.flush();
      process.stdout.write('alive, heard ' + heard + '\\n');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stdout).toBe('alive, heard 0\n');
    expect(child.status).toBe(0);
  });
});
