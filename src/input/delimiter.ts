import type { FileHandle } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { Ds100Error } from '../errors.js';
import { isSerialColumnName } from './columns.js';
import { DELIMITERS, type Delimiter, type InputEncoding } from './input-format.js';

// Enough for any header; the records after it are not looked at.
const HEAD_BYTES = 64 * 1024;

/**
 * The start of the file: its bytes (for checkFileKind) and the same as text in `encoding` (for
 * finding the header's separator).
 */
export async function readHead(
  handle: FileHandle,
  encoding: InputEncoding,
): Promise<{ readonly bytes: Uint8Array; readonly text: string }> {
  const buffer = Buffer.alloc(HEAD_BYTES);
  const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
  const bytes = buffer.subarray(0, bytesRead);
  // Not fatal: a byte that is not UTF-8 is refused by the full read, with its line.
  return { bytes, text: new TextDecoder(encoding).decode(bytes) };
}

/**
 * The header's fields as the reader would see them with `delimiter`: the first record that is not
 * blank, read by csv-parse with the reader's options. None when it cannot be parsed.
 */
export function headerFields(head: string, delimiter: Delimiter): string[] {
  const records = parse(head, {
    bom: true,
    delimiter,
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    // Blank records (",,,") are skipped before they count towards `to`, as the reader skips them.
    skip_records_with_empty_values: true,
    skip_records_with_error: true,
    to: 1,
  }) as string[][];
  return records[0] ?? [];
}

/**
 * The separator whose header has a device serial column, in the most fields; on a tie the earlier
 * of `, ; tab |`. Undefined when none has one. Chosen by the serial column alone, so that every
 * alternative user column counts alike.
 */
export function detectDelimiter(head: string): Delimiter | undefined {
  let best: { readonly delimiter: Delimiter; readonly fields: number } | undefined;
  for (const delimiter of DELIMITERS) {
    const header = headerFields(head, delimiter);
    if (!header.some(isSerialColumnName)) continue;
    if (best === undefined || header.length > best.fields) best = { delimiter, fields: header.length };
  }
  return best?.delimiter;
}

const shown = (delimiter: Delimiter): string => (delimiter === '\t' ? 'tab' : `"${delimiter}"`);

/**
 * The separator to read `file` with: `given` (--delimiter), else the detected one, else a comma
 * (whose header then fails with the reason). A `given` separator that finds no serial column where
 * another would is refused, naming the other: reading a `;` file as commas cannot succeed.
 */
export function chooseDelimiter(
  head: string,
  file: string,
  given: Delimiter | undefined,
): { readonly delimiter: Delimiter; readonly isDetected: boolean } {
  const detected = detectDelimiter(head);
  if (given === undefined) return { delimiter: detected ?? ',', isDetected: detected !== undefined };
  if (detected !== undefined && detected !== given && !headerFields(head, given).some(isSerialColumnName)) {
    throw new Ds100Error(
      'INPUT_FILE',
      `${file}: line 1: with --delimiter ${shown(given)} the header has no device serial column, but with ` +
        `${shown(detected)} it has; leave out --delimiter, or pass --delimiter ${shown(detected)}`,
    );
  }
  return { delimiter: given, isDetected: false };
}
