/**
 * Compact sets of fixed-width keys (device serials, user IDs) that hand out dense indexes 0, 1, 2 …
 *
 * Why not a Map<string, …>: the cross-row checks must remember every serial and every user of a
 * file before the first row is reported, and a million-row file would cost a few hundred MB as JS
 * strings and Map entries. Packed into typed arrays a key takes its words plus about 8 bytes of
 * slot table: 16 bytes for a serial of up to 16 digits, 24 for a user ID.
 */
// Linear probing stays short up to about this share of slots in use. A pre-scan inserts mostly new
// keys, and an insert probes about (1 + 1/(1-load)^2)/2 slots: 8.5 at a load of 0.75, which showed in
// the profile (7% of `validate`), 2.5 at 0.5, for about 2.7 bytes more per key.
const MAX_LOAD = 0.5;

// Slot tables are sized to the keys expected, not rounded up to a power of two (which wastes up to
// half of them): a hash maps onto 0 … length-1 by multiplying, as a fraction of 2^32, by the length.
const slotsFor = (keys: number): number => Math.ceil(keys / MAX_LOAD);

export class KeyTable {
  /** Unsigned 32-bit words per key; `widen()` raises it. */
  words: number;
  /** Scratch key: fill `key[0 .. words-1]`, then call `intern()`. Replaced by `widen()`. */
  key: Uint32Array;
  #keys: Uint32Array;
  /** Open addressing, linear probing; a slot holds index + 1, 0 is empty. */
  #slots: Int32Array;
  /** slots / 2^32: a 32-bit hash times this is a slot number. */
  #scale: number;
  #size = 0;

  constructor(words: number, initialCapacity = 1024) {
    this.words = words;
    this.key = new Uint32Array(words);
    const capacity = Math.max(16, initialCapacity);
    this.#keys = allocate(Uint32Array, capacity * words);
    this.#slots = allocate(Int32Array, slotsFor(capacity));
    this.#scale = this.#slots.length / 2 ** 32;
  }

  get size(): number {
    return this.#size;
  }

  #hashSlot(key: Uint32Array, offset: number): number {
    let hash = 0x811c9dc5;
    for (let word = 0; word < this.words; word++) {
      hash = Math.imul(hash ^ (key[offset + word] ?? 0), 0x01000193);
      hash ^= hash >>> 15;
    }
    hash = Math.imul(hash ^ (hash >>> 13), 0x5bd1e995) >>> 0;
    // Below slots.length: the product stays under length - length/2^32, far more than its rounding.
    return Math.floor(hash * this.#scale);
  }

  #equals(index: number): boolean {
    const base = index * this.words;
    for (let word = 0; word < this.words; word++) if (this.#keys[base + word] !== this.key[word]) return false;
    return true;
  }

  /** The slot of the scratch key, or the empty slot where it belongs. */
  #slotOf(): number {
    const last = this.#slots.length - 1;
    let slot = this.#hashSlot(this.key, 0);
    for (;;) {
      const stored = this.#slots[slot] ?? 0;
      if (stored === 0 || this.#equals(stored - 1)) return slot;
      slot = slot === last ? 0 : slot + 1;
    }
  }

  /** Whether the last `intern()` added its key. */
  wasNew = false;

