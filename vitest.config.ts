import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  plugins: [{
    // The CLI imports built-in components lazily; in tests every built-in is imported when builtins.ts is,
    // so createDefaultRegistry() returns them loaded (no await in each test). Not in the build: the
    // single-executable bundle is CommonJS, which has no top-level await.
    name: 'preload-builtins',
    transform: (code: string, id: string) => (id.endsWith('/collector/src/builtins.ts') ? `${code}\nawait preloadBuiltins();\n` : undefined),
  }],
  resolve: {
    // Unit tests run against sources; process-level tests start the built CLI.
    alias: { '@tributary/otlp': fileURLToPath(new URL('./packages/otlp/src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['packages/**/src/**/*.test.ts', 'collector/src/**/*.test.ts', 'test/**/*.test.ts'],
    setupFiles: ['test/support/wire-record-equality.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
