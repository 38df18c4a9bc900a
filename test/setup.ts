// Fails the run on any unhandled promise rejection — a retry library must never leave one behind —
// and on any runtime warning but the library's own (BackoffLoggerWarning, BackoffTelemetryWarning,
// which the tests that provoke them check): a MaxListenersExceededWarning, a TimeoutNegativeWarning
// or a deprecation is a defect on every Node version the suite runs on.
import { afterAll, afterEach } from 'vitest';

const unhandled: unknown[] = [];
const record = (reason: unknown): void => {
  unhandled.push(reason);
};
const warnings: Error[] = [];
const recordWarning = (warning: Error): void => {
  if (!warning.name.startsWith('Backoff')) warnings.push(warning);
};
process.on('unhandledRejection', record);
process.on('warning', recordWarning);

afterEach(async () => {
  // Let rejections of the test's last microtasks surface before checking.
  await new Promise((resolve) => setImmediate(resolve));
  if (unhandled.length > 0) {
    const reasons = unhandled.splice(0);
    throw new Error(`Unhandled promise rejection(s): ${reasons.map(String).join('; ')}`);
  }
  if (warnings.length > 0) {
    const seen = warnings.splice(0);
    throw new Error(`Runtime warning(s): ${seen.map((w) => `${w.name}: ${w.message}`).join('; ')}`);
  }
});

afterAll(() => {
  process.off('unhandledRejection', record);
  process.off('warning', recordWarning);
});
