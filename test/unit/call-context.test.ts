// callWith: a signal for one call of a decorated function, without a change to its signature.
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  attemptSignal,
  callWith,
  constant,
  onException,
  onExceptionSync,
  onPredicate,
  onPredicateSync,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing.js';
import { quiet } from '../helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A decorated function that always fails and waits an hour between tries, on `clock`. */
function failing(clock: VirtualClock, options: Record<string, unknown> = {}) {
  const target = vi.fn(async (_id: string) => {
    throw new TypeError('down');
  });
  const wrapped = onException(constant, TypeError, {
    ...quiet,
    interval: 3600,
    clock,
    ...options,
  })(target);
  return { target, wrapped };
}

describe('callWith({ signal }, fn)', () => {
  it('ends that call’s wait at once with signal.reason; other calls of the function go on', async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const { target, wrapped } = failing(clock, { maxTries: 2 });
    const controller = new AbortController();
    const signalled = callWith({ signal: controller.signal }, () => wrapped('a')).catch(
      (error: unknown) => error,
    );
    const plain = wrapped('b').catch((error: unknown) => error);
    // Both calls are in their wait.
    await vi.waitFor(() => expect(clock.pending).toBe(2));
    expect(target).toHaveBeenCalledTimes(2);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('user left');
    controller.abort(reason);
    expect(await signalled).toBe(reason);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // The other call was given no signal: it waits its hour, then tries again and gives up.
    await clock.advance(3600);
    expect(await plain).toBeInstanceOf(TypeError);
    expect(target.mock.calls.map(([id]) => id)).toEqual(['a', 'b', 'b']);
  });

  it('a signal aborted already: the target is never called', async () => {
    const clock = new VirtualClock();
    const { target, wrapped } = failing(clock);
    const reason = new Error('too late');
    await expect(callWith({ signal: AbortSignal.abort(reason) }, () => wrapped('a'))).rejects.toBe(
      reason,
    );
    expect(target).not.toHaveBeenCalled();
  });

  it.each([
    ['the decorator’s', 0],
    ['the call’s', 1],
  ] as const)('with the decorator’s signal too, %s abort ends the call', async (_, which) => {
    const clock = new VirtualClock({ autoAdvance: false });
    const controllers = [new AbortController(), new AbortController()] as const;
    const { wrapped } = failing(clock, { signal: controllers[0].signal });
    const call = callWith({ signal: controllers[1].signal }, () => wrapped('a')).catch(
      (error: unknown) => error,
    );
    await clock.advance(0);
    const reason = new Error(`abort ${which}`);
    controllers[which].abort(reason);
    expect(await call).toBe(reason);
  });

  it('the attempt’s signal follows the call’s: attemptSignal() aborts with it', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const wrapped = onException(
      constant,
      TypeError,
      quiet,
    )(async () => {
      seen = attemptSignal();
      await new Promise((resolve) => setTimeout(resolve, 1));
      controller.abort(new Error('stop'));
      return seen.aborted;
    });
    // A success after the abort still returns its value, as with the decorator's signal.
    await expect(callWith({ signal: controller.signal }, () => wrapped())).resolves.toBe(true);
    expect(seen?.reason).toEqual(new Error('stop'));
  });

  it('reaches the first decorated call only, not one its target makes', async () => {
    const inner = onException(constant, Error, { ...quiet, maxTries: 1 })(async () =>
      attemptSignal(),
    );
    const outer = onException(constant, Error, { ...quiet, maxTries: 1 })(async () => inner());
    const signal = new AbortController().signal;
    // Given to inner directly, its attempt is guarded and has a signal.
    await expect(callWith({ signal }, () => inner())).resolves.toBeInstanceOf(AbortSignal);
    // Through outer, inner gets no context: its attemptSignal() is outside any guarded attempt.
    await expect(callWith({ signal }, () => outer())).rejects.toThrow(/outside an attempt/);
    // Nor does a later call.
    await expect(inner()).rejects.toThrow(/outside an attempt/);
  });

  it('works for onPredicate and returns what fn returns', async () => {
    const controller = new AbortController();
    const poll = onPredicate(constant, (value: number) => value < 2, {
      ...quiet,
      interval: 0,
    })(
      (() => {
        let n = 0;
        return async () => n++;
      })(),
    );
    await expect(callWith({ signal: controller.signal }, () => poll())).resolves.toBe(2);
  });

  it('an empty context changes nothing, for every twin', async () => {
    const sync = onExceptionSync(constant, TypeError, quiet)(() => 'sync');
    const predicate = onPredicateSync(constant, undefined, quiet)(() => 'predicate');
    expect(callWith({}, () => sync())).toBe('sync');
    expect(callWith({ signal: undefined }, () => predicate())).toBe('predicate');
  });

  it('refuses what cannot work, with a TypeError that says why', async () => {
    const wrapped = onException(constant, TypeError, quiet)(async () => 'ok');
    const blocking = onExceptionSync(constant, TypeError, quiet)(() => 'ok');
    const signal = new AbortController().signal;
    expect(() => callWith(null as never, () => wrapped())).toThrow(
      'Expected `context` to be an object such as { signal }, got null',
    );
    expect(() => callWith('signal' as never, () => wrapped())).toThrow(
      'Expected `context` to be an object such as { signal }, got "signal"',
    );
    // fn returns a value, not a call: the context reached no call either.
    expect(() => callWith({ signal }, () => 5)).toThrow(
      /fn called no decorated function synchronously/,
    );
    expect(() => callWith({}, 'wrapped' as never)).toThrow(
      'Expected `fn` to be a function, got "wrapped"',
    );
    expect(() => callWith({ signal: {} as AbortSignal }, () => wrapped())).toThrow(
      'Expected `context.signal` to be an AbortSignal, got an object',
    );
    expect(() => callWith({ signal }, () => blocking())).toThrow(
      /reached a function decorated by a blocking twin .*: a blocking wait cannot be aborted/,
    );
    // fn awaits before it calls: the context would reach no call.
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      expect(() =>
        callWith({ signal }, async () => {
          await null;
          throw new Error('never seen');
        }),
      ).toThrow(/fn called no decorated function synchronously/);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
    // Nothing is left pending by a refusal: the next call is a plain one.
    await expect(wrapped()).resolves.toBe('ok');
  });

  it('never throws where it could reject: a bad lazy option of a call given a context', async () => {
    const wrapped = onException(constant, TypeError, { ...quiet, maxTries: () => 0 })(
      async () => 1,
    );
    let call: Promise<unknown> | undefined;
    expect(() => {
      call = callWith({ signal: new AbortController().signal }, () => wrapped());
    }).not.toThrow();
    await expect(call).rejects.toThrow(
      'Expected `maxTries` to be a positive integer or Infinity, got 0',
    );
  });

  it('both signals need AbortSignal.any: without it, the call rejects and says so', async () => {
    const any = AbortSignal.any;
    const wrapped = onException(constant, TypeError, {
      ...quiet,
      signal: new AbortController().signal,
    })(async () => 1);
    Object.defineProperty(AbortSignal, 'any', {
      value: undefined,
      configurable: true,
      writable: true,
    });
    try {
      await expect(
        callWith({ signal: new AbortController().signal }, () => wrapped()),
      ).rejects.toThrow('needs AbortSignal.any, which this runtime lacks');
      // One signal alone needs no combining.
      await expect(callWith({}, () => wrapped())).resolves.toBe(1);
    } finally {
      Object.defineProperty(AbortSignal, 'any', { value: any, configurable: true, writable: true });
    }
  });
});
