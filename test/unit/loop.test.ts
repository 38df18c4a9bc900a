// The retry loop's order and bookkeeping (contract §5, §6, §7): exact details, clock reads,
// handler order, callback errors, wait generator protocol and lazy options, for both twins.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { constant, expo, type WaitGenerator } from '../../src/index.js';
import { FakeClock, flaky, returning, ScriptedClock, twins } from '../helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Records every event's details, in order, by reference. */
function recorder() {
  const events: [string, Record<string, unknown>][] = [];
  const on = (name: string) => (details: Record<string, unknown>) => {
    events.push([name, details]);
  };
  return {
    events,
    handlers: {
      onTry: on('try'),
      onSuccess: on('success'),
      onBackoff: on('backoff'),
      onGiveup: on('giveup'),
    },
  };
}

describe.each(twins)('the retry loop ($name twin)', (twin) => {
  it('exact details for each event of an exception twin', async () => {
    const clock = new FakeClock();
    const { events, handlers } = recorder();
    const errors = [new TypeError('1'), new TypeError('2')];
    const target = vi.fn((..._args: unknown[]) => {
      clock.advance(0.5);
      const error = errors.shift();
      if (error) throw error;
      return 'ok';
    });
    const [first, second] = errors;
    const wrapped = twin.onException(expo, TypeError, {
      ...handlers,
      clock,
      jitter: null,
      logger: null,
    })(target);
    expect(await twin.call(wrapped, 'a', 2)).toBe('ok');
    const args = ['a', 2];
    expect(events).toStrictEqual([
      ['try', { target, args, tries: 1, elapsed: 0 }],
      ['backoff', { target, args, tries: 1, elapsed: 0.5, wait: 1, exception: first }],
      ['try', { target, args, tries: 2, elapsed: 0.5 }],
      ['backoff', { target, args, tries: 2, elapsed: 2, wait: 2, exception: second }],
      ['try', { target, args, tries: 3, elapsed: 2 }],
      ['success', { target, args, tries: 3, elapsed: 4.5 }],
    ]);
    const backoff = events[1]?.[1] as { exception: unknown };
    expect(backoff.exception).toBe(first);
  });

  it('exact details for a give-up of an exception twin', async () => {
    const clock = new FakeClock();
    const { events, handlers } = recorder();
    const error = new TypeError('x');
    const target = flaky([error], 'ok');
    const wrapped = twin.onException(expo, TypeError, {
      ...handlers,
      clock,
      maxTries: 1,
      logger: null,
    })(target);
    await expect(twin.call(wrapped, 7)).rejects.toBe(error);
    expect(events).toStrictEqual([
      ['try', { target, args: [7], tries: 1, elapsed: 0 }],
      ['giveup', { target, args: [7], tries: 1, elapsed: 0, exception: error, reason: 'maxTries' }],
    ]);
  });

  it('exact details for each event of a predicate twin', async () => {
    const clock = new FakeClock();
    const { events, handlers } = recorder();
    const target = returning(0, 0, 5);
    const wrapped = twin.onPredicate(constant, undefined, {
      ...handlers,
      clock,
      jitter: null,
      logger: null,
      interval: 3,
      maxTries: 3,
    })(target);
    expect(await twin.call(wrapped)).toBe(5);
    expect(events).toStrictEqual([
      ['try', { target, args: [], tries: 1, elapsed: 0 }],
      ['backoff', { target, args: [], tries: 1, elapsed: 0, value: 0, wait: 3 }],
      ['try', { target, args: [], tries: 2, elapsed: 0 }],
      ['backoff', { target, args: [], tries: 2, elapsed: 3, value: 0, wait: 3 }],
      ['try', { target, args: [], tries: 3, elapsed: 3 }],
      ['success', { target, args: [], tries: 3, elapsed: 6, value: 5 }],
    ]);
  });

  it('all handlers of one event get the same object', async () => {
    const seen: unknown[] = [];
    const wrapped = twin.onException(expo, TypeError, {
      clock: new FakeClock(),
      logger: null,
      onBackoff: [
        (details: Record<string, unknown>) => {
          seen.push(details);
          details.note = 'from the first';
        },
        (details: Record<string, unknown>) => {
          seen.push(details);
        },
      ],
    })(flaky([new TypeError()], 'ok'));
    await twin.call(wrapped);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    expect(seen[1]).toHaveProperty('note', 'from the first');
  });

  it('reads the clock once at the start and once after each attempt (v2.4 order)', async () => {
    // start 100; attempt 1 ends at 101; attempt 2 at 103; attempt 3 at 107: elapsed 7 ≥ maxTime 6.
    const clock = new ScriptedClock([100, 101, 103, 107]);
    const onBackoff = vi.fn();
    const target = vi.fn(() => {
      throw new TypeError();
    });
    const wrapped = twin.onException(constant, TypeError, {
      clock,
      logger: null,
      jitter: null,
      interval: 1,
      maxTime: 6,
      onBackoff,
    })(target);
    await expect(twin.call(wrapped)).rejects.toBeInstanceOf(TypeError);
    expect(clock.reads).toBe(4);
    expect(target).toHaveBeenCalledTimes(3);
    expect(onBackoff.mock.calls.map(([d]) => [d.tries, d.elapsed])).toEqual([
      [1, 1],
      [2, 3],
    ]);
  });

  it('a successful first attempt reads the clock once (maxTime), twice (a handler sees elapsed), or never', async () => {
    // Only the start: a first attempt that succeeds ends before anything reads elapsed time.
    const timed = new FakeClock();
    await twin.call(twin.onException(expo, Error, { clock: timed, maxTime: 5 })(() => 1));
    expect(timed.reads).toBe(1);
    // The start and after the attempt: onSuccess is told the elapsed time.
    const handled = new FakeClock();
    const onSuccess = vi.fn();
    await twin.call(twin.onException(expo, Error, { clock: handled, onSuccess })(() => 1));
    expect(handled.reads).toBe(2);
    expect(onSuccess).toHaveBeenCalledTimes(1);
    const untimed = new FakeClock();
    await twin.call(twin.onException(expo, Error, { clock: untimed, maxTries: 5 })(() => 1));
    expect(untimed.reads).toBe(0);
  });

  it('with nothing using elapsed time, failures and retries never read the clock', async () => {
    const clock = new FakeClock();
    const options = { clock, logger: null, interval: 0, maxTries: 3 };
    const failing = twin.onException(
      constant,
      TypeError,
      options,
    )(() => {
      throw new TypeError();
    });
    await expect(twin.call(failing)).rejects.toBeInstanceOf(TypeError);
    expect(clock.sleeps).toEqual([0, 0]);
    expect(clock.reads).toBe(0);
  });

  it('runs onTry before each attempt with the elapsed time recorded after the previous one', async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    const wrapped = twin.onException(constant, TypeError, {
      clock,
      logger: null,
      jitter: null,
      interval: 2,
      onTry: (d: { tries: number; elapsed: number }) => {
        order.push(`try ${d.tries} at ${d.elapsed}`);
      },
    })(() => {
      clock.advance(1);
      order.push('attempt');
      if (order.length < 6) throw new TypeError();
      return 'ok';
    });
    await twin.call(wrapped);
    expect(order).toEqual([
      'try 1 at 0',
      'attempt',
      'try 2 at 1',
      'attempt',
      'try 3 at 4',
      'attempt',
    ]);
  });

  it('runs onBackoff with the wait, then sleeps it, a zero wait included', async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    const original = clock.sleep.bind(clock);
    const originalSync = clock.sleepSync.bind(clock);
    clock.sleep = async (s: number) => {
      order.push(`sleep ${s}`);
      return original(s);
    };
    clock.sleepSync = (s: number) => {
      order.push(`sleep ${s}`);
      originalSync(s);
    };
    const wrapped = twin.onException(constant, TypeError, {
      clock,
      logger: null,
      interval: 0,
      onBackoff: (d: { wait: number }) => {
        order.push(`backoff ${d.wait}`);
      },
    })(flaky([new TypeError(), new TypeError()], 'ok'));
    await twin.call(wrapped);
    expect(order).toEqual(['backoff 0', 'sleep 0', 'backoff 0', 'sleep 0']);
  });

  it('applies jitter to the generator value, then clips to maxTime - elapsed', async () => {
    const clock = new FakeClock();
    const jitter = vi.fn((v: number, _random: () => number) => v * 10);
    const wrapped = twin.onException(constant, TypeError, {
      clock,
      logger: null,
      interval: 1,
      maxTime: 25,
      jitter,
    })(flaky([new TypeError(), new TypeError(), new TypeError(), new TypeError()], 'ok'));
    await expect(twin.call(wrapped)).rejects.toBeInstanceOf(TypeError);
    // elapsed 0, 10, 20: waits 10, 10, then min(10, 25 - 20) = 5; attempt 4 ends at 25 ≥ 25.
    expect(jitter.mock.calls.map(([value]) => value)).toEqual([1, 1, 1]);
    expect(jitter.mock.calls[0]?.[1]).toBe(Math.random);
    expect(clock.sleeps).toEqual([10, 10, 5]);
    expect(clock.time).toBe(25);
  });

  it('the default jitter is full jitter: U(0, value)', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const clock = new FakeClock();
    const wrapped = twin.onException(expo, TypeError, { clock, logger: null })(
      flaky([new TypeError(), new TypeError(), new TypeError()], 'ok'),
    );
    await twin.call(wrapped);
    expect(clock.sleeps).toEqual([0.5, 1, 2]);
  });

  it('passes each failure to the wait generator: next(error) / next(value)', async () => {
    const received: unknown[] = [];
    const recording: WaitGenerator = () => ({
      next: (outcome?: unknown) => {
        received.push(outcome);
        return { done: false, value: 0 };
      },
    });
    const errors = [new TypeError('1'), new TypeError('2')];
    await twin.call(
      twin.onException(recording, TypeError, { clock: new FakeClock(), logger: null })(
        flaky([...errors], 'ok'),
      ),
    );
    expect(received).toEqual(errors);
    expect(received[0]).toBe(errors[0]);
    received.length = 0;
    await twin.call(
      twin.onPredicate(recording, undefined, { clock: new FakeClock(), logger: null })(
        returning<unknown>(0, '', 'x'),
      ),
    );
    expect(received).toEqual([0, '']);
  });

  it('a plain function* works without a priming yield; its end means give up', async () => {
    const clock = new FakeClock();
    function* twoWaits() {
      yield 0.5;
      yield 1.5;
    }
    const target = flaky([new TypeError(), new TypeError(), new TypeError()], 'ok');
    await expect(
      twin.call(
        twin.onException(twoWaits, TypeError, { clock, logger: null, jitter: null })(target),
      ),
    ).rejects.toBeInstanceOf(TypeError);
    expect(clock.sleeps).toEqual([0.5, 1.5]);
    expect(target.calls).toBe(3);
  });

  it('creates one wait generator per call, with the options it was given', async () => {
    const factory = vi.fn(function* (options: { step?: number }) {
      for (;;) yield options.step ?? 0;
    });
    const decorate = twin.onException(factory, TypeError, {
      clock: new FakeClock(),
      logger: null,
      step: 0.25,
    });
    const wrapped = decorate(flaky([new TypeError(), new TypeError()], 'ok'));
    await twin.call(wrapped);
    expect(factory).toHaveBeenCalledTimes(1);
    expect(factory).toHaveBeenCalledWith({ step: 0.25 }, { random: Math.random });
    await twin.call(decorate(flaky([new TypeError()], 'ok')));
    expect(factory).toHaveBeenCalledTimes(2);
  });

  it('a bad generator value is a RangeError with the failure as cause', async () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '1', null]) {
      const error = new TypeError('original');
      const wrapped = twin.onException(
        function* () {
          yield bad as number;
        },
        TypeError,
        { clock: new FakeClock(), logger: null },
      )(flaky([error], 'ok'));
      const thrown = await twin.call(wrapped).catch((e: unknown) => e);
      expect(thrown).toBeInstanceOf(RangeError);
      expect((thrown as Error).message).toMatch(/the wait generator to give a finite number/);
      expect((thrown as Error).cause).toBe(error);
    }
  });

  it('a bad jitter result is a RangeError; a thenable from it is a TypeError', async () => {
    for (const [bad, kind] of [
      [-0.5, RangeError],
      [Number.NaN, RangeError],
      [Number.POSITIVE_INFINITY, RangeError],
      [Promise.resolve(1), TypeError],
    ] as const) {
      const wrapped = twin.onException(expo, TypeError, {
        clock: new FakeClock(),
        logger: null,
        jitter: (_seconds: number) => bad as number,
      })(flaky([new TypeError()], 'ok'));
      const thrown = await twin.call(wrapped).catch((e: unknown) => e);
      expect(thrown).toBeInstanceOf(kind);
      expect((thrown as Error).message).toMatch(/jitter/);
    }
  });

  it('an error from a handler, giveup, the predicate, the jitter or the generator ends the call at once', async () => {
    const failing = (name: string) => (_value?: unknown) => {
      throw new Error(name);
    };
    const cases: [string, Record<string, unknown>, 'exception' | 'predicate'][] = [
      ['onBackoff', { onBackoff: failing('onBackoff') }, 'exception'],
      ['onTry', { onTry: failing('onTry') }, 'exception'],
      ['onSuccess', { onSuccess: failing('onSuccess') }, 'exception'],
      ['giveup', { giveup: failing('giveup') }, 'exception'],
      ['jitter', { jitter: failing('jitter') }, 'exception'],
      ['predicate', {}, 'predicate'],
    ];
    for (const [name, options, kind] of cases) {
      const onGiveup = vi.fn();
      const target = kind === 'exception' ? flaky([new TypeError()], 'ok') : returning(0, 1);
      const decorate =
        kind === 'exception'
          ? twin.onException(expo, TypeError, {
              clock: new FakeClock(),
              logger: null,
              onGiveup,
              ...options,
            })
          : twin.onPredicate(expo, failing('predicate'), {
              clock: new FakeClock(),
              logger: null,
              onGiveup,
            });
      const thrown = await twin.call(decorate(target)).catch((e: unknown) => e);
      expect((thrown as Error).message, name).toBe(name);
      expect(onGiveup, name).not.toHaveBeenCalled();
      expect(target.calls, name).toBeLessThanOrEqual(name === 'onSuccess' ? 2 : 1);
    }
    const generatorError = new Error('generator');
    const wrapped = twin.onException(
      () => ({
        next: () => {
          throw generatorError;
        },
      }),
      TypeError,
      { clock: new FakeClock(), logger: null },
    )(flaky([new TypeError()], 'ok'));
    await expect(twin.call(wrapped)).rejects.toBe(generatorError);
  });

  it('lazy options are called once per call, synchronously, at the start', async () => {
    const maxTries = vi.fn(() => 2);
    const maxTime = vi.fn(() => 100);
    const interval = vi.fn(() => 0.25);
    const decorate = twin.onException(constant, TypeError, {
      clock: new FakeClock(),
      logger: null,
      jitter: null,
      maxTries,
      maxTime,
      interval,
    });
    expect(maxTries).not.toHaveBeenCalled();
    const clock = new FakeClock();
    const wrapped = twin.onException(constant, TypeError, {
      clock,
      logger: null,
      jitter: null,
      maxTries,
      maxTime,
      interval,
    })(flaky([new TypeError(), new TypeError(), new TypeError()], 'ok'));
    await expect(twin.call(wrapped)).rejects.toBeInstanceOf(TypeError);
    expect(maxTries).toHaveBeenCalledTimes(1);
    expect(maxTime).toHaveBeenCalledTimes(1);
    expect(interval).toHaveBeenCalledTimes(1);
    expect(clock.sleeps).toEqual([0.25]);
    await twin.call(decorate(() => 'ok'));
    expect(maxTries).toHaveBeenCalledTimes(2);
  });

  it('a function with default parameters counts as lazy (fn.length is 0)', async () => {
    const clock = new FakeClock();
    const wrapped = twin.onException(constant, TypeError, {
      clock,
      logger: null,
      jitter: null,
      interval: (seconds = 0.5) => seconds,
    })(flaky([new TypeError()], 'ok'));
    await twin.call(wrapped);
    expect(clock.sleeps).toEqual([0.5]);
  });

  it('a lazy option returning a bad value fails when the call starts, before any attempt', async () => {
    const target = vi.fn(() => 'ok');
    const wrapped = twin.onException(expo, TypeError, { logger: null, maxTries: () => 0 })(target);
    await expect(twin.call(wrapped)).rejects.toThrow(RangeError);
    await expect(twin.call(wrapped)).rejects.toThrow(/maxTries.*got 0/);
    const badWait = twin.onException(expo, TypeError, { logger: null, factor: () => -1 })(target);
    await expect(twin.call(badWait)).rejects.toThrow(/factor.*got -1/);
    const thenable = twin.onException(expo, TypeError, {
      logger: null,
      maxTime: () => Promise.resolve(1),
    })(target);
    await expect(twin.call(thenable)).rejects.toThrow(/lazy option `maxTime` returned a Promise/);
    expect(target).not.toHaveBeenCalled();
  });

  it('a clock whose now() returns a Promise is a TypeError', async () => {
    const clock = new FakeClock();
    clock.now = () => Promise.resolve(1) as unknown as number;
    const wrapped = twin.onException(expo, TypeError, { clock, maxTime: 10, logger: null })(
      flaky([new TypeError()], 'ok'),
    );
    await expect(twin.call(wrapped)).rejects.toThrow(/clock\.now\(\) returned a Promise/);
  });

  it('one decorator wraps any number of functions, each the same (no duplicated logs)', async () => {
    const lines: string[] = [];
    const logger = { info: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
    const decorate = twin.onException(constant, TypeError, {
      clock: new FakeClock(),
      logger,
      interval: 0,
      maxTries: 2,
    });
    const first = decorate(function first() {
      throw new TypeError('a');
    });
    const second = decorate(function second() {
      throw new TypeError('b');
    });
    await expect(twin.call(first)).rejects.toThrow('a');
    await expect(twin.call(second)).rejects.toThrow('b');
    await expect(twin.call(first)).rejects.toThrow('a');
    expect(lines).toEqual([
      'Backing off first(...) for 0.0s (TypeError: a)',
      'Giving up first(...) after 2 tries (TypeError: a)',
      'Backing off second(...) for 0.0s (TypeError: b)',
      'Giving up second(...) after 2 tries (TypeError: b)',
      'Backing off first(...) for 0.0s (TypeError: a)',
      'Giving up first(...) after 2 tries (TypeError: a)',
    ]);
  });

  it('reads a handler iterable once, when the decorator is made', async () => {
    const calls: number[] = [];
    function* handlers() {
      yield () => calls.push(1);
      yield () => calls.push(2);
    }
    const decorate = twin.onException(constant, TypeError, {
      clock: new FakeClock(),
      logger: null,
      interval: 0,
      onBackoff: handlers(),
    });
    await twin.call(decorate(flaky([new TypeError()], 'ok')));
    await twin.call(decorate(flaky([new TypeError()], 'ok')));
    expect(calls).toEqual([1, 2, 1, 2]);
  });
});

