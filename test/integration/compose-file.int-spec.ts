import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The container files, checked without a Docker engine by scripts/check-compose.js (compose-spec
 * schema, .env.example passed through, .dockerignore): on this repository it passes, and each
 * kind of breakage, made on a copy, fails it with a line naming what is wrong.
 */
const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'check-compose.js');
const FILES = ['docker-compose.yml', '.env.example', '.dockerignore', 'Dockerfile'] as const;

function check(root: string): { status: number | null; lines: string[] } {
  const res = spawnSync(process.execPath, [SCRIPT, '--root', root], { encoding: 'utf8', timeout: 20_000 });
  if (res.error) throw res.error;
  if (res.stderr) throw new Error(`check-compose wrote to stderr: ${res.stderr}`);
  return { status: res.status, lines: res.stdout.trim().split('\n') };
}

describe('scripts/check-compose.js', () => {
  let copy: string;
  beforeEach(() => {
    copy = mkdtempSync(join(tmpdir(), 'compose-check-'));
    for (const f of FILES) copyFileSync(join(ROOT, f), join(copy, f));
  });
  afterEach(() => rmSync(copy, { recursive: true, force: true }));

  /** Rewrites one file of the copy; the replacement must change it. */
  function mutate(file: (typeof FILES)[number], from: string | RegExp, to: string): void {
    const before = readFileSync(join(copy, file), 'utf8');
    const after = before.replace(from, to);
    if (after === before) throw new Error(`mutation of ${file} changed nothing: ${String(from)}`);
    writeFileSync(join(copy, file), after);
  }

  it("passes on this repository's files", () => {
    expect(check(ROOT)).toEqual({ status: 0, lines: ['ok'] });
  });

  it('passes on an unchanged copy (the copy is a faithful stand-in)', () => {
    expect(check(copy)).toEqual({ status: 0, lines: ['ok'] });
  });

  it('fails when a variable of .env.example is not in the compose file', () => {
    mutate('docker-compose.yml', /^\s*AUTH_REAUTH_MAX_AGE:.*\n/m, '');
    expect(check(copy)).toEqual({
      status: 1,
      lines: ["AUTH_REAUTH_MAX_AGE (.env.example) is missing from the app service's environment in docker-compose.yml"],
    });
  });

  it('fails when .env.example gains a variable the compose file does not pass', () => {
    writeFileSync(join(copy, '.env.example'), readFileSync(join(copy, '.env.example'), 'utf8') + 'AUTH_SOMETHING_NEW=1   # a new setting\n');
    expect(check(copy)).toEqual({
      status: 1,
      lines: ["AUTH_SOMETHING_NEW (.env.example) is missing from the app service's environment in docker-compose.yml"],
    });
  });

  it('fails when a variable is fixed instead of passed through', () => {
    mutate('docker-compose.yml', /LOG_LEVEL: \$\{LOG_LEVEL:-info\}/, 'LOG_LEVEL: info');
    expect(check(copy)).toEqual({
      status: 1,
      lines: ['LOG_LEVEL is fixed to "info" in docker-compose.yml: pass it through as ${LOG_LEVEL:-default}'],
    });
  });

  it('fails on a compose file that is not valid YAML', () => {
    mutate('docker-compose.yml', /^(\s*)restart: unless-stopped$/m, '$1restart: [unless-stopped');
    const res = check(copy);
    expect(res.status).toBe(1);
    expect(res.lines[0]).toMatch(/^docker-compose\.yml is not valid YAML: /);
  });

  it('fails on valid YAML that the compose specification refuses (a misspelt key, a wrong type)', () => {
    mutate('docker-compose.yml', /^(\s*)volumes:\n(\s*)- \.\/keys/m, '$1volume:\n$2- ./keys');
    mutate('docker-compose.yml', /retries: 10/, 'retries: [10]');
    const res = check(copy);
    expect(res.status).toBe(1);
    expect(res.lines).toEqual(
      expect.arrayContaining([
        'docker-compose.yml does not follow the compose specification: /services/app must NOT have additional properties (volume)',
        expect.stringMatching(/^docker-compose\.yml does not follow the compose specification: \/services\/(redis|postgres)\/healthcheck\/retries must be/),
      ]),
    );
  });

  it('fails when .dockerignore lets keys, data or dependencies into the build context', () => {
    mutate('.dockerignore', /^keys\/\n/m, '');
    mutate('.dockerignore', /^\*\*\/\*\.pem\n/m, '');
    mutate('.dockerignore', /^data\/\n/m, '');
    mutate('.dockerignore', /^node_modules\/\n/m, '');
    expect(check(copy)).toEqual({
      status: 1,
      lines: [
        '.dockerignore lets keys/private.pem into the build context',
        '.dockerignore lets keys/public.pem into the build context',
        '.dockerignore lets private.pem into the build context',
        '.dockerignore lets config/server.pem into the build context',
        '.dockerignore lets data/auth-state.json into the build context',
        '.dockerignore lets data/PG_VERSION into the build context',
        '.dockerignore lets node_modules/ajv/package.json into the build context',
      ],
    });
  });

  it('fails when .dockerignore excludes something the Dockerfile copies', () => {
    writeFileSync(join(copy, '.dockerignore'), readFileSync(join(copy, '.dockerignore'), 'utf8') + 'tsconfig*.json\n');
    expect(check(copy)).toEqual({
      status: 1,
      lines: ['.dockerignore excludes tsconfig.json, which the Dockerfile copies', '.dockerignore excludes tsconfig.build.json, which the Dockerfile copies'],
    });
  });
});
