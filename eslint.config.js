// ESLint (flat config): typescript-eslint's strict type-checked rules on the TypeScript sources and
// tests, the recommended rules on the plain-JS scripts. `npm run lint` runs it with zero warnings allowed.
// Rules turned off or relaxed below say why; everything else of strictTypeChecked applies.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', 'packages/otlp/generated/**', '**/*.d.ts', 'coverage/**'],
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // With noUncheckedIndexedAccess, `a[i]!` inside a bounds-checked loop is the hot-path idiom.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Numbers, booleans and null/undefined in messages are intended.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true, allowRegExp: true }],
      // `() => void x()` shorthand in callbacks is fine.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true, ignoreVoidOperator: true }],
      // Methods implementing Promise-returning contracts are `async` so a throw becomes a rejection.
      '@typescript-eslint/require-await': 'off',
      // Decoded wire data and parsed config are typed as the spec says, but checked at runtime anyway.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // zod 4 keeps `message` as the alias of `error`; the schemas use it throughout.
      '@typescript-eslint/no-deprecated': 'off',
      // Header maps, env and attribute maps are records keyed at runtime.
      '@typescript-eslint/no-dynamic-delete': 'off',
      // JSON and logfmt escaping match control characters on purpose.
      'no-control-regex': 'off',
      // SeverityNumber enums are compared with and built from the plain numbers config and wire data carry.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      '@typescript-eslint/no-unsafe-enum-assignment': 'off',
      // A caught `unknown` is passed on to reject() as it was thrown.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // Node built-ins through `import x = require()` in the CommonJS-loaded instrumentation.
      '@typescript-eslint/no-require-imports': ['error', { allow: ['^node:'] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // The dashboard runs in the browser: its own tsconfig (DOM types), bundled by esbuild.
    files: ['collector/dashboard/**/*.ts'],
    languageOptions: {
      parserOptions: { project: './collector/dashboard/tsconfig.json', tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.browser },
    },
  },
  {
    // Tests read JSON answers and cast caught errors to the expected class.
    files: ['**/*.test.ts', 'test/**/*.ts', '**/test-support.ts', '**/testdata/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      '@typescript-eslint/no-unsafe-enum-assignment': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/use-unknown-in-catch-callback-variable': 'off',
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      '@typescript-eslint/restrict-plus-operands': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }] },
  },
);
