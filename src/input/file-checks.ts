import { isUtf8 } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import { describeFsError, Ds100Error } from '../errors.js';
import type { InputEncoding } from './input-format.js';

/**
 * Checks that a file is a CSV at all before any row is read: people send spreadsheets, PDFs and
 * UTF-16 exports under a .csv name. Each message says what the file is and how to save it properly.
 */

const SAVE_AS_CSV = 'in Excel use File > Save As > "CSV UTF-8 (Comma delimited) (*.csv)"';

const SIGNATURES: ReadonlyArray<{ readonly bytes: readonly number[]; readonly what: string }> = [
  {
    bytes: [0x50, 0x4b, 0x03, 0x04],
    what: 'a ZIP archive, most likely an Excel workbook (.xlsx) or another spreadsheet format',
  },
  {
    bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
    what: 'an old-style Excel workbook (.xls) or another Office document',
  },
  { bytes: [0x25, 0x50, 0x44, 0x46, 0x2d], what: 'a PDF document' },
  { bytes: [0x1f, 0x8b], what: 'a gzip-compressed file' },
];

const inputFileError = (message: string, cause?: unknown): Ds100Error =>
  new Ds100Error('INPUT_FILE', message, cause === undefined ? undefined : { cause });

// Enough for every signature, and for a binary or UTF-16 file to show a NUL byte.
const KIND_BYTES = 4096;

const startsWith = (head: Uint8Array, bytes: readonly number[]): boolean =>
  head.length >= bytes.length && bytes.every((byte, index) => head[index] === byte);

/** The Ds100Error INPUT_FILE for a file that cannot be opened or read (a Ds100Error is kept as it is). */
export const cannotRead = (file: string, error: unknown): Ds100Error =>
  error instanceof Ds100Error
    ? error
    : inputFileError(`${file}: cannot read the input file: ${describeFsError(error as NodeJS.ErrnoException)}`, error);

/**
 * Throws a Ds100Error INPUT_FILE when the file whose first bytes are `start` (named `file` in
 * messages) is empty, binary, a known non-CSV format, or not in `encoding` by its first bytes:
 * UTF-16 unless `utf-16le` was asked for, UTF-16 big-endian or UTF-8 with a BOM when it was, UTF-8
 * with a BOM when a single-byte encoding was.
 */
export function checkFileKind(start: Uint8Array, file: string, encoding: InputEncoding): void {
  // Judged on the first KIND_BYTES only, however much of the file the caller read.
  const head = start.subarray(0, KIND_BYTES);
  if (head.length === 0) {
    throw inputFileError(`${file}: the file is empty (0 bytes); expected a header line and rows of pairs`);
  }
  for (const { bytes, what } of SIGNATURES) {
    if (startsWith(head, bytes)) {
      throw inputFileError(`${file}: this is not a CSV file but ${what}; ${SAVE_AS_CSV} and try again`);
    }
  }
  const isUtf16Le = startsWith(head, [0xff, 0xfe]);
  const isUtf16Be = startsWith(head, [0xfe, 0xff]);
  if (startsWith(head, [0xef, 0xbb, 0xbf]) && encoding !== 'utf-8') {
    throw inputFileError(
      `${file}: the file starts with a UTF-8 byte order mark, so it is UTF-8, not ${encoding}; leave out --encoding`,
    );
  }
  if (encoding === 'utf-16le') {
    // UTF-16 text is full of NUL bytes: the binary check below does not apply.
    if (isUtf16Be) {
      throw inputFileError(
        `${file}: the file is saved as UTF-16 big-endian, not UTF-16LE; ${SAVE_AS_CSV} and try again`,
      );
    }
    return;
  }
  if (isUtf16Le || isUtf16Be) {
    const instead = isUtf16Le ? 'pass --encoding utf-16le to read it as it is, or ' : '';
    throw inputFileError(
      `${file}: the file is saved as UTF-16 ("Unicode text"), not UTF-8; ${instead}${SAVE_AS_CSV} and try again`,
    );
  }
  const nul = head.indexOf(0);
  if (nul !== -1) {
    throw inputFileError(
      `${file}: this is not a text file (byte ${nul} is a NUL byte, as in binary files or UTF-16 text); ` +
        `${SAVE_AS_CSV} and try again (or, for UTF-16LE text, pass --encoding utf-16le)`,
    );
  }
}

/** Length of the UTF-8 sequence a lead byte starts, or 0 for a byte that cannot start one. */
const sequenceLength = (byte: number): number =>
  byte < 0x80
    ? 1
    : byte >= 0xc2 && byte <= 0xdf
      ? 2
      : byte >= 0xe0 && byte <= 0xef
        ? 3
        : byte >= 0xf0 && byte <= 0xf4
          ? 4
          : 0;

/** Offset of the first byte that is not valid UTF-8 in `bytes` (slow; only used once a chunk failed). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const length = sequenceLength(bytes[index]!);
    if (length === 0 || index + length > bytes.length) return index;
    if (length > 1 && !isUtf8(bytes.subarray(index, index + length))) return index;
    index += length;
  }
  return -1;
}

/**
 * Checks a byte stream for valid UTF-8 chunk by chunk (simdutf through `isUtf8`), carrying a
 * character that a chunk boundary cut in two over to the next chunk.
 */
export class Utf8Checker {
  #carry: Buffer = Buffer.alloc(0);
  /** Bytes checked before the current carry. */
  #offset = 0;

  /** Returns the file offset of the first invalid byte, or -1. */
  push(chunk: Buffer): number {
    const bytes = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    // Hold back an incomplete last sequence: find the last lead byte in the final three bytes.
    let cut = bytes.length;
    for (let back = 1; back <= Math.min(3, bytes.length); back++) {
      const byte = bytes[bytes.length - back]!;
      if ((byte & 0xc0) !== 0x80) {
        if (sequenceLength(byte) > back) cut = bytes.length - back;
        break;
      }
    }
    const whole = bytes.subarray(0, cut);
    if (!isUtf8(whole)) return this.#offset + Math.max(0, firstInvalidUtf8(whole));
    this.#offset += cut;
    this.#carry = Buffer.from(bytes.subarray(cut));
    return -1;
  }

  /** Call at the end of the stream: a sequence cut off by the end of the file is invalid. */
  end(): number {
    return this.#carry.length > 0 ? this.#offset : -1;
  }
}

/**
 * 1-based line of a byte offset, and the offending bytes, for the not-UTF-8 message. Read from the
 * open `handle` (which stays open), not by name: `file` is only the name in messages (`stdin` for a
 * copy of standard input).
 */
export async function describeUtf8Error(handle: FileHandle, file: string, offset: number): Promise<Ds100Error> {
  let line = 1;
  let bytes = '';
  const stream = handle.createReadStream({ start: 0, end: offset + 3, autoClose: false });
  let position = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const before = Math.max(0, Math.min(chunk.length, offset - position));
    for (let at = chunk.indexOf(0x0a); at !== -1 && at < before; at = chunk.indexOf(0x0a, at + 1)) line++;
    for (let index = before; index < chunk.length; index++) {
      bytes += ` 0x${chunk[index]!.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    position += chunk.length;
  }
  const shown = bytes.trim().split(' ')[0] ?? '';
  return inputFileError(
    `${file}: the file is not UTF-8: byte offset ${offset} (line ${line}) is ${shown}, which is not valid UTF-8. ` +
      'It was probably saved as Latin-1 / Windows-1252 ("ANSI"): pass --encoding windows-1252 to read it as it is, ' +
      `or ${SAVE_AS_CSV}, or convert it (iconv -f WINDOWS-1252 -t UTF-8), and try again`,
  );
}
