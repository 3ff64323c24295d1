import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { CsvError } from 'csv-parse';
import { Ds100Error } from '../errors.js';
import type { InputRow } from '../types.js';
import type { ColumnMap } from './columns.js';
import { chooseDelimiter, readHead } from './delimiter.js';
import { cannotRead, checkFileKind } from './file-checks.js';
import {
  describeInputFormat,
  resolveInputFormat,
  type Delimiter,
  type InputEncoding,
  type InputFormat,
} from './input-format.js';
import { checkOnItsOwn, prescan, userKeyOf, type Prescan } from './prescan.js';
import { readCsv } from './read-csv.js';
import { holdStdin, inputName, STDIN, type StdinHold } from './stdin.js';
import { DEFAULT_RULES, type RowProblem, type ValidationRules } from './validate-row.js';
import { crossRowVerdict, type Claim } from './verdict.js';

/** A row ready to send (perhaps with a warning), or one that must not be sent and why. */
export type ReadItem =
  | { readonly kind: 'row'; readonly row: InputRow; readonly warning?: RowProblem | undefined }
  | { readonly kind: 'invalid'; readonly row: InputRow; readonly problem: RowProblem };

export interface OpenedInput {
  readonly columns: ColumnMap;
  /** Data rows, blank lines not counted. */
  readonly rows: number;
  /**
   * Every data row in file order with its verdict, read again from the file; iterate once. Nothing is
   * read until then. The file is closed at the end, or when the loop is left early.
   */
  readonly items: AsyncIterable<ReadItem>;
  /** Closes the file without reading the rows, for a caller that gives up before iterating `items`. */
  close(): Promise<void>;
  /** The separator the file was read with: as given, or detected from the header. */
  readonly delimiter: Delimiter;
  /** The encoding the file was read in. */
  readonly encoding: InputEncoding;
  /**
   * One line saying how the file was read (`input.csv: values separated by ";" (detected from the
   * header; --delimiter overrides)`) when it was not comma-separated UTF-8; undefined otherwise.
   */
  readonly formatNote: string | undefined;
  /** Hex SHA-256 of the file's bytes as the first read found them (the second read checks they did not change). */
  readonly sha256: string;
}

export interface OpenInputOptions {
  /** How strict the checks are. Default DEFAULT_RULES (9 digits, not strict). */
  readonly rules?: ValidationRules | undefined;
  /** A file with a header and no rows is an error (default); the simulator's tenant file may be empty. */
  readonly requireRows?: boolean | undefined;
  /** The separator and encoding (`--delimiter`, `--encoding`). Default: detected separator, UTF-8. */
  readonly format?: InputFormat | undefined;
  /** How messages name the file; default its path (`stdin` for `-`). */
  readonly name?: string | undefined;
}

// csv-parse's own message names the line where it gave up (the end of the file), not the row's.
const malformedProblem = (error: CsvError): RowProblem => ({
  code: 'MALFORMED_CSV',
  message:
    error.code === 'CSV_QUOTE_NOT_CLOSED'
      ? 'a quoted field in this row is never closed: everything from its opening quote to the end of the file ' +
        'was read as one field and could not be used; look for an unbalanced " in this row'
      : `the line is not valid CSV: ${error.message}`,
});

const fileChanged = (file: string, what: string): Ds100Error =>
  new Ds100Error(
    'INPUT_FILE',
    `${file}: the file changed while it was being read (${what}); run again on a file that is not being edited`,
  );

/** What pass 2 needs of the file and of pass 1. */
interface SecondRead {
  readonly handle: FileHandle;
  /** The file's name in messages. */
  readonly file: string;
  /** Closes the file (and lets go of stdin's copy). */
  readonly close: () => Promise<void>;
  /** The file as pass 1 found it. */
  readonly stats: BigIntStats;
  readonly scan: Prescan;
  readonly rules: ValidationRules;
  readonly delimiter: Delimiter;
  readonly encoding: InputEncoding;
}

/**
 * Pass 2: the rows again, from the same open file, each with its verdict; closes the file when done
 * or left. Rows of a serial that appears more than once need the serial's first row, which this pass
 * meets before the later ones.
 */
