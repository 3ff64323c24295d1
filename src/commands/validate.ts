import type { InputFormat } from '../input/input-format.js';
import { openInput, type ReadItem } from '../input/open-input.js';
import { inputName } from '../input/stdin.js';
import type { RowProblem, ValidationRules } from '../input/validate-row.js';
import { CROSS_ROW_CODES } from '../input/verdict.js';
import { silentLogger, type Logger } from '../log.js';
import { validationExitCode } from '../output/exit-codes.js';
import { checkFileClashes } from '../output/file-clashes.js';
import { writeReportFiles } from '../output/report-files.js';
import { writeReport } from '../output/report-html.js';
import { AttentionCollector } from '../output/report-rows.js';
import { ResultsWriter } from '../output/results-writer.js';
import type { ValidationSummary } from '../output/summary.js';
import { resolveRules } from '../pipeline/run-options.js';
import { resultOf, type RowErrorCode, type RowResult } from '../types.js';

/** Options of `validate()`, which `ds100-bulk validate` and `enable --dry-run` call. */
export interface ValidateOptions {
  /** CSV of device/user pairs with a header row; `-` reads stdin. */
  readonly input: string;
  /** The input's separator and encoding (`--delimiter`, `--encoding`). Default: detected separator, UTF-8. */
  readonly inputFormat?: InputFormat | undefined;
  /** Report CSV (the results format, outcome `valid` or `invalid`), `-` for stdout; none when omitted. */
  readonly out?: string | undefined;
  /** Start a CSV `out` file with a UTF-8 BOM (for Excel). Default true; never on stdout, no effect on `.xlsx`. */
  readonly bom?: boolean | undefined;
  /** `serialLength` (default 9, 0 = off) and `strict` (default false: warnings do not block a row). */
  readonly rules?: Partial<ValidationRules> | undefined;
  /** Examples kept per code for the summary. Default 3. */
  readonly examplesPerCode?: number | undefined;
  /** Write a self-contained HTML report here at the end, atomically (the invalid rows, the first 10,000). */
  readonly report?: string | undefined;
  /** Where a failure to write `report` is logged. Default: nowhere. */
  readonly logger?: Logger | undefined;
}

/** What `validate()` found, and the exit code it calls for. */
export interface ValidationResult extends ValidationSummary {
  /** 0 when every row is valid, 1 otherwise; 7 instead of 0 when `report` could not be written. */
  readonly exitCode: number;
  /** Why `report` could not be written (names the file and the reason), if it could not. */
  readonly reportFailure?: string | undefined;
}

type Counts = Partial<Record<RowErrorCode, number>>;

/**
 * Checks an input file offline with exactly the checks a run applies (the same `openInput`, whose
 * rows it reads once, as a run does), and writes a per-row report when `out` is given. No network,
 * no credentials. Throws a Ds100Error INPUT_FILE when the file itself cannot be used, USAGE when
 * `out` is the input (compared as files, before anything is opened).
 */
export async function validate(options: ValidateOptions): Promise<ValidationResult> {
  await checkFileClashes({
    inputs: { 'the input file': options.input },
    outputs: { '--out': options.out, '--report': options.report },
  });
  const started = Date.now();
  const examplesPerCode = options.examplesPerCode ?? 3;
  const input = await openInput(options.input, { rules: resolveRules(options.rules), format: options.inputFormat });
  if (input.formatNote) options.logger?.info({ input: inputName(options.input) }, input.formatNote);
  let writer: ResultsWriter | undefined;
  try {
    writer =
      options.out === undefined
        ? undefined
        : await ResultsWriter.open(options.out, input.columns.carriedNames, { bom: options.bom });
  } catch (error) {
    await input.close();
    throw error;
  }

  let valid = 0;
  // A row's own codes and the codes across rows are counted apart and listed in that order, each in
  // order of first appearance: the summary sorts codes by count, and ties keep this order.
  const ownErrors: Counts = {};
  const crossRowErrors: Counts = {};
  const byWarningCode: Counts = {};
  const examples = new Map<RowErrorCode, ReadonlyArray<{ readonly line: number; readonly message: string }>>();
  const note = (counts: Counts, line: number, { code, message }: RowProblem): void => {
    counts[code] = (counts[code] ?? 0) + 1;
    const kept = examples.get(code) ?? [];
    if (kept.length < examplesPerCode) examples.set(code, [...kept, { line, message }]);
  };
  const attention = options.report ? new AttentionCollector() : undefined;
  const resultFor = (item: ReadItem, finding: RowProblem | undefined): RowResult =>
    resultOf(item.row, {
      outcome: item.kind === 'invalid' ? 'invalid' : 'valid',
      errorCode: finding?.code,
      errorMessage: finding?.message,
      attempts: 0,
    });

  try {
    for await (const item of input.items) {
      if (item.kind === 'invalid') {
        const result = resultFor(item, item.problem);
        attention?.add(result);
        note(CROSS_ROW_CODES.has(item.problem.code) ? crossRowErrors : ownErrors, item.row.line, item.problem);
        if (writer) await writer.write(result);
        continue;
      }
      valid++;
      if (item.warning) note(byWarningCode, item.row.line, item.warning);
      if (writer) await writer.write(resultFor(item, item.warning));
    }
  } finally {
    await writer?.close();
  }
  const summary: ValidationSummary = {
    input: inputName(options.input),
    readAs: input.formatNote,
    out: options.out ?? '',
    rows: input.rows,
    valid,
    invalid: input.rows - valid,
    byErrorCode: { ...ownErrors, ...crossRowErrors },
    byWarningCode,
    examples,
    elapsedMs: Date.now() - started,
  };
  const { exitCode, failure } = writeReportFiles(
    [
      {
        file: options.report,
        what: 'the HTML report',
        write: (file, exitCode) =>
          writeReport(file, {
            command: 'validate',
            input: summary.input,
            out: summary.out,
            simulated: false,
            elapsedMs: summary.elapsedMs,
            rows: summary.rows,
            byOutcome: { valid: summary.valid, invalid: summary.invalid },
            byErrorCode: { ...summary.byErrorCode, ...summary.byWarningCode },
            exitCode,
            attention: attention?.collected ?? { rows: [], more: 0 },
          }),
      },
    ],
    validationExitCode(summary),
    options.logger ?? silentLogger,
  );
  return { ...summary, exitCode, reportFailure: failure };
}
