import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Examples import the package by name; tests run them against the source.
    alias: [
      {
        find: /^backoff-ts$/,
        replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
      },
      {
        find: /^backoff-ts\/redis$/,
        replacement: fileURLToPath(new URL('./src/redis.ts', import.meta.url)),
      },
      {
        find: /^backoff-ts\/fetch$/,
        replacement: fileURLToPath(new URL('./src/fetch.ts', import.meta.url)),
      },
      {
        find: /^backoff-ts\/otel$/,
        replacement: fileURLToPath(new URL('./src/otel.ts', import.meta.url)),
      },
      {
        find: /^backoff-ts\/testing$/,
        replacement: fileURLToPath(new URL('./src/testing.ts', import.meta.url)),
      },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    typecheck: { include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 20_000,
  },
});