  /** Index of the scratch key, adding it when new (then `wasNew` is true). */
  intern(): number {
    const slot = this.#slotOf();
    const stored = this.#slots[slot] ?? 0;
    this.wasNew = stored === 0;
    if (stored !== 0) return stored - 1;
    const index = this.#size++;
    if (index * this.words >= this.#keys.length) this.#keys = grow(this.#keys, this.#keys.length * 2);
    this.#keys.set(this.key, index * this.words);
    this.#slots[slot] = index + 1;
    if (this.#size > this.#slots.length * MAX_LOAD) this.#rehash(slotsFor(this.#size * 2));
    return index;
  }

  /** A copy of the words of key `index`. */
  read(index: number): Uint32Array {
    return this.#keys.slice(index * this.words, (index + 1) * this.words);
  }

  /**
   * Makes every key `words` long: existing keys keep their indexes and move to the end of the
   * longer key, after words of `fill` (for serials, the padding that longer packing puts there).
   */
  widen(words: number, fill: number): void {
    const extra = words - this.words;
    const keys = allocate(Uint32Array, (this.#keys.length / this.words) * words);
    for (let index = 0, from = 0, to = 0; index < this.#size; index++) {
      for (let word = 0; word < extra; word++) keys[to++] = fill;
      for (let word = 0; word < this.words; word++) keys[to++] = this.#keys[from++]!;
    }
    release(this.#keys);
    this.#keys = keys;
    this.words = words;
    this.key = new Uint32Array(words);
    this.#rehash(this.#slots.length); // the hash covers every word
  }

  /** Hands the table's memory back at once (see `release`); the table is unusable after. */
  release(): void {
    release(this.#keys);
    release(this.#slots);
  }

  #rehash(length: number): void {
    const slots = allocate(Int32Array, length);
    release(this.#slots);
    this.#slots = slots;
    this.#scale = length / 2 ** 32;
    const last = length - 1;
    for (let index = 0; index < this.#size; index++) {
      let slot = this.#hashSlot(this.#keys, index * this.words);
      while (slots[slot] !== 0) slot = slot === last ? 0 : slot + 1;
      slots[slot] = index + 1;
    }
  }
}

type TypedArray = Int32Array | Uint32Array | Uint8Array;
interface TypedArrayType<T extends TypedArray> {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

// Resizable buffers are ES2024 (in Node since 20); the ES2023 library this project targets lacks them.
interface ResizableBuffer extends ArrayBuffer {
  resize(byteLength: number): void;
}
const ResizableBuffer = ArrayBuffer as unknown as new (
  byteLength: number,
  options: { maxByteLength: number },
) => ResizableBuffer;

/**
 * A zero-filled typed array whose memory `release()` can hand back at once. Like any typed array's,
 * its pages cost nothing until written, so sizing for the most a file could need is free.
 */
export function allocate<T extends TypedArray>(Type: TypedArrayType<T>, length: number): T {
  const bytes = length * Type.BYTES_PER_ELEMENT;
  return new Type(new ResizableBuffer(bytes, { maxByteLength: bytes }), 0, length);
}

/**
 * Hands the memory of an array from `allocate` back now rather than at the garbage collector's
 * next full collection, which can come long after a big table became garbage, while the next
 * stage builds up its own memory: both at once would be the process's peak. The array is empty
 * after.
 */
export function release(array: TypedArray): void {
  (array.buffer as ResizableBuffer).resize(0);
}

/** A typed array (from `allocate`) `length` long, with the old contents; the old one is released. */
export function grow<T extends TypedArray>(array: T, length: number): T {
  const bigger = allocate(array.constructor as TypedArrayType<T>, length);
  bigger.set(array);
  release(array);
  return bigger;
}

// A serial is packed as nibbles, most significant first, left-padded with 0xF so that leading
// zeros count: 2 words hold up to 16 digits (every serial of a usual file), 5 words up to 36 (the
// longest the API accepts). The padding makes a 2-word key the tail of the same serial's 5-word
// key, so a table of short keys is widened by putting 3 words of 0xFFFFFFFF in front of each.
export const SHORT_SERIAL_WORDS = 2;
export const SERIAL_WORDS = 5;
export const SERIAL_PADDING_WORD = 0xffffffff;

/** Packs a digits-only serial into `into` (2 words: at most 16 digits, 5 words: at most 36). */
export function packSerial(serial: string, into: Uint32Array): void {
  // Whole words of padding are written at once; the rest is built in a local number (this runs
  // once per row).
  const nibbles = into.length * 8;
  const pad = nibbles - serial.length;
  let word = 0;
  for (; word < pad >>> 3; word++) into[word] = SERIAL_PADDING_WORD;
  let value = 0;
  let nibble = word * 8;
  let digit = 0;
  for (; nibble < nibbles; nibble++) {
    value = value * 16 + (nibble < pad ? 0xf : serial.charCodeAt(digit++) - 48);
    if ((nibble & 7) === 7) {
      into[word++] = value;
      value = 0;
    }
  }
}

export function unpackSerial(words: Uint32Array): string {
  let serial = '';
  for (let nibble = 0; nibble < words.length * 8; nibble++) {
    const digit = ((words[nibble >>> 3] ?? 0) >>> ((7 - (nibble & 7)) * 4)) & 0xf;
    if (digit !== 0xf) serial += String(digit);
  }
  return serial;
}

export const USER_ID_WORDS = 4;

// Where the 32 hex digits of an 8-4-4-4-12 user ID sit.
const HEX_POSITIONS = Array.from({ length: 36 }, (_, index) => index).filter(
  (index) => ![8, 13, 18, 23].includes(index),
);

/** Packs a well-formed 8-4-4-4-12 hex user ID into 4 words; case does not matter. */
export function packUserId(userId: string, into: Uint32Array): void {
  for (let word = 0; word < USER_ID_WORDS; word++) {
    let value = 0;
    for (let digit = word * 8; digit < word * 8 + 8; digit++) {
      const code = userId.charCodeAt(HEX_POSITIONS[digit]!);
      value = value * 16 + (code <= 57 ? code - 48 : (code | 32) - 87);
    }
    into[word] = value;
  }
}

/** The canonical lower-case 8-4-4-4-12 form. */
export function unpackUserId(words: Uint32Array): string {
  const hex = Array.from(words, (word) => word.toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
