/**
 * "Did you mean …?" for mistyped flags. yargs suggests commands (`recommendCommands`) but not flags,
 * and its edit distance is internal, so this is the same few lines; a dependency for them would
 * weigh more than the code.
 */

/** Levenshtein distance: single-character insertions, deletions and substitutions. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The known name closest to `typed`, or undefined when none is close: a third of the typed length
 * may differ (at least one, at most three characters), so `ot` finds `out` but `x` finds nothing.
 * A unique known name that starts with `typed` (`--concur`) counts as close too.
 */
export function closestName(typed: string, known: readonly string[]): string | undefined {
  const allowed = Math.min(3, Math.max(1, Math.floor(typed.length / 3)));
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const name of known) {
    const distance = editDistance(typed, name);
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  if (best !== undefined) return best;
  const extensions = known.filter((name) => name.startsWith(typed));
  return typed.length >= 3 && extensions.length === 1 ? extensions[0] : undefined;
}

const UNKNOWN_ARGUMENTS = /^Unknown arguments?: (.+)$/;

/**
 * yargs' strict-mode message with a suggestion for each unknown name that was typed as a flag
 * (`--simulat`, `-simulat`, `--simulat=x`) and is close to one of `knownFlags`; other messages, and
 * unknown positionals, are returned unchanged.
 */
export function withFlagSuggestions(message: string, args: readonly string[], knownFlags: readonly string[]): string {
  const unknown = UNKNOWN_ARGUMENTS.exec(message)?.[1]?.split(', ') ?? [];
  const typedAsFlags = new Set(args.filter((arg) => arg.startsWith('-')).map((arg) => arg.replace(/^-+|=.*$/g, '')));
  const suggestions = unknown
    .filter((name) => typedAsFlags.has(name))
    .flatMap((name) => {
      const closest = closestName(name, knownFlags);
      return closest === undefined ? [] : [{ name, closest }];
    });
  if (suggestions.length === 0) return message;
  if (suggestions.length === 1) return `${message}. Did you mean --${suggestions[0]?.closest}?`;
  return `${message}. Did you mean ${suggestions.map(({ name, closest }) => `--${closest} (for ${name})`).join(', ')}?`;
}
