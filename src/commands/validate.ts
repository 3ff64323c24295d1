import { openInput } from '../input/read-rows.js';
import { DEFAULT_RULES, type ValidationRules } from '../input/validate-row.js';
import { ResultsWriter } from '../output/results-writer.js';
import type { ValidationSummary } from '../output/summary.js';

/** Options of `validate()`, which `ds100-bulk validate` and `enable --dry-run` call. */
export interface ValidateOptions {
  /** CSV of device/user pairs with a header row. */
  readonly input: string;
  /** Report CSV (the results format, outcome `valid` or `invalid`), `-` for stdout; none when omitted. */
  readonly out?: string | undefined;
  /** `serialLength` (default 9, 0 = off) and `strict` (default false: warnings do not block a row). */
  readonly rules?: Partial<ValidationRules> | undefined;
  /** Examples kept per code for the summary. Default 3. */
  readonly examplesPerCode?: number | undefined;
}

/**
 * Checks an input file offline with exactly the checks a run applies (the same `openInput`), and
 * writes a per-row report when `out` is given. No network, no credentials. Throws a Ds100Error
 * INPUT_FILE when the file itself cannot be used.
 */
export async function validate(options: ValidateOptions): Promise<ValidationSummary> {
  const started = Date.now();
  const input = await openInput(options.input, {
    rules: { ...DEFAULT_RULES, ...options.rules },
    examplesPerCode: options.examplesPerCode,
  });
  if (options.out !== undefined) {
    const writer = await ResultsWriter.open(options.out, input.columns.carriedNames);
    try {
      for await (const batch of input.batches) {
        for (const item of batch) {
          const finding = item.kind === 'invalid' ? item.problem : item.warning;
          await writer.write({
            ...item.row,
            outcome: item.kind === 'invalid' ? 'invalid' : 'valid',
            errorCode: finding?.code,
            errorMessage: finding?.message,
            attempts: 0,
          });
        }
      }
    } finally {
      await writer.close();
    }
  }
  const { rows, valid, invalid, byErrorCode, byWarningCode, examples } = input.scan;
  return {
    input: options.input,
    out: options.out ?? '',
    rows,
    valid,
    invalid,
    byErrorCode,
    byWarningCode,
    examples,
    elapsedMs: Date.now() - started,
  };
}
