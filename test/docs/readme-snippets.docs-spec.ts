import { fences, readRepoFile } from './markdown';
import { featureFile, lintMessages, typeErrors } from './snippet-check';

/**
 * Every ```ts snippet of the README compiles exactly as shown, and passes the project's lint
 * (the auth boundary rule included), as the file of a feature folder directly under src/, where
 * the README tells users to put their code.
 */
describe('README TypeScript snippets', () => {
  const snippets = fences(readRepoFile('README.md')).filter((f) => f.lang === 'ts');
  const files = new Map(snippets.map((s, i) => [featureFile(`readme-snippet-${i + 1}`), s.code]));
  const cases = [...files.keys()].map((file, i) => [`#${i + 1} (README line ${snippets[i].line})`, file] as const);

  // Proofs that the checks can fail, compiled and linted alongside the snippets.
  const consumer = snippets.find((s) => s.code.includes("import { Controller, Get, Post } from '@nestjs/common';"));
  const missingImport = featureFile('readme-snippet-missing-import');
  const deepImport = featureFile('readme-snippet-deep-import');
  const proofs = new Map([
    [missingImport, consumer?.code.replace('import { Controller, Get, Post }', 'import { Controller, Get }') ?? ''],
    [deepImport, "import { Public } from '../auth/access/public.decorator';\n\nexport const open = Public();\n"],
  ]);

  let types: Map<string, string[]>;
  let lint: Map<string, string[]>;
  beforeAll(async () => {
    const all = new Map([...files, ...proofs]);
    [types, lint] = await Promise.all([Promise.resolve().then(() => typeErrors(all)), lintMessages(all)]);
  }, 120_000);

  it('the README has its snippets: wiring, the credentials port, the global guard, opt-in and passport', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(4);
    for (const s of snippets) expect(s.code).toContain("from '../auth';");
    expect(consumer).toBeDefined();
  });

  it.each(cases)('snippet %s typechecks against the project', (_name, file) => {
    expect(types.get(file)).toEqual([]);
  });

  it.each(cases)('snippet %s passes the lint, boundary rule included', (_name, file) => {
    expect(lint.get(file)).toEqual([]);
  });

  it('fails a snippet that uses a decorator it does not import', () => {
    expect(types.get(missingImport)).toEqual([expect.stringMatching(/TS2304 Cannot find name 'Post'/)]);
  });

  it('fails a snippet that imports auth deeper than its index (lint; the compiler accepts it)', () => {
    expect(types.get(deepImport)).toEqual([]);
    expect(lint.get(deepImport)).toEqual([expect.stringMatching(/no-restricted-imports '..\/auth\/access\/public.decorator' import is restricted.*Import the auth context from its index only/)]);
  });
});
