import fc from 'fast-check';

/**
 * How many cases each property tries, small enough that the whole folder takes a few seconds. The
 * seed is fixed so that every `npm test` tries the same cases; `FC_SEED=<n> npx vitest run test/property`
 * tries others. A failure prints its seed and path, which replay it.
 */
const seed = process.env['FC_SEED'] === undefined ? 20_240_917 : Number(process.env['FC_SEED']);

// A run that takes this long is a hang: the files are at most a few hundred bytes.
const plugins = [fc.timeout(5_000)];

export const RUNS = {
  anyFile: { numRuns: 200, seed, plugins },
  csvCase: { numRuns: 100, seed, plugins },
} as const;
