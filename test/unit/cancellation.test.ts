// Cancellation with AbortSignal and the give-up reasons.
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  constant,
  expo,
  onException,
  onExceptionSync,
  onPredicate,
  onPredicateSync,
  retryContext,
  retryContextSync,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing.js';
import { flaky, returning, twins } from '../helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('signal (async twins and retryContext)', () => {
  it('an abort during a wait ends it at once: timer cleared, listener removed, rejects with signal.reason', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    const controller = new AbortController();
    const onGiveup = vi.fn();
    const target = vi.fn(async () => {
      throw new TypeError('down');
    });
    const wrapped = onException(constant, TypeError, {
      interval: 3600,
      jitter: null,
      logger: null,
      signal: controller.signal,
      onGiveup,
    })(target);
    const call = wrapped();
    await vi.advanceTimersByTimeAsync(10);
    expect(target).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('shutting down');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(target).toHaveBeenCalledTimes(1);
    expect(onGiveup).toHaveBeenCalledWith(
      expect.objectContaining({ tries: 1, exception: reason, reason: 'aborted' }),
    );
  });

  it('an abort ends a real-time wait at once', async () => {
    const controller = new AbortController();
    const wrapped = onException(constant, TypeError, {
      interval: 60,
      logger: null,
      signal: controller.signal,
    })(flaky([new TypeError()], 'ok'));
    const started = performance.now();
    const call = wrapped();
    setTimeout(() => controller.abort(), 20);
    await expect(call).rejects.toHaveProperty('name', 'AbortError');
    expect(performance.now() - started).toBeLessThan(10_000); // the wait was 60 s
  });

  it('an already aborted signal means no attempt', async () => {
    const controller = new AbortController();
    controller.abort(new Error('before'));
    const target = vi.fn(() => 'ok');
    const onGiveup = vi.fn();
    for (const decorate of [
      onException(expo, Error, { signal: controller.signal, logger: null, onGiveup }),
      onPredicate(expo, undefined, { signal: controller.signal, logger: null, onGiveup }),
    ]) {
      await expect(decorate(target)()).rejects.toThrow('before');
    }
    expect(target).not.toHaveBeenCalled();
    expect(onGiveup.mock.calls.map(([d]) => [d.tries, d.reason])).toEqual([
      [0, 'aborted'],
      [0, 'aborted'],
    ]);
  });

  it('no attempt starts after an abort during an async onTry handler', async () => {
    const controller = new AbortController();
    const target = vi.fn(() => 'ok');
    const wrapped = onException(expo, Error, {
      signal: controller.signal,
      logger: null,
      onTry: async () => {
        controller.abort('stop');
      },
    })(target);
    await expect(wrapped()).rejects.toBe('stop');
    expect(target).not.toHaveBeenCalled();
  });

  it('an abort reason thrown by the target is never retried', async () => {
    const controller = new AbortController();
    const clock = new VirtualClock();
    const target = vi.fn(async () => {
      controller.abort();
      throw controller.signal.reason;
    });
    const wrapped = onException(expo, Error, { signal: controller.signal, logger: null, clock })(
      target,
    );
    const error = await wrapped().catch((e: unknown) => e);
    expect(error).toBe(controller.signal.reason);
    expect(error).toHaveProperty('name', 'AbortError');
    expect(target).toHaveBeenCalledTimes(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('a success after the abort still returns its value', async () => {
    const controller = new AbortController();
    const wrapped = onException(expo, Error, { signal: controller.signal, logger: null })(
      async () => {
        controller.abort();
        return 'made it';
      },
    );
    expect(await wrapped()).toBe('made it');
  });

  it('retryContext stops at the abort', async () => {
    const controller = new AbortController();
    let bodies = 0;
    const loop = async () => {
      for await (const attempt of retryContext(TypeError, constant, {
        interval: 30,
        logger: null,
        signal: controller.signal,
      })) {
        await attempt.run(() => {
          bodies += 1;
          throw new TypeError();
        });
      }
    };
    const running = loop();
    setTimeout(() => controller.abort(new Error('cancelled')), 10);
    await expect(running).rejects.toThrow('cancelled');
    expect(bodies).toBe(1);
  });

  it('is refused by the sync twins, and must be an AbortSignal', () => {
    const { signal } = new AbortController();
    expect(() => onExceptionSync(expo, Error, { signal } as never)).toThrow(
      /`signal` is an option of the async twins.*not of onExceptionSync/,
    );
    expect(() => onPredicateSync(expo, undefined, { signal } as never)).toThrow(TypeError);
    expect(() => retryContextSync(Error, expo, { signal } as never)).toThrow(TypeError);
    expect(() => onException(expo, Error, { signal: { aborted: false } as never })).toThrow(
      /`signal`.*AbortSignal, got an object/,
    );
  });

  it('refuses, when the decorator is made, an object that lacks what a signal has', () => {
    const listen = () => {};
    const halfSignals = [
      { aborted: false, addEventListener: listen }, // no removeEventListener
      { aborted: false, removeEventListener: listen }, // no addEventListener
      { aborted: 'no', addEventListener: listen, removeEventListener: listen },
    ];
    for (const signal of halfSignals) {
      expect(() => onException(expo, Error, { signal } as never)).toThrow(TypeError);
      expect(() => onException(expo, Error, { signal } as never)).toThrow(
        /Expected `signal` to be an AbortSignal, got an object/,
      );
      expect(() => retryContext(Error, expo, { signal } as never)).toThrow(TypeError);
    }
  });
});

describe('a signal of another realm (duck-typed: aborted, reason, add/removeEventListener)', () => {
  it('ends a real wait of the system clock at once', async () => {
    const real = new AbortController();
    const foreign = {
      get aborted() {
        return real.signal.aborted;
      },
      get reason() {
        return real.signal.reason;
      },
      addEventListener: real.signal.addEventListener.bind(real.signal),
      removeEventListener: real.signal.removeEventListener.bind(real.signal),
    };
    const wrapped = onException(constant, TypeError, {
      interval: 3600,
      jitter: null,
      logger: null,
      signal: foreign as unknown as AbortSignal,
    })(async () => {
      throw new TypeError('down');
    });
    const started = performance.now();
    const settled = wrapped();
    setTimeout(() => real.abort(), 10);
    await expect(settled).rejects.toBeInstanceOf(DOMException);
    expect(performance.now() - started).toBeLessThan(10_000); // the wait was 60 s
    // Already aborted: the next call makes no attempt and sleeps no more.
    await expect(wrapped()).rejects.toBe(real.signal.reason);
  });
});

describe('what an abort leaves behind', () => {
  it('a failure once aborted is not retried: no onBackoff, reason aborted, logged as such', async () => {
    const controller = new AbortController();
    const onBackoff = vi.fn();
    const onGiveup = vi.fn();
    const lines: string[] = [];
    const logger = { info: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
    const failure = new TypeError('failed as it was aborted');
    const wrapped = onException(constant, TypeError, {
      clock: new VirtualClock(),
      signal: controller.signal,
      logger,
      onBackoff,
      onGiveup,
    })(async function job() {
      controller.abort();
      throw failure;
    });
    await expect(wrapped()).rejects.toBe(controller.signal.reason);
    expect(onBackoff).not.toHaveBeenCalled();
    expect(onGiveup).toHaveBeenCalledWith(expect.objectContaining({ tries: 1, reason: 'aborted' }));
    expect(lines).toEqual([
      'Giving up job(...) after 1 tries, aborted (AbortError: This operation was aborted)',
    ]);
  });

  it('an error it does not retry, once aborted, ends the call as aborted too: every abort gives up', async () => {
    const controller = new AbortController();
    const onGiveup = vi.fn();
    const wrapped = onException(constant, TypeError, {
      clock: new VirtualClock(),
      signal: controller.signal,
      logger: null,
      onGiveup,
    })(async () => {
      controller.abort();
      // What fetch does: it rejects with the abort reason, an AbortError, not a TypeError.
      throw controller.signal.reason;
    });
    await expect(wrapped()).rejects.toBe(controller.signal.reason);
    expect(onGiveup).toHaveBeenCalledTimes(1);
    expect(onGiveup).toHaveBeenCalledWith(expect.objectContaining({ tries: 1, reason: 'aborted' }));
  });

  it('a predicate twin gives up on an abort with the last value, not an exception', async () => {
    const controller = new AbortController();
    const onGiveup = vi.fn();
    const clock = new VirtualClock();
    const wrapped = onPredicate(constant, undefined, {
      clock: {
        now: () => clock.now(),
        sleep: async () => controller.abort(),
        sleepSync: () => {},
      },
      signal: controller.signal,
      logger: null,
      onGiveup,
    })(async () => 0);
    const settled = wrapped();
    await expect(settled).rejects.toBeInstanceOf(DOMException);
    await expect(settled).rejects.toBe(controller.signal.reason);
    const [details] = onGiveup.mock.calls[0] as [Record<string, unknown>];
    expect(details).toMatchObject({ tries: 1, value: 0, reason: 'aborted' });
    expect(details).not.toHaveProperty('exception');
  });
});

describe.each(twins)('give-up reasons ($name twin)', (twin) => {
  const base = { clock: new VirtualClock(), jitter: null } as const;

  it.each([
    ['maxTries', { maxTries: 2 }, 'Giving up job(...) after 2 tries (TypeError: x)', 'error'],
    [
      'maxTime',
      { maxTime: 2.5, interval: 1 },
      'Giving up job(...) after 4 tries, maxTime reached (TypeError: x)',
      'error',
    ],
    [
      'exhausted',
      { interval: [1] },
      'Giving up job(...) after 2 tries, no waits left (TypeError: x)',
      'error',
    ],
    [
      'giveup',
      { giveup: () => true },
      'Giving up job(...): giveup returned true on try 1 (TypeError: x)',
      'info',
    ],
  ] as const)('%s', async (reason, options, line, level) => {
    const onGiveup = vi.fn();
    const lines: [string, string][] = [];
    const logger = {
      info: (m: string) => lines.push(['info', m]),
      error: (m: string) => lines.push(['error', m]),
    };
    const decorate = twin.onException(constant, TypeError, {
      ...base,
      clock: new VirtualClock(),
      logger,
      onGiveup,
      ...options,
    });
    await expect(
      twin.call(
        decorate(function job() {
          throw new TypeError('x');
        }),
      ),
    ).rejects.toThrow('x');
    expect(onGiveup).toHaveBeenCalledTimes(1);
    expect(onGiveup.mock.calls[0]?.[0].reason).toBe(reason);
    expect(lines.filter(([, m]) => m.startsWith('Giving up'))).toEqual([[level, line]]);
  });

  it('predicate twins report reasons too', async () => {
    const onGiveup = vi.fn();
    await twin.call(
      twin.onPredicate(constant, undefined, {
        ...base,
        clock: new VirtualClock(),
        maxTries: 2,
        onGiveup,
      })(returning(0)),
    );
    expect(onGiveup.mock.calls[0]?.[0]).toMatchObject({ value: 0, reason: 'maxTries' });
  });
});
