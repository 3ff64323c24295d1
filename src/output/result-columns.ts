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

/** A carried column named like a fixed one (say "outcome") is written as "input.outcome". */
export const resultHeader = (carriedNames: readonly string[]): string[] => [
  ...RESULT_COLUMNS,
  ...carriedNames.map((name) => (fixedNames.has(name.toLowerCase()) ? `input.${name}` : name)),
];

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
