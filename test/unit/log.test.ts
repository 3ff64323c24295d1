import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../src/log.js';
import { tempDir } from '../helpers/temp-dir.js';

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
});
