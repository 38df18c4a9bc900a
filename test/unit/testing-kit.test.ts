// The test kit (backoff-ts/testing), and the default clock under @sinonjs/fake-timers.
import FakeTimers from '@sinonjs/fake-timers';
import { describe, expect, it } from 'vitest';
import {
  constant,
  expo,
  onException,
  onExceptionSync,
  runtime,
  systemClock,
  tokenBucket,
} from '../../src/index.js';
import { preview, seededRandom, VirtualClock } from '../../src/testing.js';
import { flaky } from '../helpers.js';

describe('VirtualClock', () => {
  it('saturates at Number.MAX_VALUE seconds instead of overflowing to Infinity', () => {
    const clock = new VirtualClock();
    clock.sleepSync(Number.MAX_VALUE);
    clock.sleepSync(Number.MAX_VALUE);
    clock.advance(Number.MAX_VALUE);
    expect(clock.now()).toBe(Number.MAX_VALUE);
  });

  it('sleeps at once, advancing virtual time and recording each wait', async () => {
    const clock = new VirtualClock(100);
    await clock.sleep(2.5);
    clock.sleepSync(1);
    clock.advance(0.5);
    expect(clock.now()).toBe(104);
    expect(clock.sleeps).toEqual([2.5, 1]);
  });

  it('rejects bad waits and an aborted signal', async () => {
    const clock = new VirtualClock();
    await expect(clock.sleep(-1)).rejects.toThrow(RangeError);
    expect(() => clock.sleepSync(Number.NaN)).toThrow(RangeError);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    const controller = new AbortController();
    controller.abort('stop');
    await expect(clock.sleep(1, controller.signal)).rejects.toBe('stop');
  });

  it('tests retrying code in milliseconds of real time: an hour of waits', async () => {
    const clock = new VirtualClock();
    const wrapped = onException(constant, TypeError, {
      clock,
      interval: 600,
      jitter: null,
      logger: null,
    })(
      flaky(
        Array.from({ length: 6 }, () => new TypeError()),
        'ok',
      ),
    );
    const started = performance.now();
    expect(await wrapped()).toBe('ok');
    expect(clock.now()).toBe(3600);
    // An hour of virtual waits; with real ones the test would time out.
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe('seededRandom', () => {
  it('repeats for a seed, differs between seeds, stays in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(7);
    const first = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(first);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(first.slice(0, 5));
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = first.reduce((sum, x) => sum + x, 0) / first.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(() => seededRandom(1.5)).toThrow(RangeError);
  });

  it('is mulberry32: the sequence of a seed is fixed across versions', () => {
    // The first values of mulberry32(42), as the reference implementation gives them.
    const random = seededRandom(42);
    expect([random(), random(), random()]).toEqual([
      0.6011037519201636, 0.44829055899754167, 0.8524657934904099,
    ]);
  });

  it('drives the built-in jitters through the random option', async () => {
    const run = async (seed: number) => {
      const clock = new VirtualClock();
      await onException(expo, TypeError, { clock, logger: null, random: seededRandom(seed) })(
        flaky([new TypeError(), new TypeError(), new TypeError()], 'ok'),
      )();
      return clock.sleeps;
    };
    expect(await run(1)).toEqual(await run(1));
    expect(await run(1)).not.toEqual(await run(2));
  });
});

describe('preview', () => {
  it('shows free tries: their waits are freeWait’s, and they do not count towards maxTries', () => {
    expect(preview(expo, { maxTries: 2, jitter: null }, 10, { free: [true, true] })).toEqual([
      1, 2, 1,
    ]);
    expect(
      preview(expo, { factor: 10, jitter: null, maxTries: 3 }, 10, {
        free: (tries) => tries % 2 === 0,
      }),
    ).toEqual([10, 1, 20, 2]);
    expect(
      preview(expo, { jitter: null, freeWait: () => constant({ interval: 7 }) }, 3, {
        free: () => true,
      }),
    ).toEqual([7, 7, 7]);
    // The policy's own `free` sees no real failure in a preview: it is left out.
    expect(preview(expo, { jitter: null, maxTries: 2, free: () => true }, 10)).toEqual([1]);
    expect(() => preview(expo, {}, 3, { free: 'all' as never })).toThrow(
      'Expected `free` to be an array of booleans or a function of the attempt number, got "all"',
    );
    // A breaker acts outside a preview: it is left out, as the budget is.
    const refusing = { acquire: () => ({ ok: false, retryAfter: 9 }) };
    expect(preview(expo, { jitter: null, breaker: refusing }, 3)).toEqual([1, 2, 4]);
  });

  it('lists the waits a policy would take', () => {
    expect(preview(expo, { maxValue: 8, jitter: null }, 6)).toEqual([1, 2, 4, 8, 8, 8]);
    expect(preview(constant, { interval: [1, 2] })).toHaveLength(2);
    expect(preview(constant, { interval: [1, 2], jitter: null })).toEqual([1, 2]);
    expect(preview(expo, { maxTries: 4, jitter: null })).toEqual([1, 2, 4]);
    expect(preview(expo, { maxTime: 10, jitter: null })).toEqual([1, 2, 4, 3]);
    expect(preview(expo, {}, 0)).toEqual([]);
  });

  it('is repeatable with a seed, and matches a real run with the same seed', async () => {
    const seeded = preview(expo, { maxTries: 5 }, 10, { seed: 9 });
    expect(preview(expo, { maxTries: 5 }, 10, { seed: 9 })).toEqual(seeded);
    expect(seeded).toHaveLength(4);
    const clock = new VirtualClock();
    await onException(expo, TypeError, {
      clock,
      logger: null,
      maxTries: 5,
      random: seededRandom(9),
    })(
      flaky(
        Array.from({ length: 5 }, () => new TypeError()),
        'ok',
      ),
    )().catch(() => {});
    expect(clock.sleeps).toEqual(seeded);
  });

  it('leaves out the policy handlers and rejects a bad count', () => {
    let called = false;
    const onBackoff = () => {
      called = true;
    };
    const budget = tokenBucket({ capacity: 10 });
    expect(preview(constant, { interval: 1, jitter: null, onBackoff, budget }, 3)).toEqual([
      1, 1, 1,
    ]);
    expect(called).toBe(false);
    expect(budget.state().tokens).toBe(10);
    expect(() => preview(expo, {}, -1)).toThrow(RangeError);
  });

  it('leaves out every option that would act outside the preview', () => {
    const fails = () => {
      throw new Error('must not run in a preview');
    };
    const aborted = new AbortController();
    aborted.abort();
    const options = {
      interval: 1,
      jitter: null,
      maxTries: 4,
      onTry: fails,
      onSuccess: fails,
      onBackoff: fails,
      onGiveup: fails,
      giveup: () => true,
      raiseOnGiveup: false,
      logger: { info: fails, error: fails },
      backoffLogLevel: 'info',
      giveupLogLevel: 'error',
      clock: { now: fails, sleep: fails, sleepSync: fails },
      signal: aborted.signal,
      budget: { tryRetry: () => false },
    };
    expect(preview(constant, options)).toEqual([1, 1, 1]);
  });

  it('shows the wait generator PreviewFailure errors as the failures', () => {
    const seen: unknown[] = [];
    const value = (outcome: unknown) => {
      seen.push(outcome);
      return 1;
    };
    expect(preview(runtime, { value, jitter: null }, 2)).toEqual([1, 1]);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatchObject({
      name: 'PreviewFailure',
      message: 'preview: every attempt fails',
    });
  });

  it('passes on an error of the policy itself', () => {
    const broken = new Error('broken generator');
    const generator = () => ({
      next: (): IteratorResult<number> => {
        throw broken;
      },
    });
    expect(() => preview(generator, {}, 3)).toThrow(broken);
  });
});

describe('the default clock under @sinonjs/fake-timers', () => {
  it('sinon drives the waits of the default systemClock', async () => {
    const clock = FakeTimers.install({
      toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'],
    });
    try {
      let calls = 0;
      const wrapped = onException(expo, TypeError, { jitter: null, logger: null, maxTime: 100 })(
        async () => {
          calls += 1;
          if (calls < 4) throw new TypeError();
          return systemClock.now();
        },
      );
      const result = wrapped();
      await clock.tickAsync(6_999);
      expect(calls).toBe(3);
      await clock.tickAsync(1);
      expect(await result).toBeCloseTo(7, 5);
    } finally {
      clock.uninstall();
    }
  });

  it('sinon drives a sleep longer than the timer limit', async () => {
    const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      let done = false;
      const sleeping = systemClock.sleep(40 * 24 * 3600).then(() => {
        done = true;
      });
      await clock.tickAsync(39 * 24 * 3600 * 1000);
      expect(done).toBe(false);
      await clock.tickAsync(24 * 3600 * 1000);
      await sleeping;
      expect(done).toBe(true);
    } finally {
      clock.uninstall();
    }
  });

  it('the sync twin is unaffected by fake timers (it blocks for real)', () => {
    const clock = FakeTimers.install({ toFake: ['setTimeout'] });
    try {
      const started = Date.now();
      expect(
        onExceptionSync(constant, TypeError, { interval: 0.02, jitter: null, logger: null })(
          flaky([new TypeError()], 'ok'),
        )(),
      ).toBe('ok');
      expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    } finally {
      clock.uninstall();
    }
  });
});

describe('preview and the per-attempt timeout', () => {
  it('leaves `timeout` out too: it acts on attempts, which a preview does not make', () => {
    expect(preview(expo, { timeout: 5, maxTries: 4, jitter: null })).toEqual([1, 2, 4]);
  });
});
