import { join } from 'node:path';
import { generatePairs } from '../../src/simulator/index.js';
import type { Ds100Pair } from '../../src/types.js';

/** Input CSVs for tests: generated pairs, the shipment shape, and the checked-in fixtures. */

/** `count` well-formed pairs, the same ones for the same seed. */
export const somePairs = (count: number, seed = 1): Ds100Pair[] => [...generatePairs(count, seed)];

/** An input CSV with the standard header and the given pairs. */
export const pairsCsv = (pairs: readonly Ds100Pair[], header = 'deviceSerialNumber,userId'): string =>
  `${header}\n${pairs.map((pair) => `${pair.deviceSerialNumber},${pair.userId}`).join('\n')}\n`;

/** `count` well-formed rows, serials from 140100000, with a `note` column carried through. */
export function shipmentCsv(count: number): string {
  const lines = ['deviceSerialNumber,userId,note'];
  for (let index = 0; index < count; index++) {
    const hex = index.toString(16).padStart(12, '0');
    lines.push(`${140_100_000 + index},aaaaaaaa-bbbb-cccc-dddd-${hex},row ${index}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A checked-in input under test/fixtures/validate/. */
export const fixture = (name: string): string => join(import.meta.dirname, '..', 'fixtures', 'validate', name);

export const USER_1 = '8899d818-977d-6aa2-2466-92996dcc5940';
export const USER_2 = 'bf42b589-d2dd-601d-7848-b1a07af6750b';
export const USER_3 = '6c485d21-a925-6eda-6e96-480e4611b881';
