// @ts-check
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * The architectural rule (docs/architecture.md): `src/auth/` is one bounded context whose only public
 * face is its index. Outside it, `../auth`, `./auth`, `../../src/auth`, `src/auth` and
 * `.../auth/index` are fine; anything deeper (`../auth/tokens/x`, `./auth/guards/y`,
 * `src/auth/...`, `../../src/auth/...`) is an error. Type-only imports included.
 *
 * The specifier is matched, not the resolved file, so a folder that is itself named `auth`
 * elsewhere under src/ would be caught too: don't make one.
 *
 * The testing kit `auth/testing` is the one other entry point, for test code only: test/ and
 * `*.spec.ts` files may import it, nothing else under src/ may (TESTING_KIT_IMPORT, matched from
 * anywhere under src/, inside auth too: `../testing`).
 */
const DEEP_AUTH_IMPORT = '^(?:(?:\\.{1,2}/)+(?:src/)?|src/|.*/src/)auth/(?!(?:index|testing(?:/index)?)(?:\\.[cm]?[jt]s)?$).+';
const TESTING_KIT_IMPORT = '^(?:(?:\\.{1,2}/)+(?:src/)?|src/|.*/src/)(?:auth/)?testing(?:/.*)?$';

const deepAuthPattern = {
  regex: DEEP_AUTH_IMPORT,
  message: "Import the auth context from its index only (e.g. '../auth'); anything deeper is internal to src/auth.",
};
const testingKitPattern = {
  regex: TESTING_KIT_IMPORT,
  message: 'The auth testing kit is for test code only (test/ and *.spec.ts).',
};
/** ESLint replaces a rule's options per file rather than merging them: each file group gets its full list. */
const restrictedImports = (...patterns) => ({ '@typescript-eslint/no-restricted-imports': ['error', { patterns }] });

export default defineConfig(
  {
    ignores: ['dist/**', 'client/dist/**', 'coverage/**', 'node_modules/**', 'bench/results/**', 'data/**', 'keys/**'],
  },
  // Not type-aware (no parserOptions.project): fast; `npm run typecheck` checks the types.
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Plain CommonJS scripts and config files run by Node.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        exports: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
        __filename: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // Consumers of the auth context: the rest of the application, and the suites that use the app
    // as a client would (e2e, browser, ...). Contract and integration suites test auth's internal
    // adapters and may import deeper; test/support helpers serve them.
    files: ['test/**/*.ts', 'src/**/*.spec.ts'],
    ignores: ['src/auth/**', 'test/contracts/**', 'test/integration/**', 'test/support/**'],
    rules: restrictedImports(deepAuthPattern),
  },
  {
    // The application's own code: the auth boundary, and no testing kit.
    files: ['src/**/*.ts'],
    ignores: ['src/auth/**', 'src/**/*.spec.ts'],
    rules: restrictedImports(deepAuthPattern, testingKitPattern),
  },
  {
    // Inside the auth context, deep imports are its own business; the testing kit still is not.
    files: ['src/auth/**/*.ts'],
    ignores: ['src/auth/testing/**', 'src/**/*.spec.ts'],
    rules: restrictedImports(testingKitPattern),
  },
);
