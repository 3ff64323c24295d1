/**
 * A strict reader of the Prometheus text exposition format, as much of it as --metrics-file writes:
 * every line a HELP, a TYPE (gauge) or a sample of the family just declared, label values unescaped.
 * Throws on anything else, so a test that reads a file back also checks that Prometheus could.
 */

export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})\\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*",?)*)\\} (\\S+)$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g;

const unescape = (value: string): string =>
  value.replaceAll(/\\([\\"n])/g, (_, char: string) => (char === 'n' ? '\n' : char));

export function parseMetrics(text: string): ParsedSample[] {
  if (!text.endsWith('\n')) throw new Error('the text does not end in a line feed');
  const samples: ParsedSample[] = [];
  const declared = new Set<string>();
  let current: string | undefined;
  for (const [index, line] of text.slice(0, -1).split('\n').entries()) {
    const help = new RegExp(`^# HELP (${NAME}) .+$`).exec(line);
    const type = new RegExp(`^# TYPE (${NAME}) gauge$`).exec(line);
    const sample = SAMPLE.exec(line);
    if (help) {
      if (declared.has(help[1]!)) throw new Error(`line ${index + 1}: ${help[1]} declared twice`);
      declared.add(help[1]!);
      current = help[1];
    } else if (type) {
      if (type[1] !== current) throw new Error(`line ${index + 1}: TYPE of ${type[1]} after HELP of ${current}`);
    } else if (sample) {
      if (sample[1] !== current) throw new Error(`line ${index + 1}: ${sample[1]} outside its family`);
      const value = Number(sample[3]);
      if (Number.isNaN(value)) throw new Error(`line ${index + 1}: not a number: ${sample[3]}`);
      const labels = Object.fromEntries(
        [...sample[2]!.matchAll(LABEL)].map(([, name, raw]) => [name!, unescape(raw!)]),
      );
      samples.push({ name: sample[1]!, labels, value });
    } else {
      throw new Error(`line ${index + 1} is not in the exposition format: ${JSON.stringify(line)}`);
    }
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when none. */
export function valueOf(
  samples: readonly ParsedSample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const found = samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match`);
  return found[0]?.value;
}
