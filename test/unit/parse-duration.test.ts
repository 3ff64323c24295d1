import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/cli/options.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['45m', 2_700_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['1h0m5s', 3_605_000],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '0s', '90', '1.5h', 'h', '5 m', '-1m'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
