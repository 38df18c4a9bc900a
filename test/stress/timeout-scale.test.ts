// At scale: 100,000 concurrent attempts with timeouts, a tenth of them hanging until their signal
// aborts. Not in the fast suite (npm run test:unit, what Stryker runs per mutant): it takes seconds.
import { describe, expect, it, vi } from 'vitest';
import { attemptSignal, constant, onException, systemClock } from '../../src/index.js';
import { quiet } from '../helpers.js';

describe('per-attempt timeouts at scale', () => {
  it('100,000 concurrent attempts with timeouts leave no timer and no listener behind', async () => {
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    let n = 0;
    const wrapped = onException(constant, Error, {
      ...quiet,
      interval: 0,
      timeout: 0.05,
      signal: controller.signal,
      clock: systemClock,
    })(async () => {
      const signal = attemptSignal();
      n += 1;
      // Every tenth call hangs until its signal aborts: it times out once, then succeeds.
      if (n % 10 === 0 && n <= 100_000) {
        await new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
        );
      }
      return signal.aborted;
    });
    const timersBefore = process
      .getActiveResourcesInfo()
      .filter((name) => name === 'Timeout').length;
    const results = await Promise.all(Array.from({ length: 100_000 }, () => wrapped()));
    expect(results.every((aborted) => aborted === false)).toBe(true);
    expect(n).toBe(110_000);
    const timersAfter = process
      .getActiveResourcesInfo()
      .filter((name) => name === 'Timeout').length;
    expect(timersAfter).toBeLessThanOrEqual(timersBefore);
    expect(add.mock.calls.length).toBe(remove.mock.calls.length);
  }, 60_000);
});