describe('the sync twins refuse thenables', () => {
  const [, syncTwin] = twins as [(typeof twins)[number], (typeof twins)[number]];

  it('a target returning a Promise is a TypeError; its rejection is handled', async () => {
    const wrapped = syncTwin.onException(expo, Error, { logger: null })(() =>
      Promise.reject(new Error('stray')),
    );
    expect(() => wrapped()).toThrow(TypeError);
    expect(() => wrapped()).toThrow(/async twin/);
    // The setup file fails this test if the stray rejection was left unhandled.
  });

  it('an async handler, giveup or predicate is a TypeError, not a silent skip', () => {
    const asyncHandler = async () => {
      throw new Error('never seen');
    };
    for (const options of [
      { onBackoff: asyncHandler },
      { onTry: asyncHandler },
      { giveup: asyncHandler },
      { onGiveup: asyncHandler, maxTries: 1 },
    ]) {
      const wrapped = syncTwin.onException(constant, TypeError, {
        logger: null,
        clock: new FakeClock(),
        ...options,
      })(flaky([new TypeError()], 'ok'));
      expect(() => wrapped()).toThrow(/returned a Promise.*async twin/);
    }
    const predicate = syncTwin.onPredicate(constant, async () => true, {
      logger: null,
      clock: new FakeClock(),
    })(() => 1);
    expect(() => predicate()).toThrow(TypeError);
  });

  it('a custom clock whose sleepSync returns a Promise is a TypeError', () => {
    const clock = new FakeClock();
    clock.sleepSync = () => Promise.resolve() as unknown as undefined;
    const wrapped = syncTwin.onException(constant, TypeError, { logger: null, clock })(
      flaky([new TypeError()], 'ok'),
    );
    expect(() => wrapped()).toThrow(/clock\.sleepSync returned a Promise/);
  });

  it('returns the value directly, and blocks for real with the system clock', () => {
    const wrapped = syncTwin.onException(constant, TypeError, {
      logger: null,
      interval: 0.05,
      jitter: null,
    })(flaky([new TypeError()], 'ok'));
    const start = performance.now();
    expect(wrapped()).toBe('ok');
    expect(performance.now() - start).toBeGreaterThanOrEqual(45);
  });
});
