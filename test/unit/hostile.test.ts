// Hostile callbacks, clocks and values: stray promises, a logger that fails, a clock that lies, a
// handler that edits its details, a thrown revoked Proxy. Nothing of it may change another call or
// leave an unhandled rejection behind (test/setup.ts fails the test on any).
import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  constant,
  expo,
  onException,
  onPredicate,
  systemClock,
  throttle,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing.js';
import { FakeClock, flaky, returning, twins } from '../helpers.js';

const rejecting = () => Promise.reject(new Error('stray'));

/** Lets every pending microtask and one macrotask run, so that unhandled rejections surface. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe.each(twins)('a stray rejected promise is handled ($name twin)', (twin) => {
  const base = { logger: null, clock: new FakeClock(), interval: 0, maxTries: 3 };
  const failing = () => flaky([new TypeError('try')], 'ok');
  const cases: [string, Record<string, unknown>, unknown][] = [
    ['jitter', { jitter: (_s: number) => rejecting() }, constant],
    ['a wait value', {}, () => ({ next: () => ({ done: false, value: rejecting() }) })],
    ['next()', {}, () => ({ next: rejecting })],
    ['a lazy option', { maxTries: () => rejecting() }, constant],
    [
      'clock.now()',
      { clock: { now: rejecting, sleep: async () => {}, sleepSync() {} }, maxTime: 5 },
      constant,
    ],
  ];
  it.each(cases)(
    'from %s: a named TypeError, no unhandled rejection',
    async (_name, options, wait) => {
      const wrapped = twin.onException(wait, TypeError, { ...base, ...options })(failing());
      await expect(twin.call(wrapped)).rejects.toBeInstanceOf(TypeError);
      await settle();
    },
  );

  it('an async function* wait generator: a TypeError that says what is wrong', async () => {
    const wait = async function* () {
      yield 1;
    };
    const wrapped = twin.onException(wait, TypeError, base)(failing());
    await expect(twin.call(wrapped)).rejects.toThrow(
      /wait generator returned an async iterator.*not an async function\*/,
    );
    await settle();
  });
});

