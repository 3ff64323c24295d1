/**
 * Compact sets of fixed-width keys (device serials, user IDs) that hand out dense indexes 0, 1, 2 …
 *
 * Why not a Map<string, …>: the cross-row checks must remember every serial and every user of a
 * file before the first row is reported, and a million-row file would cost a few hundred MB as JS
 * strings and Map entries. Packed into typed arrays the same facts take about 30 bytes per key.
 */
// Linear probing stays short up to about this share of slots in use.
const MAX_LOAD = 0.75;

export class KeyTable {
  /** Unsigned 32-bit words per key. */
  readonly words: number;
  /** Scratch key: fill `key[0 .. words-1]`, then call `intern()` or `find()`. */
  readonly key: Uint32Array;
  #keys: Uint32Array;
  /** Open addressing, linear probing; a slot holds index + 1, 0 is empty. */
  #slots: Int32Array;
  #size = 0;

  constructor(words: number, initialCapacity = 1024) {
    this.words = words;
    this.key = new Uint32Array(words);
    const capacity = Math.max(16, initialCapacity);
    this.#keys = new Uint32Array(capacity * words);
    // A power of two (a mask replaces the modulo) with room for `capacity` keys at the maximum load.
    this.#slots = new Int32Array(2 ** Math.ceil(Math.log2(capacity / MAX_LOAD)));
  }

  get size(): number {
    return this.#size;
  }

  #hash(key: Uint32Array, offset: number): number {
    let hash = 0x811c9dc5;
    for (let word = 0; word < this.words; word++) {
      hash = Math.imul(hash ^ (key[offset + word] ?? 0), 0x01000193);
      hash ^= hash >>> 15;
    }
    return Math.imul(hash ^ (hash >>> 13), 0x5bd1e995) >>> 0;
  }

  #equals(index: number): boolean {
    const base = index * this.words;
    for (let word = 0; word < this.words; word++) if (this.#keys[base + word] !== this.key[word]) return false;
    return true;
  }

  #slotOf(): number {
    const mask = this.#slots.length - 1;
    let slot = this.#hash(this.key, 0) & mask;
    for (;;) {
      const stored = this.#slots[slot] ?? 0;
      if (stored === 0 || this.#equals(stored - 1)) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /** Index of the scratch key, or -1 when it was never interned. */
  find(): number {
    return (this.#slots[this.#slotOf()] ?? 0) - 1;
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
    if (this.#size > this.#slots.length * MAX_LOAD) this.#rehash();
    return index;
  }

  /** Copies the words of key `index` into `into`. */
  read(index: number, into: Uint32Array): void {
    into.set(this.#keys.subarray(index * this.words, (index + 1) * this.words));
  }

  #rehash(): void {
    const slots = new Int32Array(this.#slots.length * 2);
    const mask = slots.length - 1;
    for (let index = 0; index < this.#size; index++) {
      let slot = this.#hash(this.#keys, index * this.words) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = index + 1;
    }
    this.#slots = slots;
  }
}

/** A typed array twice as long (or `length` long), with the old contents. */
export function grow<T extends Int32Array | Uint32Array | Uint8Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}

// A serial is up to 36 digits: 40 nibbles (5 words), left-padded with 0xF so leading zeros count.
export const SERIAL_WORDS = 5;
const SERIAL_NIBBLES = SERIAL_WORDS * 8;

/** Packs a digits-only serial of at most 36 digits into `into`. */
export function packSerial(serial: string, into: Uint32Array): void {
  // Nibbles, most significant first: 0xF padding, then one nibble per digit. Whole words of
  // padding are written at once; the rest is built in a local number (this runs once per row).
  const pad = SERIAL_NIBBLES - serial.length;
  let word = 0;
  for (; word < pad >>> 3; word++) into[word] = 0xffffffff;
  let value = 0;
  let nibble = word * 8;
  let digit = 0;
  for (; nibble < SERIAL_NIBBLES; nibble++) {
    value = value * 16 + (nibble < pad ? 0xf : serial.charCodeAt(digit++) - 48);
    if ((nibble & 7) === 7) {
      into[word++] = value;
      value = 0;
    }
  }
}

export function unpackSerial(words: Uint32Array): string {
  let serial = '';
  for (let nibble = 0; nibble < SERIAL_NIBBLES; nibble++) {
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
