#!/usr/bin/env node
/**
 * Checks the container files without a Docker engine (none runs in CI):
 *
 *   node scripts/check-compose.js [--root DIR]     (DIR: the repository, default: this script's parent)
 *
 * 1. docker-compose.yml is valid YAML and follows the compose specification: validated with ajv
 *    against the compose-spec JSON schema as shipped by the `dclint` package
 *    (node_modules/dclint/schemas/compose.schema.json, draft-07; no network needed).
 * 2. Every variable of .env.example is passed to the `app` service: its `environment` has the
 *    variable, with a value that interpolates it (`${VAR}`, `${VAR:-default}`, ...), so it can be
 *    set from the shell or a .env file, as the compose file's comment says.
 * 3. .dockerignore keeps secrets, local data and dependencies out of the build context, and keeps
 *    in every source the Dockerfile COPYs from the context.
 *
 * Prints `ok` or one line per problem (exit status 1). test/integration/compose-file.int-spec.ts
 * runs it (so `npm test` and CI do), on this repository and on broken copies.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const Ajv = require('ajv');
const YAML = require('yaml');
const dockerignore = require('@balena/dockerignore');

/** Paths that must never reach the build context (a sample of each kind), relative to the root. */
const MUST_STAY_OUT = [
  'keys/private.pem',
  'keys/public.pem',
  'private.pem',
  'config/server.pem',
  '.env',
  '.env.local',
  '.env.production',
  'data/auth-state.json',
  'data/PG_VERSION',
  'node_modules/ajv/package.json',
  'dist/main.js',
  'coverage/lcov.info',
  'bench/results/latest.json',
  '.git/HEAD',
];

function composeSchemaValidator() {
  const dir = path.dirname(require.resolve('dclint/package.json'));
  const schema = JSON.parse(fs.readFileSync(path.join(dir, 'schemas', 'compose.schema.json'), 'utf8'));
  // The schema uses union types (["string", "number"]) and leaves `type` out beside some object
  // keywords: allowed by JSON Schema, refused only by ajv's extra strict-mode checks.
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false });
  // It names the draft-07 meta-schema by its https address; ajv knows it by the http one.
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-07.json'), schema.$schema);
  return ajv.compile(schema);
}

/** Variable names of a dotenv file (`NAME=value   # comment`). */
function envExampleVariables(text) {
  return [...text.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/gm)].map((m) => m[1]);
}

/** The app service's environment as name -> value, from the map or the list form. */
function environmentOf(service) {
  const env = service && service.environment;
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((item) => {
      const s = String(item);
      const eq = s.indexOf('=');
      return eq < 0 ? [s, null] : [s.slice(0, eq), s.slice(eq + 1)];
    }));
  }
  return env && typeof env === 'object' ? env : {};
}

function interpolates(value, name) {
  if (value === null || value === undefined) return false;
  // ${NAME}, ${NAME:-x}, ${NAME-x}, ${NAME:?x}, ${NAME?x}, ${NAME:+x}, or $NAME; not $$NAME (an escaped $).
  return new RegExp(`(?<!\\$)\\$(?:\\{${name}(?=[}:?+-])|${name}(?![A-Za-z0-9_]))`).test(String(value));
}

/** The context sources of the Dockerfile's COPY/ADD lines (not those copied from another stage). */
function dockerfileSources(text) {
  const sources = [];
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    const m = /^\s*(?:COPY|ADD)\s+(.*)$/i.exec(line);
    if (!m) continue;
    const words = m[1].trim().split(/\s+/);
    if (words.some((w) => /^--from=/i.test(w))) continue;
    const args = words.filter((w) => !w.startsWith('--'));
    sources.push(...args.slice(0, -1).map((s) => s.replace(/^\.\//, '').replace(/\/$/, '')));
  }
  return sources;
}

function checkCompose(root) {
  const problems = [];
  const read = (name) => fs.readFileSync(path.join(root, name), 'utf8');

  const doc = YAML.parseDocument(read('docker-compose.yml'));
  if (doc.errors.length > 0) {
    for (const e of doc.errors) problems.push(`docker-compose.yml is not valid YAML: ${e.message.split('\n')[0]}`);
    return problems;
  }
  const compose = doc.toJS();
  const validate = composeSchemaValidator();
  if (!validate(compose)) {
    const seen = new Set();
    for (const e of validate.errors) {
      const line = `docker-compose.yml does not follow the compose specification: ${e.instancePath || '/'} ${e.message}` +
        (e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : '');
      if (!seen.has(line)) problems.push(line);
      seen.add(line);
    }
  }

  const app = compose && compose.services && compose.services.app;
  if (!app) {
    problems.push('docker-compose.yml has no `app` service');
  } else {
    const env = environmentOf(app);
    for (const name of envExampleVariables(read('.env.example'))) {
      if (!(name in env)) problems.push(`${name} (.env.example) is missing from the app service's environment in docker-compose.yml`);
      else if (!interpolates(env[name], name)) problems.push(`${name} is fixed to ${JSON.stringify(env[name])} in docker-compose.yml: pass it through as \${${name}:-default}`);
    }
  }

  const ignored = dockerignore().add(fs.existsSync(path.join(root, '.dockerignore')) ? read('.dockerignore') : '');
  for (const p of MUST_STAY_OUT) {
    if (!ignored.ignores(p)) problems.push(`.dockerignore lets ${p} into the build context`);
  }
  for (const src of dockerfileSources(read('Dockerfile'))) {
    if (ignored.ignores(src)) problems.push(`.dockerignore excludes ${src}, which the Dockerfile copies`);
  }
  return problems;
}

if (require.main === module) {
  const i = process.argv.indexOf('--root');
  const root = path.resolve(i > 0 ? process.argv[i + 1] : path.join(__dirname, '..'));
  const problems = checkCompose(root);
  if (problems.length === 0) {
    process.stdout.write('ok\n');
  } else {
    process.stdout.write(problems.join('\n') + '\n');
    process.exitCode = 1;
  }
}

module.exports = { checkCompose, dockerfileSources, envExampleVariables };
