// @ts-check
/**
 * Five projects, one run: `npm test` runs them all; `npm run test:unit`, `test:integration`,
 * `test:e2e`, `test:browser`, `test:docs` (or `jest --selectProjects <name>`) one of them.
 *
 * TypeScript is only transpiled here (isolatedModules: each file on its own, no type check), which
 * keeps start-up fast; types are checked once by `npm run typecheck` (tsc --noEmit). ts-jest 29.4
 * deprecates its own `isolatedModules` option in favour of the compiler option, hence `tsconfig`.
 */

/** @type {import('jest').Config['transform']} */
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }],
};

/** @param {string} displayName @param {string[]} testMatch @returns {import('jest').Config} */
const project = (displayName, testMatch) => ({
  displayName,
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch,
  transform,
  moduleFileExtensions: ['ts', 'js', 'json'],
});

/** @type {import('jest').Config} */
module.exports = {
  // Jest 29 reads testTimeout only at the top level, not per project: 30 s suits the integration
  // and e2e suites (real Redis/PostgreSQL, PGlite start-up); a unit test that needs less can pass
  // its own timeout.
  testTimeout: 30_000,
  projects: [
    // The browser client's own tests (client/, a separate package) run with the server's unit specs.
    project('unit', ['<rootDir>/src/**/*.spec.ts', '<rootDir>/client/test/**/*.spec.ts']),
    project('integration', ['<rootDir>/test/integration/**/*.int-spec.ts']),
    project('e2e', ['<rootDir>/test/e2e/**/*.e2e-spec.ts']),
    // Debian Chromium via playwright-core against the running app (CHROMIUM_PATH, default /usr/bin/chromium).
    project('browser', ['<rootDir>/test/browser/**/*.browser-spec.ts']),
    // The README's snippets, tour and reference tables, and .env.example, checked against the code.
    project('docs', ['<rootDir>/test/docs/**/*.docs-spec.ts']),
  ],
};
