import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  resolve: {
    // Unit tests run against sources; process-level tests start the built CLI.
    alias: { '@tributary/otlp': fileURLToPath(new URL('./packages/otlp/src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['packages/**/src/**/*.test.ts', 'collector/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
