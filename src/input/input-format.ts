import { usageError } from '../errors.js';

/**
 * How the bytes of an input file become values: which character separates them and which encoding
 * the text is in. Excel writes `;` in locales where the comma is the decimal mark, and "ANSI"
 * (Windows-1252) or "Unicode text" (UTF-16LE) unless told to save as CSV UTF-8.
 */

/** The separators tried on the header, in order of preference: a tie goes to the earlier one. */
export const DELIMITERS = [',', ';', '\t', '|'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

/**
 * The encodings an input file may be read in. `latin1` is read as Windows-1252, as browsers and
 * TextDecoder read it: the two differ only in bytes 0x80-0x9F, which are invisible control
 * characters in ISO-8859-1 and € ‚ „ … in Windows-1252, and a file said to be Latin-1 that has
 * such bytes means the latter.
 */
export const ENCODINGS = ['utf-8', 'windows-1252', 'latin1', 'utf-16le'] as const;
export type InputEncoding = (typeof ENCODINGS)[number];

/** How to read an input file (`--delimiter`, `--encoding`). */
export interface InputFormat {
  /**
   * The separator between values: `,` `;` `|`, or a tab as `\t` or `tab`. Default: detected from
   * the header (the separator that finds a device serial column in the most columns; `,` on a tie).
   * Example: `{ delimiter: ';' }`.
   */
  readonly delimiter?: string | undefined;
  /**
   * The file's encoding: `utf-8` (default; a file that is not is refused), `windows-1252` (alias
   * `cp1252`), `latin1` (read as windows-1252) or `utf-16le` (alias `utf16le`; a BOM is dropped).
   * Results and other files written stay UTF-8. Example: `{ encoding: 'windows-1252' }`.
   */
  readonly encoding?: string | undefined;
}

/** An InputFormat checked: the delimiter, if one was given, and the encoding by its canonical name. */
interface ResolvedInputFormat {
  readonly delimiter: Delimiter | undefined;
  readonly encoding: InputEncoding;
}

const DELIMITER_NAMES: Readonly<Record<string, Delimiter>> = { ',': ',', ';': ';', '|': '|', '\t': '\t', tab: '\t' };
// A literal backslash-t, as a shell passes `--delimiter '\t'`.
const BACKSLASH_T = '\\t';

const ENCODING_NAMES: Readonly<Record<string, InputEncoding>> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'windows-1252': 'windows-1252',
  cp1252: 'windows-1252',
  latin1: 'latin1',
  'utf-16le': 'utf-16le',
  utf16le: 'utf-16le',
};

/**
 * Checks `--delimiter` and `--encoding` (names compared case-insensitively). Throws Ds100Error USAGE
 * with the values it accepts. Pure.
 */
export function resolveInputFormat(format: InputFormat | undefined): ResolvedInputFormat {
  const { delimiter, encoding } = format ?? {};
  let resolvedDelimiter: Delimiter | undefined;
  if (delimiter !== undefined) {
    resolvedDelimiter = delimiter === BACKSLASH_T ? '\t' : DELIMITER_NAMES[delimiter.toLowerCase()];
    if (resolvedDelimiter === undefined) {
      throw usageError(
        `Expected \`inputFormat.delimiter\` (--delimiter) to be one of , ; tab |, got ${JSON.stringify(delimiter)}`,
      );
    }
  }
  const resolvedEncoding = encoding === undefined ? 'utf-8' : ENCODING_NAMES[encoding.toLowerCase()];
  if (resolvedEncoding === undefined) {
    throw usageError(
      `Expected \`inputFormat.encoding\` (--encoding) to be one of ${ENCODINGS.join(', ')}, got ${JSON.stringify(encoding)}`,
    );
  }
  return { delimiter: resolvedDelimiter, encoding: resolvedEncoding };
}

const delimiterName = (delimiter: Delimiter): string => (delimiter === '\t' ? 'tabs' : `"${delimiter}"`);

/**
 * The one line that says how `file` was read when it was not comma-separated UTF-8, for the run's
 * log and validate's summary; undefined for a plain CSV.
 */
export function describeInputFormat(
  file: string,
  {
    delimiter,
    encoding,
    isDelimiterDetected,
  }: { delimiter: Delimiter; encoding: InputEncoding; isDelimiterDetected: boolean },
): string | undefined {
  const parts: string[] = [];
  if (delimiter !== ',') {
    const how = isDelimiterDetected ? 'detected from the header; --delimiter overrides' : 'as --delimiter says';
    parts.push(`values separated by ${delimiterName(delimiter)} (${how})`);
  }
  if (encoding !== 'utf-8') {
    parts.push(`read as ${encoding === 'latin1' ? 'latin1 (windows-1252)' : encoding} as --encoding says`);
  }
  return parts.length === 0 ? undefined : `${file}: ${parts.join('; ')}`;
}