describe('one signal shared by many calls', () => {
  it('a sleep ended by its timer lets go of the listener once no other sleep is left', async () => {
    const controller = new AbortController();
    const first = systemClock.sleep(0.001, controller.signal);
    const second = systemClock.sleep(0.05, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await first;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await second;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('never hands setTimeout a negative delay (Node 24+ warns), even when the clock runs late', async () => {
    const times = [0, 5_000];
    const now = vi.spyOn(performance, 'now').mockImplementation(() => times.shift() ?? 5_000);
    const timeout = vi.spyOn(globalThis, 'setTimeout');
    try {
      const controller = new AbortController();
      await systemClock.sleep(1, controller.signal);
      const delays = timeout.mock.calls.map(([, delay]) => delay as number);
      expect(delays).toEqual([0]);
    } finally {
      now.mockRestore();
      timeout.mockRestore();
    }
  });
});

describe('a pending retry lets go of its last failure', () => {
  afterEach(() => vi.useRealTimers());

  // Kept only where an abort during the wait can still report it: a predicate twin's onGiveup
  // handlers with a signal (the last case, where the value must stay).
  it.each([
    ['exception', {}, true],
    ['predicate', {}, true],
    ['exception', { onGiveup: () => {}, signal: new AbortController().signal }, true],
    ['predicate', { onGiveup: () => {} }, true],
    ['predicate', { signal: new AbortController().signal }, true],
    ['exception', { budget: throttle() }, true],
    ['predicate', { onGiveup: () => {}, signal: new AbortController().signal }, false],
  ] as const)(
    'a %s twin with %o lets go of the failure during the wait: %s',
    async (kind, extra, freed) => {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      let ref: WeakRef<object> | undefined;
      let collected: boolean | undefined;
      const clock = new VirtualClock();
      const sleep = clock.sleep.bind(clock);
      clock.sleep = async (seconds: number, signal?: AbortSignal) => {
        if (collected === undefined) {
          // Inside the wait: nothing but the library could still hold the failure.
          await settle();
          gc();
          collected = ref?.deref() === undefined;
        }
        return sleep(seconds, signal);
      };
      let tries = 0;
      const make = () => {
        const failure = { big: new Array(1000).fill(0), error: new Error('fresh') };
        ref = new WeakRef(failure);
        return failure;
      };
      const options = { clock, logger: null, jitter: null, maxTries: 2, ...extra };
      const wrapped =
        kind === 'exception'
          ? onException(
              expo,
              Object,
              options,
            )(() => {
              tries += 1;
              if (tries === 1) throw make();
              return 'ok';
            })
          : onPredicate(
              expo,
              (value: unknown) => value !== 'ok',
              options,
            )(() => {
              tries += 1;
              return tries === 1 ? make() : 'ok';
            });
      await expect(wrapped()).resolves.toBe('ok');
      expect(collected).toBe(freed);
    },
  );
});

describe('a logger never changes the call', () => {
  const throwing = () => ({
    info() {
      throw new Error('logger down');
    },
    error() {
      throw new Error('logger down');
    },
  });
  const rejectingLogger = { info: rejecting, error: rejecting };

  it.each(twins)(
    'a logger that throws: the user’s own error at give-up, the value on success ($name)',
    async (twin) => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on('warning', onWarning);
      try {
        const error = new TypeError('mine');
        const options = { logger: throwing(), clock: new FakeClock(), interval: 0, maxTries: 2 };
        const failing = twin.onException(
          constant,
          TypeError,
          options,
        )(() => {
          throw error;
        });
        await expect(twin.call(failing)).rejects.toBe(error);
        const recovering = twin.onException(
          constant,
          TypeError,
          options,
        )(flaky([new TypeError()], 'ok'));
        await expect(twin.call(recovering)).resolves.toBe('ok');
        await settle();
        // Reported once for this logger, however often it failed.
        expect(warnings.map((warning) => warning.name)).toEqual(['BackoffLoggerWarning']);
        expect((warnings[0] as Error & { code?: string }).code).toBe('BACKOFF_TS_LOGGER_FAILED');
        expect(warnings[0]?.message).toContain('logger down');
      } finally {
        process.off('warning', onWarning);
      }
    },
  );

  it('an async logger that rejects leaves no unhandled rejection', async () => {
    const onWarning = vi.fn();
    process.on('warning', onWarning);
    try {
      const wrapped = onException(constant, TypeError, {
        logger: rejectingLogger,
        clock: new FakeClock(),
        interval: 0,
        maxTries: 3,
      })(flaky([new TypeError(), new TypeError()], 'ok'));
      await expect(wrapped()).resolves.toBe('ok');
      await settle();
      expect(onWarning).toHaveBeenCalledTimes(1);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('an error whose name getter throws breaks nothing when logging is on', async () => {
    const lines: string[] = [];
    const logger = {
      info: (line: string) => lines.push(line),
      error: (line: string) => lines.push(line),
    };
    const hostile = new TypeError('x');
    Object.defineProperty(hostile, 'name', {
      get() {
        throw new Error('no name');
      },
    });
    const wrapped = onException(constant, TypeError, {
      logger,
      clock: new FakeClock(),
      interval: 0,
      maxTries: 2,
    })(() => {
      throw hostile;
    });
    await expect(wrapped()).rejects.toBe(hostile);
    expect(lines).toEqual([
      'Backing off <anonymous>(...) for 0.0s (<unprintable value>)',
      'Giving up <anonymous>(...) after 2 tries (<unprintable value>)',
    ]);
  });
});

describe.each(twins)('hostile clocks, handlers and errors ($name twin)', (twin) => {
  it('clock.now() giving NaN or Infinity is the named TypeError, at the start or after an attempt', async () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      for (const readsBeforeBad of [0, 1]) {
        let reads = 0;
        const clock = {
          now: () => (reads++ < readsBeforeBad ? 0 : bad),
          sleep: async () => {},
          sleepSync() {},
        };
        const wrapped = twin.onException(expo, TypeError, { clock, logger: null, maxTime: 5 })(
          flaky([new TypeError()], 'ok'),
        );
        await expect(twin.call(wrapped)).rejects.toThrow(
          `Expected clock.now() to return a finite number of seconds, got ${bad}`,
        );
      }
    }
  });

  it('a handler that edits details.args changes neither the next attempt nor another event', async () => {
    const seen: unknown[][] = [];
    const target = vi.fn((...args: unknown[]) => {
      seen.push(args);
      if (seen.length < 2) throw new TypeError();
      return 'ok';
    });
    const redact = (details: { args: unknown[] }) => {
      details.args[0] = '***';
    };
    const onTry = vi.fn();
    const wrapped = twin.onException(constant, TypeError, {
      logger: null,
      clock: new FakeClock(),
      interval: 0,
      onBackoff: redact,
      onTry: [redact, onTry],
    })(target);
    await expect(twin.call(wrapped, 'secret', 2)).resolves.toBe('ok');
    expect(seen).toEqual([
      ['secret', 2],
      ['secret', 2],
    ]);
    // onTry's second handler saw its own event's redaction, not another event's.
    expect(onTry.mock.calls.map(([details]) => details.args)).toEqual([
      ['***', 2],
      ['***', 2],
    ]);
  });

  it('a thrown revoked Proxy comes back as itself', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const wrapped = twin.onException(expo, TypeError, { clock: new FakeClock() })(() => {
      throw proxy;
    });
    await expect(twin.call(wrapped)).rejects.toBe(proxy);
  });

  it('a jitter without parameters is refused, naming Python’s nullary form', () => {
    expect(() => twin.onException(expo, TypeError, { jitter: () => 0.25 })).toThrow(
      /Expected `jitter` to take the wait in seconds.*nullary jitter \(wait \+ jitter\(\)\) is not supported/,
    );
  });

  it('resolves lazy options in Python’s order: maxTries, maxTime, then the wait options', async () => {
    const order: string[] = [];
    const lazy =
      <T>(name: string, value: T) =>
      () => {
        order.push(name);
        return value;
      };
    const wrapped = twin.onPredicate(constant, undefined, {
      logger: null,
      clock: new FakeClock(),
      interval: lazy('interval', 0),
      maxTime: lazy('maxTime', 10),
      maxTries: lazy('maxTries', 1),
    })(returning(1));
    await twin.call(wrapped);
    expect(order).toEqual(['maxTries', 'maxTime', 'interval']);
  });
});
