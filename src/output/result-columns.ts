import type { RowResult } from '../types.js';

/** The results file's fixed columns, in order: the public contract. Carried input columns follow. */
export const RESULT_COLUMNS = [
  'line',
  'deviceSerialNumber',
  'userId',
  'outcome',
  'tokenSerialNumber',
  'tokenStatus',
  'tokenStatusChangedAt',
  'tokenStatusChangedBy',
  'httpStatus',
  'errorCode',
  'errorMessage',
  'attempts',
] as const;

const fixedNames = new Set(RESULT_COLUMNS.map((name) => name.toLowerCase()));

/** What a carried column named like a fixed one is prefixed with in the results. */
const CARRIED_PREFIX = 'input.';

/** A carried column named like a fixed one (say "outcome") is written as "input.outcome". */
export const resultHeader = (carriedNames: readonly string[]): string[] => [
  ...RESULT_COLUMNS,
  ...carriedNames.map((name) => (fixedNames.has(name.toLowerCase()) ? `${CARRIED_PREFIX}${name}` : name)),
];

/** A carried column's name as the input had it: what resultHeader prefixed, unprefixed. Pure. */
export const originalName = (name: string): string =>
  name.startsWith(CARRIED_PREFIX) && fixedNames.has(name.slice(CARRIED_PREFIX.length).toLowerCase())
    ? name.slice(CARRIED_PREFIX.length)
    : name;

export const resultRecord = (result: RowResult): string[] => [
  String(result.line),
  result.deviceSerialNumber,
  result.userId,
  result.outcome,
  result.token?.tokenSerialNumber ?? '',
  result.token?.tokenStatus ?? '',
  result.token?.tokenStatusChangedAt ?? '',
  result.token?.tokenStatusChangedBy ?? '',
  result.httpStatus === undefined ? '' : String(result.httpStatus),
  result.errorCode ?? '',
  result.errorMessage ?? '',
  String(result.attempts),
  ...result.carried,
];
