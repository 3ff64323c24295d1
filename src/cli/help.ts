import { EXIT_CODE_MEANINGS, type Command } from '../output/exit-codes.js';

/** The --help epilog of a command's exit codes, made from the one list of them. */
export function exitCodeHelp(command: Command): string {
  const lines = EXIT_CODE_MEANINGS.filter((entry) => entry.commands.includes(command)).map(({ code, meaning }) => {
    const [first, ...rest] = meaning.split('\n');
    const label = code.length > 3 ? `${code}  ` : code.padEnd(4);
    return [`  ${label}${first}`, ...rest.map((line) => `      ${line}`)].join('\n');
  });
  return `Exit codes:\n${lines.join('\n')}`;
}

export const ENV_HELP = `Environment:
  DS100_KEY_FILE      the console's API key file (or --key-file)
  DS100_OAUTH_CLIENT  an OAuth API client file (or --oauth-client)
  DS100_TOKEN         a ready bearer token instead (it cannot be renewed)
  DS100_BASE_URL      the adminRestApiUrl (--base-url); default: the key file's
  HTTPS_PROXY         proxy for https (HTTP_PROXY for http); NO_PROXY: go direct
  NODE_EXTRA_CA_CERTS PEM file of extra CA certificates (private CA, TLS proxy)`;

/** The widest line of an Examples block; --help never wraps narrower, so no example is broken. */
export const EXAMPLE_WIDTH = 72;
const WIDEST_HELP = 120;

/**
 * Columns to wrap --help at: the terminal's width, else `COLUMNS` (a pipe has no width, and yargs
 * then knows none), else 80; at most 120, and never below the widest example line: yargs breaks a
 * line with a real newline, which would cut a command in two, while a terminal's own soft wrap
 * still copies as one line.
 */
export function helpWidth(terminalColumns: number | null | undefined, columnsEnv: string | undefined): number {
  const fromEnv = Number.parseInt(columnsEnv ?? '', 10);
  const columns = terminalColumns || (fromEnv > 0 ? fromEnv : 80);
  return Math.max(EXAMPLE_WIDTH, Math.min(WIDEST_HELP, columns));
}

export interface HelpExample {
  /** What the example does, one line. */
  readonly what: string;
  /** The command as typed, starting with `ds100-bulk`. */
  readonly command: string;
}

/**
 * An "Examples:" block for the epilog. yargs' own example table gives a command at most half the
 * width and breaks it anywhere; here each command is broken before a flag, with a shell line
 * continuation, so that every line fits EXAMPLE_WIDTH and the whole still pastes as one command.
 */
export function examplesHelp(examples: readonly HelpExample[]): string {
  const blocks = examples.map(({ what, command }) => {
    const parts = command.split(/ (?=-)/);
    const lines: string[] = [];
    let line = `    ${parts.shift() ?? ''}`;
    for (const [index, part] of parts.entries()) {
      const continuation = index < parts.length - 1 ? ' \\'.length : 0;
      if (line.length + 1 + part.length + continuation > EXAMPLE_WIDTH) {
        lines.push(`${line} \\`);
        line = `      ${part}`;
      } else {
        line += ` ${part}`;
      }
    }
    lines.push(line);
    const tooWide = lines.find((text) => text.length > EXAMPLE_WIDTH);
    if (tooWide !== undefined) throw new Error(`help example wider than ${EXAMPLE_WIDTH} columns: ${tooWide}`);
    return [`  ${what}`, ...lines].join('\n');
  });
  return `Examples:\n${blocks.join('\n')}`;
}

const SIMULATE_ROLLOUT = 'ds100-bulk enable samples/shipment.csv --out results.csv --simulate';
const SIMULATE_NIGHTLY = 'ds100-bulk reconcile samples/shipment.csv --state demo.state --out last-run.csv --simulate';
const SIMULATE_DRY_RUN = 'ds100-bulk validate samples/shipment.csv';

/** The three jobs, each as a user runs it for real and as it runs at once against the simulator. */
export const JOB_EXAMPLES = {
  enable: [
    {
      what: 'Roll out a shipment with the console key file:',
      command: 'ds100-bulk enable shipment.csv --out results.csv --key-file 139f6495-....key',
    },
    { what: 'The same against the simulator (nothing real is touched):', command: SIMULATE_ROLLOUT },
    {
      what: 'Dry run: only check the file, like validate:',
      command: 'ds100-bulk enable samples/shipment.csv --out report.csv --dry-run',
    },
    { what: 'Nightly, enable what became possible since (see reconcile --help):', command: SIMULATE_NIGHTLY },
    {
      what: 'Apply a reviewed plan (see plan --help), 20 rows first, then ask:',
      command: 'ds100-bulk enable --plan plan.csv --out results.csv --canary 20 --key-file 139f6495-....key',
    },
    {
      what: 'Send again only the rows that did not succeed:',
      command: 'ds100-bulk enable --only-failed results.csv --out results-2.csv --key-file 139f6495-....key',
    },
  ],
  reconcile: [
    {
      what: 'Nightly from cron, in the folder that keeps the state file:',
      command:
        'ds100-bulk reconcile assignments.csv --state assignments.state --key-file /etc/ds100/tenant.key --out last-run.csv --summary-json last-run.json --max-runtime 3h',
    },
    { what: 'The same against the simulator (run it twice: nothing left to do):', command: SIMULATE_NIGHTLY },
    { what: 'The first rollout (see enable --help):', command: SIMULATE_ROLLOUT },
    { what: 'Dry run: check the file offline first:', command: SIMULATE_DRY_RUN },
  ],
  validate: [
    { what: 'Dry run: counts and examples per error code, no network:', command: SIMULATE_DRY_RUN },
    {
      what: 'Also one line per row, outcome valid or invalid:',
      command: 'ds100-bulk validate samples/shipment.csv --out report.csv',
    },
    { what: 'Then roll it out against the simulator (see enable --help):', command: SIMULATE_ROLLOUT },
    { what: 'And nightly (see reconcile --help):', command: SIMULATE_NIGHTLY },
  ],
  plan: [
    {
      what: 'What a run would do, changing nothing; enable --plan plan.csv applies exactly it:',
      command: 'ds100-bulk plan shipment.csv --out plan.csv --key-file 139f6495-....key',
    },
    {
      what: 'The same against the simulator:',
      command: 'ds100-bulk plan samples/shipment.csv --simulate',
    },
  ],
  disable: [
    {
      what: 'Take back what an enable run changed, with its undo file:',
      command: 'ds100-bulk disable results.undo.csv --out undo-results.csv --key-file 139f6495-....key',
    },
    {
      what: 'Preview it first, changing nothing:',
      command: 'ds100-bulk plan results.undo.csv --action disable --key-file 139f6495-....key',
    },
    {
      what: 'At most 5 disables, as a guard against a wrong file (exit 5), on the simulator:',
      command: 'ds100-bulk disable samples/shipment.csv --out disabled.csv --max-changes 5 --simulate',
    },
  ],
} satisfies Record<string, readonly HelpExample[]>;
