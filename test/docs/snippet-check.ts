import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { ROOT } from './markdown';

/**
 * Code as a user's feature would hold it: a file of its own folder directly under src/, checked
 * against the project itself, with nothing written to disk. The files are virtual: the compiler
 * and the linter are handed their text under that path.
 */

/** Where snippet `name` is placed: src/<name>/index.ts, a folder that must not exist. */
export function featureFile(name: string): string {
  const file = join(ROOT, 'src', name, 'index.ts');
  if (existsSync(dirname(file))) throw new Error(`src/${name} exists: a snippet would shadow real code`);
  return file;
}

/**
 * Type errors of each virtual file (path -> code), compiled as part of the project with its
 * tsconfig.json; the files it imports (src/auth, node_modules) come from disk. Only the virtual
 * files' own diagnostics are reported.
 */
export function typeErrors(files: ReadonlyMap<string, string>): Map<string, string[]> {
  const configPath = join(ROOT, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, configPath);
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, incremental: false, tsBuildInfoFile: undefined };
  const virtual = new Map([...files].map(([path, code]) => [resolve(path), code]));

  const host = ts.createCompilerHost(options, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => virtual.has(resolve(f)) || fileExists.call(host, f);
  host.readFile = (f) => virtual.get(resolve(f)) ?? readFile.call(host, f);
  host.getSourceFile = (f, language, onError, shouldCreate) => {
    const code = virtual.get(resolve(f));
    return code !== undefined ? ts.createSourceFile(f, code, language, true) : getSourceFile.call(host, f, language, onError, shouldCreate);
  };

  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host });
  const format = (d: ts.Diagnostic): string => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    const at = where ? `${where.line + 1}:${where.character + 1} ` : '';
    return `${at}TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  };
  const out = new Map<string, string[]>();
  for (const path of virtual.keys()) {
    const sf = program.getSourceFile(path);
    if (!sf) throw new Error(`${path} was not part of the program`);
    out.set(path, [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map(format));
  }
  return out;
}

/**
 * ESLint's messages for each virtual file under the project's eslint.config.mjs (its boundary rule
 * included), from a child process: ESLint loads its ESM configuration with a plain import(),
 * which is best left outside Jest's module sandbox.
 */
export async function lintMessages(files: ReadonlyMap<string, string>): Promise<Map<string, string[]>> {
  const script = `
    const { ESLint } = require('eslint');
    (async () => {
      const files = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
      const eslint = new ESLint({ cwd: process.cwd() });
      const out = {};
      for (const [filePath, code] of Object.entries(files)) {
        const [result] = await eslint.lintText(code, { filePath, warnIgnored: true });
        out[filePath] = result.messages.map((m) => m.line + ':' + m.column + ' ' + (m.ruleId ?? '') + ' ' + m.message);
      }
      process.stdout.write(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const child = promisify(execFile)(process.execPath, ['-e', script], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  child.child.stdin?.end(JSON.stringify(Object.fromEntries(files)));
  const { stdout } = await child;
  return new Map(Object.entries(JSON.parse(stdout) as Record<string, string[]>));
}
