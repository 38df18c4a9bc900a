// onException and onExceptionSync: what is retried, limits, handlers and their details, giveup,
// raiseOnGiveup; written once, run against both twins.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { constant, expo } from '../../src/index.js';
import { FakeClock, flaky, twins } from '../helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

class HttpError extends Error {
  override name = 'HttpError';
}

describe.each(twins)('onException ($name twin)', (twin) => {
  const quiet = { logger: null, jitter: null } as const;

  it('retries while the target throws a matched error, then returns its value', async () => {
    const clock = new FakeClock();
    const target = flaky([new TypeError('a'), new TypeError('b')], 'done');
    const wrapped = twin.onException(expo, TypeError, { ...quiet, clock })(target);
    expect(await twin.call(wrapped)).toBe('done');
    expect(target.calls).toBe(3);
    expect(clock.sleeps).toEqual([1, 2]);
  });

  it('gives up after maxTries calls and rethrows the very error object', async () => {
    const clock = new FakeClock();
    const last = new TypeError('last');
    const target = flaky([new TypeError('1'), new TypeError('2'), last, new TypeError('4')], 0);
    const wrapped = twin.onException(expo, TypeError, { ...quiet, clock, maxTries: 3 })(target);
    await expect(twin.call(wrapped)).rejects.toBe(last);
    expect(target.calls).toBe(3);
    expect(clock.sleeps).toEqual([1, 2]);
  });

  it('maxTries: 1 means one call and no wait', async () => {
    const clock = new FakeClock();
    const error = new TypeError('x');
    const target = flaky([error], 0);
    const wrapped = twin.onException(expo, TypeError, { ...quiet, clock, maxTries: 1 })(target);
    await expect(twin.call(wrapped)).rejects.toBe(error);
    expect(target.calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('null, undefined and Infinity maxTries are unlimited', async () => {
    for (const maxTries of [null, undefined, Number.POSITIVE_INFINITY]) {
      const clock = new FakeClock();
      const target = flaky(
        Array.from({ length: 30 }, () => new TypeError()),
        'ok',
      );
      const wrapped = twin.onException(constant, TypeError, { ...quiet, clock, maxTries })(target);
      expect(await twin.call(wrapped)).toBe('ok');
      expect(target.calls).toBe(31);
    }
  });

  it('matches one class, an array of classes, and subclasses', async () => {
    const target = flaky([new HttpError('h'), new RangeError('r'), new TypeError('t')], 'ok');
    const wrapped = twin.onException(constant, [Error], { ...quiet, clock: new FakeClock() })(
      target,
    );
    expect(await twin.call(wrapped)).toBe('ok');
    const arrayTarget = flaky([new HttpError('h'), new RangeError('r')], 'ok');
    const arrayWrapped = twin.onException(constant, [HttpError, RangeError], {
      ...quiet,
      clock: new FakeClock(),
    })(arrayTarget);
    expect(await twin.call(arrayWrapped)).toBe('ok');
    expect(arrayTarget.calls).toBe(3);
  });

  it('a class with a static Symbol.hasInstance works as a custom matcher', async () => {
    // biome-ignore lint/complexity/noStaticOnlyClass: a static Symbol.hasInstance is the point.
    class Retryable {
      static [Symbol.hasInstance](error: unknown): boolean {
        return (error as { status?: number })?.status === 503;
      }
    }
    const target = flaky([{ status: 503 }, { status: 503 }], 'ok');
    const wrapped = twin.onException(constant, Retryable, { ...quiet, clock: new FakeClock() })(
      target,
    );
    expect(await twin.call(wrapped)).toBe('ok');
    const fatal = { status: 400 };
    const other = twin.onException(constant, Retryable, { ...quiet, clock: new FakeClock() })(
      flaky([fatal], 'ok'),
    );
    await expect(twin.call(other)).rejects.toBe(fatal);
  });

  it('any other thrown value propagates at once, untouched, with no handler called', async () => {
    for (const thrown of [new RangeError('no'), 'a string', null, undefined, { plain: true }, 42]) {
      const handler = vi.fn();
      const target = flaky([thrown], 'ok');
      const wrapped = twin.onException(expo, TypeError, {
        ...quiet,
        clock: new FakeClock(),
        onTry: handler,
        onBackoff: handler,
        onGiveup: handler,
        onSuccess: handler,
        giveup: handler,
      })(target);
      await expect(twin.call(wrapped)).rejects.toBe(thrown);
      expect(target.calls).toBe(1);
      // onTry runs before the attempt; nothing after it.
      expect(handler).toHaveBeenCalledTimes(1);
      expect(handler.mock.calls[0]?.[0]).not.toHaveProperty('exception');
    }
  });

  it('maxTime: gives up once elapsed >= maxTime, never more than one attempt past it', async () => {
    const clock = new FakeClock();
    // Each attempt takes 0.75 s; waits (expo, no jitter) 1, 2, 4 … clipped to the time left.
    const target = vi.fn(() => {
      clock.advance(0.75);
      throw new TypeError('slow');
    });
    const wrapped = twin.onException(expo, TypeError, { ...quiet, clock, maxTime: 5 })(target);
    await expect(twin.call(wrapped)).rejects.toBeInstanceOf(TypeError);
    // t=0.75 wait 1 → 1.75, t=2.5 wait 2 → 4.5, t=5.25 ≥ 5: give up.
    expect(clock.sleeps).toEqual([1, 2]);
    expect(target).toHaveBeenCalledTimes(3);
    expect(clock.time).toBe(5.25);
    expect(clock.time).toBeLessThanOrEqual(5 + 0.75);
  });

  it('clips the last wait to maxTime - elapsed', async () => {
    const clock = new FakeClock();
    const target = vi.fn(() => {
      clock.advance(0.5);
      throw new TypeError('slow');
    });
    const wrapped = twin.onException(constant, TypeError, {
      ...quiet,
      clock,
      interval: 10,
      maxTime: 3,
    })(target);
    await expect(twin.call(wrapped)).rejects.toBeInstanceOf(TypeError);
    expect(clock.sleeps).toEqual([2.5]);
    expect(target).toHaveBeenCalledTimes(2);
  });

  it('maxTime: 0 runs the first attempt, then gives up', async () => {
    const target = flaky([new TypeError()], 'ok');
    const wrapped = twin.onException(expo, TypeError, {
      ...quiet,
      clock: new FakeClock(),
      maxTime: 0,
    })(target);
    await expect(twin.call(wrapped)).rejects.toBeInstanceOf(TypeError);
    expect(target.calls).toBe(1);
  });

  it('maxTries and maxTime together: whichever comes first', async () => {
    const clock = new FakeClock();
    const target = vi.fn(() => {
      throw new TypeError();
    });
    const wrapped = twin.onException(constant, TypeError, {
      ...quiet,
      clock,
      interval: 1,
      maxTries: 10,
      maxTime: 2.5,
    })(target);
    await expect(twin.call(wrapped)).rejects.toBeInstanceOf(TypeError);
    // elapsed 0, 1, 2 (<2.5): waits 1, 1, 0.5 → elapsed 2.5 ≥ 2.5 after attempt 4.
    expect(clock.sleeps).toEqual([1, 1, 0.5]);
    expect(target).toHaveBeenCalledTimes(4);
  });

  it('giveup is asked on every matched failure, the last one included, with details', async () => {
    const giveup = vi.fn(() => false);
    const errors = [new TypeError('1'), new TypeError('2'), new TypeError('3')];
    const target = flaky(errors, 'ok');
    const wrapped = twin.onException(expo, TypeError, {
      ...quiet,
      clock: new FakeClock(),
      maxTries: 3,
      giveup,
    })(target);
    await expect(twin.call(wrapped)).rejects.toBe(errors[2]);
    expect(giveup).toHaveBeenCalledTimes(3);
    expect(giveup.mock.calls.map((call) => (call as unknown[])[0])).toEqual(errors);
    expect((giveup.mock.calls[2] as unknown[])[1]).toEqual({
      target,
      args: [],
      tries: 3,
      elapsed: 3,
      exception: errors[2],
    });
  });

  it('giveup returning true gives up at once, before maxTries', async () => {
    const onGiveup = vi.fn();
    const fatal = new TypeError('fatal');
    const target = flaky([new TypeError('retry'), fatal], 'ok');
    const wrapped = twin.onException(expo, TypeError, {
      ...quiet,
      clock: new FakeClock(),
      giveup: (error: TypeError) => error.message === 'fatal',
      onGiveup,
    })(target);
    await expect(twin.call(wrapped)).rejects.toBe(fatal);
    expect(target.calls).toBe(2);
    expect(onGiveup).toHaveBeenCalledTimes(1);
  });

  it('raiseOnGiveup: false returns undefined on give-up', async () => {
    const wrapped = twin.onException(expo, TypeError, {
      ...quiet,
      clock: new FakeClock(),
      maxTries: 2,
      raiseOnGiveup: false,
      onGiveup: () => 'ignored',
    })(flaky([new TypeError(), new TypeError()], 'ok'));
    expect(await twin.call(wrapped)).toBeUndefined();
  });

  it('an exhausted wait generator gives up and always rethrows, even with raiseOnGiveup: false', async () => {
    const clock = new FakeClock();
    const onGiveup = vi.fn();
    const last = new TypeError('4');
    const target = flaky([new TypeError('1'), new TypeError('2'), new TypeError('3'), last], 'ok');
    const wrapped = twin.onException(constant, TypeError, {
      ...quiet,
      clock,
      interval: [1, 2, 3],
      raiseOnGiveup: false,
      onGiveup,
    })(target);
    await expect(twin.call(wrapped)).rejects.toBe(last);
    expect(clock.sleeps).toEqual([1, 2, 3]);
    expect(target.calls).toBe(4);
    expect(onGiveup).toHaveBeenCalledWith({
      target,
      args: [],
      tries: 4,
      elapsed: 6,
      exception: last,
      reason: 'exhausted',
    });
  });

  it('maxTries wins over exhaustion when both happen at once (raiseOnGiveup honoured)', async () => {
    const wrapped = twin.onException(constant, TypeError, {
      ...quiet,
      clock: new FakeClock(),
      interval: [1, 2],
      maxTries: 3,
      raiseOnGiveup: false,
    })(flaky([new TypeError(), new TypeError(), new TypeError()], 'ok'));
    expect(await twin.call(wrapped)).toBeUndefined();
  });

  it('forwards this and the arguments to the target', async () => {
    const seen: unknown[] = [];
    const wrapped = twin.onException(constant, TypeError, { ...quiet, clock: new FakeClock() })(
      function (this: unknown, ...args: unknown[]) {
        seen.push(this, args);
        if (seen.length < 4) throw new TypeError();
        return 'ok';
      },
    );
    const self = { wrapped };
    expect(await twin.call(() => self.wrapped(1, 'two'))).toBe('ok');
    expect(seen).toEqual([self, [1, 'two'], self, [1, 'two']]);
  });

  it('passes exactly the arguments given, 0 to 5 of them, on every attempt and in details', async () => {
    for (let count = 0; count <= 5; count++) {
      const args = Array.from({ length: count }, (_, i) => (i % 2 ? undefined : `arg${i}`));
      const seen: unknown[][] = [];
      const onBackoff = vi.fn();
      const wrapped = twin.onException(constant, TypeError, {
        ...quiet,
        clock: new FakeClock(),
        onBackoff,
      })(function (...received: unknown[]) {
        // biome-ignore lint/complexity/noArguments: checks the arity the target sees.
        seen.push([arguments.length, ...received]);
        if (seen.length < 2) throw new TypeError();
        return received.length;
      });
      expect(await twin.call(wrapped, ...args)).toBe(count);
      expect(seen).toEqual([
        [count, ...args],
        [count, ...args],
      ]);
      expect(onBackoff.mock.calls[0]?.[0].args).toEqual(args);
    }
  });

  it('each call has its own tries, clock start and wait generator', async () => {
    const clock = new FakeClock();
    const fails = new Map<string, number>();
    const decorate = twin.onException(expo, TypeError, { ...quiet, clock, maxTries: 3 });
    const wrapped = decorate((key: string) => {
      const count = (fails.get(key) ?? 0) + 1;
      fails.set(key, count);
      if (count < 3) throw new TypeError(key);
      return key;
    });
    expect(await twin.call(wrapped, 'a')).toBe('a');
    expect(await twin.call(wrapped, 'b')).toBe('b');
    // Each call's generator starts over: 1, 2 and again 1, 2.
    expect(clock.sleeps).toEqual([1, 2, 1, 2]);
  });

  it('the wrapper keeps the target name', () => {
    function fetchThing(): number {
      return 1;
    }
    expect(twin.onException(expo, Error)(fetchThing).name).toBe('fetchThing');
    // As a function's own name: configurable, so that other wrappers may rename it again.
    expect(
      Object.getOwnPropertyDescriptor(twin.onException(expo, Error)(fetchThing), 'name'),
    ).toEqual({ value: 'fetchThing', configurable: true, enumerable: false, writable: false });
  });
});

describe('onException (async twin only)', () => {
  const [asyncTwin] = twins;
  const quiet = { logger: null, jitter: null } as const;

  it('always returns a Promise: for a sync target, a sync throw and a success', async () => {
    const { onException } = asyncTwin as (typeof twins)[number];
    const ok = onException(expo, Error, quiet)(() => 1);
    const result = ok();
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toBe(1);
    const boom = new RangeError('sync throw');
    const throwing = onException(
      expo,
      TypeError,
      quiet,
    )(() => {
      throw boom;
    });
    const rejected = throwing();
    expect(rejected).toBeInstanceOf(Promise);
    await expect(rejected).rejects.toBe(boom);
  });

  it('retries an async target whose promise rejects', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const wrapped = (asyncTwin as (typeof twins)[number]).onException(expo, TypeError, {
      ...quiet,
      clock,
    })(async () => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (calls < 3) throw new TypeError('later');
      return calls;
    });
    expect(await wrapped()).toBe(3);
    expect(clock.sleeps).toEqual([1, 2]);
  });

  it('awaits async giveup and async handlers, one at a time, in order', async () => {
    const events: string[] = [];
    const slow = (name: string, ms: number) => async () => {
      events.push(`${name} start`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      events.push(`${name} end`);
    };
    const wrapped = (asyncTwin as (typeof twins)[number]).onException(expo, TypeError, {
      ...quiet,
      clock: new FakeClock(),
      maxTries: 2,
      giveup: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push('giveup');
        return false;
      },
      onBackoff: [slow('backoff1', 10), slow('backoff2', 1)],
      onGiveup: [slow('giveup1', 10), slow('giveup2', 1)],
    })(flaky([new TypeError(), new TypeError()], 'ok'));
    await expect(wrapped()).rejects.toBeInstanceOf(TypeError);
    expect(events).toEqual([
      'giveup',
      'backoff1 start',
      'backoff1 end',
      'backoff2 start',
      'backoff2 end',
      'giveup',
      'giveup1 start',
      'giveup1 end',
      'giveup2 start',
      'giveup2 end',
    ]);
  });

  it('async giveup resolving true gives up', async () => {
    const error = new TypeError();
    const wrapped = (asyncTwin as (typeof twins)[number]).onException(expo, TypeError, {
      ...quiet,
      clock: new FakeClock(),
      giveup: async () => true,
    })(flaky([error], 'ok'));
    await expect(wrapped()).rejects.toBe(error);
  });

  it('a rejecting async handler ends the call with its error', async () => {
    const handlerError = new Error('handler failed');
    const target = flaky([new TypeError(), new TypeError()], 'ok');
    const wrapped = (asyncTwin as (typeof twins)[number]).onException(expo, TypeError, {
      ...quiet,
      clock: new FakeClock(),
      onBackoff: async () => {
        throw handlerError;
      },
    })(target);
    await expect(wrapped()).rejects.toBe(handlerError);
    expect(target.calls).toBe(1);
  });

  it('concurrent calls of one wrapped function share nothing', async () => {
    const clock = new FakeClock();
    const counts = new Map<number, number>();
    const wrapped = (asyncTwin as (typeof twins)[number]).onException(expo, TypeError, {
      ...quiet,
      clock,
      maxTries: 4,
    })(async (id: number) => {
      const count = (counts.get(id) ?? 0) + 1;
      counts.set(id, count);
      await new Promise((resolve) => setTimeout(resolve, id % 3));
      if (count <= id % 3) throw new TypeError(String(id));
      return id * 10;
    });
    const ids = Array.from({ length: 30 }, (_, i) => i);
    const results = await Promise.allSettled(ids.map((id) => wrapped(id)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason))).toEqual(
      ids.map((id) => id * 10),
    );
    expect([...counts.entries()].every(([id, count]) => count === (id % 3) + 1)).toBe(true);
  });
});
