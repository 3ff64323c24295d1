import { readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { usageError } from '../errors.js';

/**
 * The guard every command runs before it opens anything for writing: no file it writes may be a
 * file it reads, or another file it writes. It lives with the outputs because it decides whether
 * they may be opened at all; the input stage reads and knows nothing of what a run writes.
 *
 * Files are compared as the kernel will open them, not as they are spelled: by device and inode
 * (`stat` follows symlinks, and a hard link is the same inode under another name), and a file that
 * does not exist yet by where it would be created (its real folder and its name, through any
 * dangling symlink). So a symlink, a hard link, `sub/../input.csv` and `dir-link/new.csv` are all
 * caught, and two outputs in different folders that share a name are not.
 */

/** Files by the words that name them in a message (a flag such as `--out`); undefined: not given. */
export type NamedFiles = Readonly<Record<string, string | undefined>>;

/** What a command reads and what it writes. A new output (say an undo file) is one more entry. */
export interface FileRoles {
  readonly inputs: NamedFiles;
  readonly outputs: NamedFiles;
}

/** Not a file: `-` is stdin or stdout; what is not a path at all is for the option checks to name. */
const isFile = (path: unknown): path is string => typeof path === 'string' && path !== '' && path !== '-';

// As many symlinks as Linux follows before it gives up (ELOOP).
const MAX_SYMLINKS = 40;

/** Where creating `path` would put the file: its folder's real path and its name, following a dangling symlink. */
async function whereCreated(path: string, hops = 0): Promise<string> {
  // dirname of the path as given, not of a normalised one: `link/..` is the link target's parent.
  const folder = await realpath(dirname(path)).catch(() => resolve(dirname(path)));
  const at = join(folder, basename(path));
  const target = hops < MAX_SYMLINKS ? await readlink(at).catch(() => undefined) : undefined;
  return target === undefined ? at : whereCreated(resolve(folder, target), hops + 1);
}

/**
 * The names under which a file is known: `inode:` its device and inode when it exists, `path:` its
 * real path (or where it would be created). Two files are the same when they share a name.
 */
async function identitiesOf(path: string): Promise<string[]> {
  const found = await stat(path, { bigint: true }).catch(() => undefined);
  if (found === undefined) return [`path:${await whereCreated(path)}`];
  const real = await realpath(path).catch(() => resolve(path));
  return [`inode:${found.dev}:${found.ino}`, `path:${real}`];
}

// A label may say more than the flag ("the lock file of --state"); the advice names the flag alone.
const flagIn = (label: string): string => /--[a-z][a-z-]*/.exec(label)?.[0] ?? label;

/**
 * Throws a Ds100Error USAGE naming both files when an output is an input or another output; opens,
 * creates and writes nothing. Outputs are compared in the order given, inputs first. `-` and
 * undefined entries are skipped.
 *
 * @example
 * await checkFileClashes({
 *   inputs: { 'the input file': 'shipment.csv', '--key-file': 'tenant.key' },
 *   outputs: { '--out': 'results.csv', '--summary-json': 'summary.json' },
 * });
 */
export async function checkFileClashes({ inputs, outputs }: FileRoles): Promise<void> {
  const identify = async (files: NamedFiles) =>
    Promise.all(
      Object.entries(files)
        .filter((entry): entry is [string, string] => isFile(entry[1]))
        .map(async ([label, path]) => ({ label, path, names: await identitiesOf(path) })),
    );
  const [read, written] = await Promise.all([identify(inputs), identify(outputs)]);
  const known = new Map<string, { readonly label: string; readonly path: string; readonly isInput: boolean }>();
  for (const file of read) for (const name of file.names) known.set(name, { ...file, isInput: true });
  for (const file of written) {
    for (const name of file.names) {
      const other = known.get(name);
      if (other === undefined) continue;
      const harm = other.isInput ? 'writing would destroy it' : 'one would overwrite the other';
      throw usageError(
        `${file.label} (${file.path}) and ${other.label} (${other.path}) are the same file: ${harm}; ` +
          `give another ${flagIn(file.label)}`,
      );
    }
    for (const name of file.names) known.set(name, { ...file, isInput: false });
  }
}
