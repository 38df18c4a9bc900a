// Fails the run on any unhandled promise rejection: a retry library must never leave one behind.
import { afterAll, afterEach } from 'vitest';

const unhandled: unknown[] = [];
const record = (reason: unknown): void => {
  unhandled.push(reason);
};
process.on('unhandledRejection', record);

afterEach(async () => {
  // Let rejections of the test's last microtasks surface before checking.
  await new Promise((resolve) => setImmediate(resolve));
  if (unhandled.length > 0) {
    const reasons = unhandled.splice(0);
    throw new Error(`Unhandled promise rejection(s): ${reasons.map(String).join('; ')}`);
  }
});

afterAll(() => {
  process.off('unhandledRejection', record);
});
