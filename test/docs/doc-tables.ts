import { loadConfig } from '../../src/config';
import { backticked, tableUnder } from './markdown';

/**
 * Checks of the README's reference tables against the code's closed sets, read at test time: a
 * code, event or variable added to the code needs its row, and a row the code no longer has fails.
 * Each check returns its problems, one sentence each; none means the table is right.
 */

/** Names listed (backticked) in the first cell of each row; several per row are allowed. */
function namesOf(rows: string[][]): string[] {
  return rows.flatMap((r) => backticked(r[0]));
}

function compareSets(what: string, documented: readonly string[], actual: readonly string[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const name of documented) {
    if (seen.has(name)) problems.push(`${what} ${name} has two rows`);
    seen.add(name);
    if (!actual.includes(name)) problems.push(`${what} ${name} is documented but the code has no such ${what}`);
  }
  for (const name of actual) if (!seen.has(name)) problems.push(`${what} ${name} has no row`);
  return problems;
}

/**
 * The error table (`## Errors`, columns code | status | when) against AUTH_ERROR_CODES: every
 * code once, with its HTTP status. A row may list several codes with one status for all, or one
 * status each, in order.
 */
export function errorTableProblems(markdown: string, codes: Readonly<Record<string, { readonly status: number }>>): string[] {
  const rows = tableUnder(markdown, '## Errors', 'code');
  const problems = compareSets('error code', namesOf(rows), Object.keys(codes));
  for (const [codeCell, statusCell] of rows) {
    const names = backticked(codeCell);
    const statuses = (statusCell ?? '').match(/\d{3}/g)?.map(Number) ?? [];
    if (statuses.length !== 1 && statuses.length !== names.length) {
      problems.push(`the row of ${names.join(', ')} gives ${statuses.length} statuses for ${names.length} codes`);
      continue;
    }
    names.forEach((name, i) => {
      const documented = statuses.length === 1 ? statuses[0] : statuses[i];
      const actual = codes[name]?.status;
      if (actual !== undefined && actual !== documented) problems.push(`error code ${name} is documented as ${documented}, the code answers ${actual}`);
    });
  }
  return problems;
}

/** The audit-event table (`## Operations`, first column `event`) against AUDIT_EVENTS. */
export function auditTableProblems(markdown: string, events: readonly string[]): string[] {
  return compareSets('audit event', namesOf(tableUnder(markdown, '## Operations', 'event')), events);
}

/** The configuration table (`## Configuration`, first column `variable`) against the variables loadConfig reads. */
export function configTableProblems(markdown: string, variables: readonly string[]): string[] {
  return compareSets('variable', namesOf(tableUnder(markdown, '## Configuration', 'variable')), variables);
}

/**
 * Every environment variable loadConfig reads, found by running it over an environment that
 * records each name asked for: once for development and once for production (a variable read
 * only there would be missed otherwise). A production boot without its required stores throws
 * after reading everything; that refusal is expected here.
 */
export function variablesReadByConfig(): string[] {
  const names = new Set<string>();
  for (const nodeEnv of [undefined, 'production']) {
    const env = new Proxy({} as Record<string, string | undefined>, {
      get(_target, key) {
        if (typeof key !== 'string') return undefined;
        names.add(key);
        return key === 'NODE_ENV' ? nodeEnv : undefined;
      },
    });
    try {
      loadConfig(env);
    } catch {
      // production without REDIS_URL: refused once everything was read
    }
  }
  return [...names].sort();
}
