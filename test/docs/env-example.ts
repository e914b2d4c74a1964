import { isDeepStrictEqual } from 'node:util';
import { loadConfig } from '../../src/config';

interface ExampleLine {
  readonly name: string;
  readonly value: string;
  readonly comment: string;
  readonly line: number;
}

/** `NAME=value   # comment` lines; other lines are section comments or blank. */
function parse(text: string): { lines: ExampleLine[]; problems: string[] } {
  const lines: ExampleLine[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const l = raw.trim();
    if (l === '' || l.startsWith('#')) return;
    const m = /^([A-Z][A-Z0-9_]*)=(\S*)\s*(?:#\s*(.*))?$/.exec(l);
    if (!m) problems.push(`line ${i + 1} is neither NAME=value # comment nor a comment`);
    else lines.push({ name: m[1], value: m[2], comment: (m[3] ?? '').trim(), line: i + 1 });
  });
  return { lines, problems };
}

/**
 * .env.example against the environment schema: every variable it reads appears once, none it does
 * not read, each with a one-line comment, and each value is the default (setting it changes nothing
 * in the loaded configuration). An empty value must say in its comment what empty means.
 */
export function envExampleProblems(text: string, variables: readonly string[]): string[] {
  const { lines, problems } = parse(text);
  const defaults = loadConfig({});
  const seen = new Set<string>();
  for (const { name, value, comment, line } of lines) {
    if (seen.has(name)) problems.push(`${name} appears twice`);
    seen.add(name);
    if (!variables.includes(name)) {
      problems.push(`${name} (line ${line}) is not read by the environment schema`);
      continue;
    }
    if (comment === '') problems.push(`${name} (line ${line}) has no comment`);
    if (value === '' && !/\bempty\b/i.test(comment)) problems.push(`${name} (line ${line}) is empty without saying what empty means`);
    let loaded: unknown;
    try {
      loaded = loadConfig({ [name]: value });
    } catch (e) {
      problems.push(`${name}=${value} (line ${line}) is refused: ${(e as Error).message}`);
      continue;
    }
    if (!isDeepStrictEqual(loaded, defaults)) problems.push(`${name}=${value} (line ${line}) is not the default`);
  }
  for (const name of variables) if (!seen.has(name)) problems.push(`${name} is missing`);
  return problems;
}
