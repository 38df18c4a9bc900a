// The fast, in-process part of the suite: `npm run test:unit` (seconds), and what Stryker runs per
// mutant.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/on-exception.test.ts',
      'test/on-predicate.test.ts',
      'test/loop.test.ts',
      'test/options.test.ts',
      'test/logging.test.ts',
      'test/retry-context.test.ts',
      'test/clock.test.ts',
      'test/wait-gen.test.ts',
      'test/jitter.test.ts',
      'test/cancellation.test.ts',
      'test/retry-after.test.ts',
      'test/testing-kit.test.ts',
      'test/budget.test.ts',
      'test/decorators.test.ts',
      'test/messages.test.ts',
      'test/hostile.test.ts',
      'test/timeout.test.ts',
      'test/telemetry.test.ts',
      'test/otel.test.ts',
    ],
  },
});
