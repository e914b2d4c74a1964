import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's root (this file is test/docs/markdown.ts). */
export const ROOT = join(__dirname, '..', '..');

export function readRepoFile(relativePath: string): string {
  return readFileSync(join(ROOT, relativePath), 'utf8');
}

export interface Fence {
  /** The info string's first word (`ts`, `bash`, ...). */
  readonly lang: string;
  readonly code: string;
  /** 1-based line of the opening fence, for messages. */
  readonly line: number;
}

/** The fenced code blocks (```) of a Markdown text, in order. */
export function fences(markdown: string): Fence[] {
  const out: Fence[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    if (i === lines.length) throw new Error(`unclosed code fence at line ${start + 1}`);
    out.push({ lang: open[1], code: body.length ? `${body.join('\n')}\n` : '', line: start + 1 });
  }
  return out;
}

/** One table row's cells, trimmed; `\|` stays a literal bar inside a cell. */
function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'));
}

/**
 * The body rows of the first table after the `## heading` line whose header row starts with
 * `firstHeader`, before the next `## ` heading. Throws when there is none: a renamed section must
 * fail the check, not empty it.
 */
export function tableUnder(markdown: string, heading: string, firstHeader: string): string[][] {
  const lines = markdown.split('\n');
  const at = lines.findIndex((l) => l.trim() === heading);
  if (at < 0) throw new Error(`no "${heading}" heading`);
  for (let i = at + 1; i < lines.length && !/^## /.test(lines[i]); i++) {
    if (!lines[i].startsWith('|') || cells(lines[i])[0] !== firstHeader) continue;
    const rows: string[][] = [];
    for (let j = i + 2; j < lines.length && lines[j].startsWith('|'); j++) rows.push(cells(lines[j]));
    return rows;
  }
  throw new Error(`no table with a "${firstHeader}" column under "${heading}"`);
}

/** The `backticked` words of a cell. */
export function backticked(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}
