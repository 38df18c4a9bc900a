// Many calls on one AbortSignal: one shared abort listener, none left after, no warning. Moved out of
// the unit set (tens of thousands of calls each) so that mutation testing does not run them per mutant.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { constant, onException } from '../../src/index.js';

/** Lets every pending microtask and one macrotask run, so that unhandled rejections surface. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('one signal shared by many calls', () => {
  it('holds one abort listener, however many calls wait on it, and none after', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const calls = 20_000;
      const wrapped = onException(constant, TypeError, {
        logger: null,
        jitter: null,
        interval: 60,
        signal: controller.signal,
      })(() => {
        throw new TypeError('down');
      });
      const pending = Array.from({ length: calls }, () => wrapped().catch((error) => error));
      // Each call's first attempt fails at once, then it sleeps on the signal.
      for (let i = 0; i < 3; i++) await settle();
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      const reason = new Error('shutdown');
      controller.abort(reason);
      const outcomes = await Promise.all(pending);
      expect(outcomes.every((outcome) => outcome === reason)).toBe(true);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      await settle();
      expect(warnings.map((warning) => warning.name)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('10,000 calls sharing one signal leave no listener on it', async () => {
    const controller = new AbortController();
    let n = 0;
    const wrapped = onException(constant, TypeError, {
      interval: 0.001,
      logger: null,
      signal: controller.signal,
    })(async () => {
      n += 1;
      if (n % 2 === 1) throw new TypeError();
      return n;
    });
    const results = await Promise.all(Array.from({ length: 10_000 }, () => wrapped()));
    expect(results).toHaveLength(10_000);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