async function* judgeRows({
  handle,
  file,
  close,
  stats,
  scan,
  rules,
  delimiter,
  encoding,
}: SecondRead): AsyncGenerator<ReadItem> {
  try {
    const now = await handle.stat({ bigint: true });
    if (now.size !== stats.size || now.mtimeNs !== stats.mtimeNs) {
      throw fileChanged(file, 'its size or modification time differs from the first read');
    }
    const { columns, names, facts } = scan;
    const firstRowOf = new Map<string, Claim>();
    let isHeader = true;
    let rows = 0;
    for await (const item of readCsv(handle, { file, delimiter, encoding })) {
      if (isHeader) {
        isHeader = false;
        continue;
      }
      if (++rows > scan.rows) break;
      if ('error' in item) {
        // An empty cell per carried column: the row's results line is as wide as the header.
        const carried = columns.carriedIndexes.map(() => '');
        const row: InputRow = { line: item.line, deviceSerialNumber: '', userId: '', carried };
        yield { kind: 'invalid', row, problem: malformedProblem(item.error) };
        continue;
      }
      const { record, line } = item;
      const row: InputRow = {
        line,
        deviceSerialNumber: record[columns.serialIndex] ?? '',
        userId: record[columns.userIdIndex] ?? '',
        carried: columns.carriedIndexes.map((column) => record[column] ?? ''),
        email: columns.emailIndex === undefined ? undefined : (record[columns.emailIndex] ?? ''),
      };
      const problem = checkOnItsOwn(record, scan);
      if (problem !== undefined) {
        yield { kind: 'invalid', row, problem };
        continue;
      }
      const serial = row.deviceSerialNumber;
      const userId = userKeyOf(record, columns);
      let first: Claim | undefined;
      if (facts.repeatedSerials.has(serial)) {
        first = firstRowOf.get(serial);
        if (first === undefined) firstRowOf.set(serial, { userId, line });
      }
      const verdict = crossRowVerdict({ serial, userId, first }, facts, rules, names);
      yield verdict.problem === undefined
        ? { kind: 'row', row, warning: verdict.warning }
        : { kind: 'invalid', row, problem: verdict.problem };
    }
    if (rows !== scan.rows) {
      const found = rows > scan.rows ? `more than ${scan.rows}` : String(rows);
      throw fileChanged(file, `the second read found ${found} rows, the first ${scan.rows}`);
    }
  } finally {
    await close();
  }
}

/**
 * Opens a CSV of device/user pairs and checks all of it before returning: the file's kind and
 * encoding, the header, every row on its own and the rules across rows (see verdict.ts). A file that
 * cannot be used throws a Ds100Error INPUT_FILE; a bad row never throws.
 *
 * The file is read twice through one open file descriptor: the pre-scan here, then `items`, which
 * streams the rows again with their verdicts. So nothing is sent before the whole file has been
 * checked, and an editor that saves by replacing the file changes nothing in between; a file
 * changed in place (its size or modification time differ) makes `items` throw before any row.
 *
 * Both reads use one separator, `options.format.delimiter` or the one the header is found with (see
 * delimiter.ts), and one encoding: UTF-8, checked, unless `options.format.encoding` says otherwise.
 * A bad `options.format` throws a Ds100Error USAGE before the file is opened.
 *
 * `-` reads standard input, through the process's copy of it (see stdin.ts); messages call it `stdin`.
 */
export async function openInput(file: string, options: OpenInputOptions = {}): Promise<OpenedInput> {
  const rules = options.rules ?? DEFAULT_RULES;
  const format = resolveInputFormat(options.format);
  const { encoding } = format;
  const name = options.name ?? inputName(file);
  const stdin: StdinHold | undefined = file === STDIN ? await holdStdin() : undefined;
  const handle = await open(stdin?.path ?? file, 'r').catch(async (error: unknown) => {
    await stdin?.release();
    throw cannotRead(name, error);
  });
  const close = async (): Promise<void> => {
    await handle.close();
    await stdin?.release();
  };
  try {
    let stats: BigIntStats;
    let head: Awaited<ReturnType<typeof readHead>>;
    try {
      stats = await handle.stat({ bigint: true });
      head = await readHead(handle, encoding);
    } catch (error) {
      throw cannotRead(name, error);
    }
    checkFileKind(head.bytes, name, encoding);
    const { delimiter, isDetected } = chooseDelimiter(head.text, name, format.delimiter);
    // From the bytes pass 1 reads anyway: a fingerprint costs no read of its own.
    const hash = createHash('sha256');
    const scan = await prescan(
      readCsv(handle, { file: name, checkUtf8: true, delimiter, encoding, onBytes: (bytes) => hash.update(bytes) }),
      { file: name, requireRows: options.requireRows },
    );
    return {
      columns: scan.columns,
      rows: scan.rows,
      items: judgeRows({ handle, file: name, close, stats, scan, rules, delimiter, encoding }),
      close,
      delimiter,
      encoding,
      formatNote: describeInputFormat(name, { delimiter, encoding, isDelimiterDetected: isDetected }),
      sha256: hash.digest('hex'),
    };
  } catch (error) {
    await close();
    throw error;
  }
}
