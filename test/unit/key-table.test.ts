import { describe, expect, it } from 'vitest';
import {
  allocate,
  KeyTable,
  packSerial,
  packUserId,
  release,
  SERIAL_PADDING_WORD,
  SERIAL_WORDS,
  SHORT_SERIAL_WORDS,
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
    serials.forEach((serial, position) => {
      packSerial(serial, table.key);
      expect([table.intern(), table.wasNew]).toEqual([indexes[position]!.index, false]);
      expect(unpackSerial(table.read(indexes[position]!.index))).toBe(serial);
    });
    packSerial('123456789012', table.key);
    expect([table.intern(), table.wasNew]).toEqual([table.size - 1, true]);
  });

  it('widens short serial keys in place: same indexes, found again in the long packing, longer serials added', () => {
    const table = new KeyTable(SHORT_SERIAL_WORDS, 16);
    const short = Array.from({ length: 40 }, (_, index) => String(140100000 + index));
    short.push('0', '00', '1234567890123456', '0234567890123456');
    const indexes = short.map((serial) => {
      packSerial(serial, table.key);
      return table.intern();
    });
    // The 2-word packing is the tail of the 5-word one, after words of padding.
    const long = new Uint32Array(SERIAL_WORDS);
    packSerial('1234567890123456', long);
    packSerial('1234567890123456', table.key);
    expect([...long]).toEqual([SERIAL_PADDING_WORD, SERIAL_PADDING_WORD, SERIAL_PADDING_WORD, ...table.key]);

    table.widen(SERIAL_WORDS, SERIAL_PADDING_WORD);
    expect([table.words, table.key.length, table.size]).toEqual([SERIAL_WORDS, SERIAL_WORDS, short.length]);
    short.forEach((serial, position) => {
      packSerial(serial, table.key);
      expect([table.intern(), table.wasNew]).toEqual([indexes[position], false]);
      expect(unpackSerial(table.read(indexes[position]!))).toBe(serial);
    });
    for (const serial of ['12345678901234567', '1'.repeat(36), '0'.repeat(36)]) {
      packSerial(serial, table.key);
      const index = table.intern();
      expect([index, table.wasNew]).toEqual([table.size - 1, true]);
      expect(unpackSerial(table.read(index))).toBe(serial);
    }
  });

  it('packs user IDs case-insensitively and unpacks the canonical form', () => {
    const table = new KeyTable(USER_ID_WORDS);
    packUserId('ECE30FE9-414C-7536-5403-0656220B3046', table.key);
    const index = table.intern();
    packUserId('ece30fe9-414c-7536-5403-0656220b3046', table.key);
    expect([table.intern(), table.wasNew]).toEqual([index, false]);
    expect(unpackUserId(table.read(index))).toBe('ece30fe9-414c-7536-5403-0656220b3046');
  });
});

describe('release', () => {
  it('hands the memory of a table and of an array back at once: using them after fails', () => {
    const table = new KeyTable(USER_ID_WORDS, 4096);
    packUserId('ece30fe9-414c-7536-5403-0656220b3046', table.key);
    const index = table.intern();
    expect(table.read(index)).toHaveLength(USER_ID_WORDS);
    table.release();
    expect(() => table.read(index)).toThrow(/detached/);
    const array = allocate(Int32Array, 1 << 20).fill(7);
    release(array);
    expect([array.length, array.buffer.byteLength]).toEqual([0, 0]);
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
