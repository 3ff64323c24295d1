import { createHash } from 'node:crypto';
import { openInput } from '../input/open-input.js';
import type { Ds100Pair } from '../types.js';

/** A DS100 OTP credential as the simulated tenant holds it. */
export interface Credential extends Ds100Pair {
  readonly tokenSerialNumber: string;
  tokenStatus: 'Enabled' | 'Disabled';
  tokenStatusChangedAt: string;
  tokenStatusChangedBy: string;
}

// The real service's last two digits vary; the simulator makes them up from a hash so that clients
// cannot get away with deriving the token serial from the device serial.
const tokenSerialFor = (serial: string): string => {
  const suffix = createHash('sha256').update(serial).digest().readUInt16BE(0) % 100;
  return `0${serial}${String(suffix).padStart(2, '0')}`;
};

/** The simulated tenant's registered DS100s, by device serial. */
export class Registry {
  readonly #bySerial = new Map<string, Credential>();

  register(pair: Ds100Pair): Credential {
    const credential = Registry.credentialFor(pair);
    this.#bySerial.set(pair.deviceSerialNumber, credential);
    return credential;
  }

  /** The credential a freshly registered DS100 has, without registering it. */
  static credentialFor(pair: Ds100Pair): Credential {
    return {
      deviceSerialNumber: pair.deviceSerialNumber,
      userId: pair.userId,
      tokenSerialNumber: tokenSerialFor(pair.deviceSerialNumber),
      tokenStatus: 'Disabled',
      tokenStatusChangedAt: new Date().toISOString(),
      tokenStatusChangedBy: 'registration',
    };
  }

  get(serial: string): Credential | undefined {
    return this.#bySerial.get(serial);
  }

  get size(): number {
    return this.#bySerial.size;
  }

  /** Registers every valid pair of a CSV in the same format the tool reads. */
  static async fromCsv(file: string): Promise<Registry> {
    const registry = new Registry();
    const { items } = await openInput(file, { requireRows: false });
    for await (const item of items) if (item.kind === 'row') registry.register(item.row);
    return registry;
  }
}

/** A small deterministic PRNG (mulberry32) so generated data and random faults are repeatable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct, well-formed pairs: 9-digit serials from 140100000 and random hex user IDs. */
export function* generatePairs(count: number, seed = 1): Generator<Ds100Pair> {
  const random = seededRandom(seed);
  const hex = (length: number): string => Array.from({ length }, () => Math.floor(random() * 16).toString(16)).join('');
  for (let index = 0; index < count; index++) {
    yield {
      deviceSerialNumber: String(140_100_000 + index),
      userId: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
    };
  }
}
