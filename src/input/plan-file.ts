import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { describeFsError, Ds100Error } from '../errors.js';
import type { InputRow, Outcome, PlanAction } from '../types.js';

/**
 * A plan file is `plan --out plan.csv`'s results with one more line at the end, its fingerprint:
 *
 *     # ds100-bulk plan; action=enable; rows=3000; input-sha256=…; plan-sha256=…; input=/path/ship.csv
 *
 * `input-sha256` is the SHA-256 of the input file's bytes when the plan was made; `plan-sha256` is
 * the SHA-256 of every byte of the plan file before this line. `enable --plan` (or `disable --plan`)
 * checks both before anything is sent, so what a reviewer approved is what runs: an edited plan or
 * a changed input is refused. The line starts with `#` so that people see it for what it is; a
 * spreadsheet shows it as a last row of one cell.
 */

const TRAILER_START = '# ds100-bulk plan;';

/** What a plan was made from, as its fingerprint line records it. */
interface PlanFingerprint {
  /** The command the plan previews. */
  readonly action: PlanAction;
  /** Data rows of the input. */
  readonly rows: number;
  /** SHA-256 (hex) of the input file's bytes. */
  readonly inputSha256: string;
  /** The input as the plan command was given it (resolved to an absolute path; `stdin` for `-`). */
  readonly input: string;
}

/** The fingerprint line of a plan whose bytes before it hash to `planSha256`. Pure. */
export function formatPlanTrailer(fingerprint: PlanFingerprint, planSha256: string): string {
  const { action, rows, inputSha256, input } = fingerprint;
  // The input last: a path may hold "; ", and everything after "input=" is the path.
  return `${TRAILER_START} action=${action}; rows=${rows}; input-sha256=${inputSha256}; plan-sha256=${planSha256}; input=${input}\n`;
}

/** One row of a plan, by the input line it is about. */
interface PlannedRow {
  readonly deviceSerialNumber: string;
  /** The user the plan looked the device up for (an email column's address resolved to its ID). */
  readonly userId: string;
  readonly outcome: Outcome | string;
  /** The plan file's own line, for messages. */
  readonly planLine: number;
}

/** A plan file whose fingerprint checked out: what it was made from, and its rows by input line. */
export interface AppliedPlan extends PlanFingerprint {
  /** The plan file's path, for messages. */
  readonly file: string;
  readonly rowsByLine: ReadonlyMap<number, PlannedRow>;
}

const planError = (file: string, message: string): Ds100Error => new Ds100Error('INPUT_FILE', `${file}: ${message}`);

const REQUIRED = ['line', 'deviceSerialNumber', 'userId', 'outcome'] as const;

/** The fingerprint fields of a trailer line; undefined when it is not one. Pure. */
export function parsePlanTrailer(line: string): (PlanFingerprint & { readonly planSha256: string }) | undefined {
  if (!line.startsWith(TRAILER_START)) return undefined;
  const at = line.indexOf('; input=');
  if (at < 0) return undefined;
  const input = line.slice(at + '; input='.length).replace(/\r?\n$/, '');
  const fields = new Map(
    line
      .slice(TRAILER_START.length, at)
      .split(';')
      .map((part) => part.trim().split('=') as [string, string | undefined]),
  );
  const action = fields.get('action');
  const rows = Number(fields.get('rows'));
  const inputSha256 = fields.get('input-sha256');
  const planSha256 = fields.get('plan-sha256');
  if ((action !== 'enable' && action !== 'disable') || !Number.isSafeInteger(rows)) return undefined;
  if (!/^[0-9a-f]{64}$/.test(inputSha256 ?? '') || !/^[0-9a-f]{64}$/.test(planSha256 ?? '')) return undefined;
  return { action, rows, inputSha256: inputSha256!, planSha256: planSha256!, input };
}

/**
 * Reads a plan file and checks its fingerprint line against its own bytes. Throws a Ds100Error
 * INPUT_FILE (exit 2) naming the file when it cannot be read, has no fingerprint line (it was not
 * made by `plan --out`, or the plan run was killed before it ended), was edited after it was made,
 * or its columns are not a plan's. The whole file is read at once: a plan of 100,000 rows is some
 * 20 MB.
 */
export async function readPlanFile(file: string): Promise<AppliedPlan> {
  const bytes = await readFile(file).catch((error: unknown) => {
    throw planError(file, `cannot read the plan: ${describeFsError(error as NodeJS.ErrnoException)}`);
  });
  // The fingerprint is the last line; a trailing newline after it, or none, are both fine.
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0a ? bytes.length - 1 : bytes.length;
  const start = bytes.lastIndexOf(0x0a, end - 1) + 1;
  const fingerprint = parsePlanTrailer(bytes.subarray(start, end).toString('utf8'));
  if (fingerprint === undefined) {
    throw planError(
      file,
      'not a complete plan: its last line is not the "# ds100-bulk plan; …" fingerprint that `plan --out` ' +
        'writes when it ends (an .xlsx plan, or a plan run that was killed, has none); make the plan again',
    );
  }
  const body = bytes.subarray(0, start);
  if (createHash('sha256').update(body).digest('hex') !== fingerprint.planSha256) {
    throw planError(
      file,
      'the plan was changed after it was made (its bytes no longer match its fingerprint line); ' +
        'a plan is applied only as it was reviewed: make the plan again with `plan --out`',
    );
  }
  const records = parse(body, { bom: true, relax_column_count: true }) as string[][];
  const header = records[0] ?? [];
  const at = Object.fromEntries(REQUIRED.map((name) => [name, header.indexOf(name)])) as Record<
    (typeof REQUIRED)[number],
    number
  >;
  const missing = REQUIRED.filter((name) => at[name] < 0);
  if (missing.length > 0) throw planError(file, `line 1: not a plan's header (no ${missing.join(', ')} column)`);
  const rowsByLine = new Map<number, PlannedRow>();
  // A plan's cells are one line each (tool-made, and its fingerprint shows it was not edited).
  records.slice(1).forEach((record, index) => {
    rowsByLine.set(Number(record[at.line]), {
      deviceSerialNumber: record[at.deviceSerialNumber] ?? '',
      userId: record[at.userId] ?? '',
      outcome: record[at.outcome] ?? '',
      planLine: index + 2,
    });
  });
  return { ...fingerprint, file, rowsByLine };
}

/**
 * What a plan says to do with an input row: send it (the plan's userId, which for an email row is
 * the ID the plan resolved), or leave it with the plan's verdict. `action`'s planned outcome is
 * `would-enable` / `would-disable`. Pure.
 */
export function plannedFor(
  plan: AppliedPlan,
  row: InputRow,
):
  | { readonly send: true; readonly userId: string }
  | { readonly send: false; readonly why: string; readonly outcome: string } {
  const planned = plan.rowsByLine.get(row.line);
  const where = (entry: PlannedRow): string => `${plan.file} line ${entry.planLine}`;
  if (planned === undefined) return { send: false, outcome: '', why: `the plan has no row for input line ${row.line}` };
  if (planned.deviceSerialNumber !== row.deviceSerialNumber) {
    return { send: false, outcome: '', why: `the plan's row (${where(planned)}) is about another device` };
  }
  if (planned.outcome === `would-${plan.action}`) return { send: true, userId: planned.userId };
  return {
    send: false,
    outcome: planned.outcome,
    why: `the plan said ${planned.outcome} (${where(planned)}); not sent`,
  };
}
