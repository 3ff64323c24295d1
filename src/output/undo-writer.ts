import { open, type FileHandle } from 'node:fs/promises';
import { parse as parseStream } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { describeFsError, Ds100Error } from '../errors.js';
import type { ChangingCommand, PlanAction, RowResult } from '../types.js';
import { CsvResultsWriter, type ResultsWriter, type ResultsWriterOptions } from './results-writer.js';

/**
 * The undo file: one line per credential a run changed, in the input format (`deviceSerialNumber,
 * userId` and the input's other columns, as they were named), so that it is itself an input. The
 * undo file of `enable` or `reconcile` is the input of a `disable` that takes the run back, and the
 * undo file of a `disable` the input of an `enable`. Written through the results' CSV writer, as
 * rows finish; a file that exists with the same header is appended to, so that a re-run or a
 * `--resume` never loses the lines of an earlier run. A pair the file lists already is not added
 * again: a run shortly after another counts the other's changes as its own (see isChangedByRun), and
 * a pair twice in an input is a DUPLICATE_ROW.
 */

/** An existing undo file to append to: whether it needs a line break first, and the pairs it lists. */
export interface UndoAppend {
  readonly needsLineBreak: boolean;
  /** `undoKey`s of the pairs the file lists. */
  readonly listed: ReadonlySet<string>;
}

/** A pair as the undo file lists it once: user IDs compared in any case, as the input checks do. */
const undoKey = (serial: string, userId: string): string => `${serial}|${userId.toLowerCase()}`;

/** The undo file's header: the input format, with the input's carried columns as named there. */
export const undoHeader = (carriedNames: readonly string[]): string[] => [
  'deviceSerialNumber',
  'userId',
  ...carriedNames,
];

/** A row as the undo file holds it: the pair, then the carried values, as the input had them. */
const undoRecord = (result: RowResult): string[] => [result.deviceSerialNumber, result.userId, ...result.carried];

/** The command that takes a run's changes back: `disable` for enable and reconcile, `enable` for disable. */
export const undoCommandOf = (command: ChangingCommand): PlanAction => (command === 'disable' ? 'enable' : 'disable');

/**
 * Where a run writes its undo file when `--undo-file` is not given: next to the results,
 * `<results>.undo.csv` (`results.csv` and `results.xlsx` give `results.undo.csv`); with the results
 * on stdout or none, reconcile's goes next to its state file (`<state>.undo.csv`) and enable's and
 * disable's is not written (undefined). Pure.
 */
export function undoFileOf(options: {
  readonly command: string;
  readonly out?: string | undefined;
  readonly state?: string | undefined;
  readonly undoFile?: string | undefined;
}): string | undefined {
  const { command, out, state } = options;
  if (command !== 'enable' && command !== 'reconcile' && command !== 'disable') return undefined;
  if (options.undoFile !== undefined) return options.undoFile;
  if (out !== undefined && out !== '' && out !== '-') return `${out.replace(/\.(csv|xlsx)$/i, '')}.undo.csv`;
  return command === 'reconcile' && state !== undefined ? `${state}.undo.csv` : undefined;
}

// A header longer than this is no undo file's.
const HEAD_BYTES = 64 * 1024;

/**
 * How to open an undo file for `header`: undefined to create it (it does not exist, or is empty),
 * else appended to, with a line break first when its last line lacks one, and the pairs it lists.
 * Throws a Ds100Error OUTPUT_FILE naming the file when it exists with another header (or cannot be
 * read): a run that cannot keep its undo lines changes nothing.
 */
export async function checkUndoFile(path: string, header: readonly string[]): Promise<UndoAppend | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Ds100Error(
      'OUTPUT_FILE',
      `cannot read the undo file ${path}: ${describeFsError(error as NodeJS.ErrnoException)}`,
      {
        cause: error,
      },
    );
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return undefined;
    const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
    await handle.read(head, 0, head.length, 0);
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    const found = firstRecord(head.toString('utf8'));
    if (found === undefined || found.join('\u0000') !== header.join('\u0000')) {
      const shown = found === undefined ? 'no CSV header' : `the header "${found.join(',')}"`;
      throw new Ds100Error(
        'OUTPUT_FILE',
        `${path}: line 1: the undo file exists with ${shown}, not this run's "${header.join(',')}"; ` +
          'it is only appended to with the same columns: name another file with --undo-file, or move this one away',
      );
    }
    return { needsLineBreak: last[0] !== 0x0a, listed: await listedPairs(handle, path) };
  } finally {
    await handle.close();
  }
}

/**
 * The pairs an undo file lists (its first two columns), read as a stream through the handle the
 * header was checked with: one key per line kept.
 */
async function listedPairs(handle: FileHandle, path: string): Promise<Set<string>> {
  const listed = new Set<string>();
  // The caller closes the handle.
  const source = handle.createReadStream({ autoClose: false, start: 0 });
  const records = source.pipe(
    parseStream({ bom: true, from_line: 2, relax_column_count: true, skip_empty_lines: true }),
  );
  try {
    for await (const record of records as AsyncIterable<string[]>) {
      const [serial, userId] = record;
      if (serial !== undefined && userId !== undefined) listed.add(undoKey(serial, userId));
    }
  } catch (error) {
    throw new Ds100Error('OUTPUT_FILE', `${path}: the undo file cannot be read as CSV: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    source.destroy();
  }
  return listed;
}

/** The first record of a CSV text (a BOM is dropped), or undefined when it is none. */
function firstRecord(text: string): string[] | undefined {
  try {
    const [record] = parse(text, { bom: true, to_line: 1, relax_column_count: true }) as string[][];
    return record;
  } catch {
    return undefined;
  }
}

/** Options of `openUndoWriter`. */
export interface UndoWriterOptions extends Pick<ResultsWriterOptions, 'onError' | 'bom'> {
  /** From `checkUndoFile`: append to the existing file rather than create it. */
  readonly append: UndoAppend | undefined;
}

/**
 * Opens the undo file and, unless appending, writes its header (with a BOM as for the results, only
 * when it is created). Throws a Ds100Error OUTPUT_FILE naming the file when it cannot be written. A
 * failed write later is reported through `onError` and thrown by `write` and `close`, as for the results.
 */
export async function openUndoWriter(
  path: string,
  carriedNames: readonly string[],
  options: UndoWriterOptions,
): Promise<ResultsWriter> {
  const { append } = options;
  const listed = append?.listed;
  const layout = {
    header: undoHeader(carriedNames),
    record: undoRecord,
    what: 'the undo file',
    append: append && { needsLineBreak: append.needsLineBreak },
    // A run's own rows are each one pair (duplicates in an input are invalid): only the file's are left out.
    keep: listed && ((result: RowResult) => !listed.has(undoKey(result.deviceSerialNumber, result.userId))),
  };
  return CsvResultsWriter.openLayout(path, layout, { onError: options.onError, bom: options.bom });
}
