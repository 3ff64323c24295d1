import { describe, expect, it } from 'vitest';
import {
  KeyTable,
  packSerial,
  packUserId,
  SERIAL_WORDS,
  unpackSerial,
  unpackUserId,
  USER_ID_WORDS,
} from '../../src/input/key-table.js';
import { Utf8Checker } from '../../src/input/file-checks.js';

describe('KeyTable', () => {
  it('hands out dense indexes, finds them again across regrowth, and keeps leading zeros apart', () => {
    const table = new KeyTable(SERIAL_WORDS, 4);
    const serials = Array.from({ length: 5000 }, (_, index) => String(index));
    serials.push('0', '00', '000000001', '1'.repeat(36));
    const indexes = serials.map((serial) => {
      packSerial(serial, table.key);
      return { index: table.intern(), wasNew: table.wasNew };
    });
    expect(indexes.map(({ wasNew }) => wasNew).filter(Boolean)).toHaveLength(serials.length - 1); // '0' twice
    const words = new Uint32Array(SERIAL_WORDS);
    serials.forEach((serial, position) => {
      packSerial(serial, table.key);
      expect(table.find()).toBe(indexes[position]!.index);
      table.read(indexes[position]!.index, words);
      expect(unpackSerial(words)).toBe(serial);
    });
    packSerial('123456789012', table.key);
    expect(table.find()).toBe(-1);
  });

  it('packs user IDs case-insensitively and unpacks the canonical form', () => {
    const table = new KeyTable(USER_ID_WORDS);
    packUserId('ECE30FE9-414C-7536-5403-0656220B3046', table.key);
    const index = table.intern();
    packUserId('ece30fe9-414c-7536-5403-0656220b3046', table.key);
    expect([table.intern(), table.wasNew]).toEqual([index, false]);
    const words = new Uint32Array(USER_ID_WORDS);
    table.read(index, words);
    expect(unpackUserId(words)).toBe('ece30fe9-414c-7536-5403-0656220b3046');
  });
});

describe('Utf8Checker', () => {
  it('accepts a multi-byte character cut in two by a chunk boundary', () => {
    const bytes = Buffer.from('a€b😀c', 'utf8');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const checker = new Utf8Checker();
      expect(checker.push(bytes.subarray(0, cut))).toBe(-1);
      expect(checker.push(bytes.subarray(cut))).toBe(-1);
      expect(checker.end()).toBe(-1);
    }
  });

  it('reports the file offset of the first invalid byte, also in a later chunk', () => {
    const checker = new Utf8Checker();
    expect(checker.push(Buffer.from('abc€'))).toBe(-1);
    expect(checker.push(Buffer.from([0x61, 0xe9, 0x62]))).toBe(7);
  });

  it('reports a sequence cut off by the end of the file', () => {
    const checker = new Utf8Checker();
    expect(checker.push(Buffer.from([0x61, 0xe2, 0x82]))).toBe(-1);
    expect(checker.end()).toBe(1);
  });
});
