// The test sets, by folder: a test file's place decides which set runs it.
//   test/unit         in-process, no server, no child process: `npm run test:unit`, and what
//                     Stryker runs for each mutant;
//   test/integration  real servers and processes (HTTP, PostgreSQL, Redis, the CLI, the examples);
//   test/compat       side by side with the systems we copy or run in (the AWS SDK's and grpc-js's
//                     budgets, loggers, Chromium); the packed-tarball and runtime checks beside them
//                     (consumer/, smoke/) run from .ci/, not from vitest;
//   test/stress       properties, soak, scale and the deterministic gates (heap, promises, bundle).
// `npm test` runs them all. Timeouts detect hangs; no verdict depends on the machine's speed, so
// the sets that do heavy work get long ones.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Examples import the package by name; tests run them against the source.
    alias: [
      { find: /^backoff-ts$/, replacement: source('index.ts') },
      { find: /^backoff-ts\/redis$/, replacement: source('redis.ts') },
      { find: /^backoff-ts\/fetch$/, replacement: source('fetch.ts') },
      { find: /^backoff-ts\/otel$/, replacement: source('otel.ts') },
      { find: /^backoff-ts\/testing$/, replacement: source('testing.ts') },
    ],
  },
  test: {
    setupFiles: ['test/setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // The type tests (*.test-d.ts) run with the unit set, but not per mutant: types are not
          // what Stryker mutates, and a type check per run would cost more than the run.
          typecheck: {
            enabled: process.env.STRYKER_MUTATOR_WORKER === undefined,
            include: ['test/unit/**/*.test-d.ts'],
            tsconfig: './tsconfig.json',
          },
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: { name: 'compat', include: ['test/compat/*.test.ts'], testTimeout: 60_000 },
      },
      {
        extends: true,
        test: { name: 'stress', include: ['test/stress/**/*.test.ts'], testTimeout: 300_000 },
      },
    ],
  },
});
