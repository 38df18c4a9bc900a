// Per-attempt timeouts (`timeout`), the attempt's own signal (attemptSignal(), attempt.signal,
// details.signal) and the test kit's timer queue that makes them testable in virtual time.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import {
  AttemptTimeoutError,
  attemptSignal,
  constant,
  expo,
  onException,
  onExceptionSync,
  onPredicate,
  onPredicateSync,
  retryContext,
  retryContextSync,
} from '../../src/index.js';
import { seededRandom, VirtualClock } from '../../src/testing.js';
import { quiet } from '../helpers.js';

/** A target whose attempts take the given virtual seconds each (then resolve with `value`). */
function slow(clock: VirtualClock, durations: number[], value = 'ok') {
  let call = 0;
  return vi.fn(async () => {
    const seconds = durations[call++] ?? 0;
    await clock.sleep(seconds);
    return `${value} after ${seconds}`;
  });
}

describe('timeout', () => {
  it('an attempt that takes 3 s against a timeout of 2 s fails once, and the retry succeeds', async () => {
    const clock = new VirtualClock();
    const target = slow(clock, [3, 1]);
    const onBackoff = vi.fn();
    const wrapped = onException(constant, RangeError, {
      ...quiet,
      clock,
      interval: 0.5,
      timeout: 2,
      onBackoff,
    })(target);
    const started = performance.now();
    expect(await wrapped()).toBe('ok after 1');
    // A real 2 s timer would take at least 2,000 ms.
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(target).toHaveBeenCalledTimes(2);
    expect(onBackoff).toHaveBeenCalledTimes(1);
    const { exception, tries, elapsed, wait } = onBackoff.mock.calls[0]?.[0] ?? {};
    // Retried although `exception` is RangeError: a timeout is a failure of every async twin.
    expect(exception).toBeInstanceOf(AttemptTimeoutError);
    expect(exception).toMatchObject({ name: 'AttemptTimeoutError', timeout: 2, tries: 1 });
    expect(exception.message).toBe('Attempt 1 timed out after 2 s');
    expect({ tries, elapsed, wait }).toEqual({ tries: 1, elapsed: 2, wait: 0.5 });
    // 2 s timed out, 0.5 s wait, 1 s second attempt; the first attempt's own 3 s sleep ran out too.
    expect(clock.now()).toBe(3.5);
    expect(clock.pending).toBe(0);
  });

  it('on giving up, the call rejects with the AttemptTimeoutError, or resolves undefined', async () => {
    const clock = new VirtualClock();
    const onGiveup = vi.fn();
    const giveup = vi.fn((_error: unknown) => false);
    const raising = onException(constant, Error, {
      ...quiet,
      clock,
      interval: 1,
      timeout: 1,
      maxTries: 3,
      onGiveup,
      giveup,
    })(slow(clock, [5, 5, 5]));
    const error = await raising().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AttemptTimeoutError);
    expect(error).toMatchObject({ tries: 3, timeout: 1 });
    expect(onGiveup.mock.calls[0]?.[0]).toMatchObject({ reason: 'maxTries', exception: error });
    // giveup is asked about a timeout like any failure: on each of the three.
    expect(giveup).toHaveBeenCalledTimes(3);
    expect(giveup.mock.calls[0]?.[0]).toBeInstanceOf(AttemptTimeoutError);

    const quietly = onException(constant, Error, {
      ...quiet,
      clock,
      interval: 1,
      timeout: 1,
      maxTries: 2,
      raiseOnGiveup: false,
    })(slow(clock, [5, 5]));
    expect(await quietly()).toBeUndefined();
  });

  it('giveup may stop at a timeout', async () => {
    const clock = new VirtualClock();
    const target = slow(clock, [5, 5]);
    const wrapped = onException(constant, Error, {
      ...quiet,
      clock,
      interval: 1,
      timeout: 1,
      giveup: (error) => error instanceof AttemptTimeoutError,
    })(target);
    await expect(wrapped()).rejects.toBeInstanceOf(AttemptTimeoutError);
    expect(target).toHaveBeenCalledTimes(1);
  });

  it('the predicate twin retries a timeout too, and rejects with it on giving up', async () => {
    const clock = new VirtualClock();
    const wrapped = onPredicate(constant, (value) => value === 'running', {
      ...quiet,
      clock,
      interval: 1,
      timeout: 2,
      maxTries: 3,
    })(slow(clock, [3, 0], 'done'));
    expect(await wrapped()).toBe('done after 0');

    const stuck = onPredicate(constant, () => false, {
      ...quiet,
      clock,
      interval: 1,
      timeout: 2,
      maxTries: 2,
    })(slow(clock, [3, 3]));
    await expect(stuck()).rejects.toMatchObject({ name: 'AttemptTimeoutError', tries: 2 });
  });

  it('an AttemptTimeoutError the target throws itself (a nested call) is judged by `exception`', async () => {
    const clock = new VirtualClock();
    const inner = onException(constant, Error, {
      ...quiet,
      clock,
      interval: 1,
      timeout: 1,
      maxTries: 1,
    })(slow(clock, [5]));
    const outerTarget = vi.fn(inner);
    const outer = onException(constant, RangeError, { ...quiet, clock, interval: 1, timeout: 10 })(
      outerTarget,
    );
    await expect(outer()).rejects.toBeInstanceOf(AttemptTimeoutError);
    expect(outerTarget).toHaveBeenCalledTimes(1);
  });

  it('a fast attempt is untouched: its value, its error, its timer cleared', async () => {
    const clock = new VirtualClock();
    const wrapped = onException(constant, RangeError, { ...quiet, clock, timeout: 2 })(
      async (fail: boolean) => {
        await clock.sleep(1);
        if (fail) throw new TypeError('not retried');
        return 'fast';
      },
    );
    expect(await wrapped(false)).toBe('fast');
    expect(clock.pending).toBe(0);
    const error = await wrapped(true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(clock.pending).toBe(0);
    // A target that returns synchronously never races its timer.
    const sync = onException(constant, Error, { ...quiet, clock, timeout: 2 })(() => 'plain');
    expect(await sync()).toBe('plain');
    expect(clock.pending).toBe(0);
  });

  it('maxTime does not cut a running attempt short (as in Python); the attempt keeps its timeout', async () => {
    const clock = new VirtualClock();
    const target = slow(clock, [3]);
    const wrapped = onException(constant, Error, {
      ...quiet,
      clock,
      interval: 1,
      maxTime: 1,
      timeout: 5,
    })(target);
    expect(await wrapped()).toBe('ok after 3');
    expect(clock.now()).toBe(3);
  });

  it('a signal is a hard deadline for the whole call: it aborts the attempt’s signal', async () => {
    const controller = new AbortController();
    const reasons: unknown[] = [];
    const wrapped = onException(constant, Error, {
      ...quiet,
      interval: 0,
      signal: controller.signal,
    })(async () => {
      const signal = attemptSignal();
      await new Promise((_, reject) => {
        signal.addEventListener('abort', () => {
          reasons.push(signal.reason);
          reject(signal.reason);
        });
      });
    });
    const pending = wrapped();
    setTimeout(() => controller.abort(new Error('deadline')), 5);
    await expect(pending).rejects.toThrow('deadline');
    expect(reasons).toEqual([controller.signal.reason]);
  });

  it('the timer starts before the call: a synchronous part counts towards the time', async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const wrapped = onException(constant, Error, {
      ...quiet,
      clock,
      interval: 1,
      timeout: 2,
      maxTries: 1,
    })(() => {
      clock.sleepSync(3); // a blocking part of 3 s, then an answer that never comes
      return new Promise(() => {});
    });
    const outcome = wrapped().catch((e: unknown) => e);
    await clock.runAll();
    expect(await outcome).toBeInstanceOf(AttemptTimeoutError);
  });

  it('a clock that fires the timer during the call still times the attempt out', async () => {
    let fire: (() => void) | undefined;
    const clock = {
      now: () => 0,
      sleep: () => Promise.resolve(),
      sleepSync: () => {},
      timer: (_seconds: number, callback: () => void) => {
        fire = callback;
        return () => {};
      },
    };
    const neverSettles = new Promise(() => {});
    const wrapped = onException(constant, Error, { ...quiet, clock, timeout: 1, maxTries: 1 })(
      () => {
        fire?.();
        return neverSettles;
      },
    );
    await expect(wrapped()).rejects.toBeInstanceOf(AttemptTimeoutError);
    // A rejection of the abandoned attempt is handled, not left unhandled.
    const rejecting = onException(constant, Error, { ...quiet, clock, timeout: 1, maxTries: 1 })(
      () => {
        fire?.();
        return Promise.reject(new Error('late'));
      },
    );
    await expect(rejecting()).rejects.toBeInstanceOf(AttemptTimeoutError);
  });

  it('bad values are refused, naming the option', () => {
    for (const [value, kind] of [
      [0, RangeError],
      [-1, RangeError],
      [Number.NaN, RangeError],
      ['5', TypeError],
      [{}, TypeError],
    ] as const) {
      expect(() => onException(expo, Error, { timeout: value as never })).toThrow(kind);
      expect(() => onException(expo, Error, { timeout: value as never })).toThrow(/`timeout`/);
    }
    expect(() => onException(expo, Error, { timeout: Number.POSITIVE_INFINITY })).not.toThrow();
    expect(() => onException(expo, Error, { timeout: null })).not.toThrow();
  });

  it('the sync twins refuse it: a blocking call cannot be interrupted', () => {
    for (const make of [
      () => onExceptionSync(expo, Error, { timeout: 1 } as never),
      () => onPredicateSync(expo, undefined, { timeout: 1 } as never),
      () => retryContextSync(Error, expo, { timeout: 1 } as never),
    ]) {
      expect(make).toThrow(TypeError);
      expect(make).toThrow(/`timeout` is an option of the async twins .* cannot be interrupted/);
    }
  });

  it('a clock without a timer is refused with a timeout (and accepted without one)', () => {
    const clock = { now: () => 0, sleep: () => Promise.resolve(), sleepSync: () => {} };
    expect(() => onException(expo, Error, { clock, timeout: 1 })).toThrow(
      /Expected `clock.timer` to be a function/,
    );
    expect(() => onException(expo, Error, { clock })).not.toThrow();
    expect(() =>
      onException(expo, Error, { clock, timeout: Number.POSITIVE_INFINITY }),
    ).not.toThrow();
  });
});

describe('the attempt signal', () => {
  it('aborts with the AttemptTimeoutError when the time is up, so that the work stops', async () => {
    const clock = new VirtualClock();
    const seen: AbortSignal[] = [];
    const wrapped = onException(constant, Error, { ...quiet, clock, interval: 1, timeout: 2 })(
      async () => {
        const signal = attemptSignal();
        seen.push(signal);
        if (seen.length === 1) {
          await new Promise((_, reject) =>
            signal.addEventListener('abort', () => reject(signal.reason)),
          );
        }
        return 'second';
      },
    );
    expect(await wrapped()).toBe('second');
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
    expect(seen[0]?.aborted).toBe(true);
    expect(seen[0]?.reason).toBeInstanceOf(AttemptTimeoutError);
    // A finished attempt's signal is left alone: what it returned stays usable.
    expect(seen[1]?.aborted).toBe(false);
  });

  it('aborts with the call signal’s reason when the call is aborted during the attempt', async () => {
    const controller = new AbortController();
    let signal: AbortSignal | undefined;
    const wrapped = onException(constant, Error, { ...quiet, signal: controller.signal })(
      async () => {
        signal = attemptSignal();
        controller.abort('stop');
        return 'done anyway';
      },
    );
    // A success after the abort still returns its value (the attempt is not raced against it).
    expect(await wrapped()).toBe('done anyway');
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe('stop');
  });

  it('is aborted at once when the call’s signal had aborted before it was read', async () => {
    const controller = new AbortController();
    let signal: AbortSignal | undefined;
    const wrapped = onException(constant, Error, { ...quiet, signal: controller.signal })(
      async () => {
        controller.abort('early');
        signal = attemptSignal();
        return 1;
      },
    );
    await wrapped();
    expect(signal?.reason).toBe('early');
  });

  it('leaves no listener on the call’s signal once the attempt has ended', async () => {
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const wrapped = onException(constant, Error, { ...quiet, signal: controller.signal })(
      async () => {
        const signal = attemptSignal();
        await Promise.resolve();
        return signal.aborted;
      },
    );
    expect(await Promise.all([wrapped(), wrapped(), wrapped()])).toEqual([false, false, false]);
    expect(add).toHaveBeenCalledTimes(1);
    expect(remove).toHaveBeenCalledTimes(1);
    expect(remove.mock.calls[0]?.[1]).toBe(add.mock.calls[0]?.[1]);
  });

  it('throws a TypeError outside an attempt: after the first await, outside, without the options', async () => {
    const message = /attemptSignal\(\) was called outside an attempt/;
    expect(() => attemptSignal()).toThrow(TypeError);
    expect(() => attemptSignal()).toThrow(message);
    const late = onException(constant, Error, { ...quiet, timeout: 5, maxTries: 1 })(async () => {
      await Promise.resolve();
      return attemptSignal();
    });
    await expect(late()).rejects.toThrow(message);
    const plain = onException(constant, Error, { ...quiet, maxTries: 1 })(async () =>
      attemptSignal(),
    );
    await expect(plain()).rejects.toThrow(message);
    const sync = onExceptionSync(constant, Error, { ...quiet, maxTries: 1 })(() => attemptSignal());
    expect(() => sync()).toThrow(message);
  });

  it('never hands a call another call’s signal: nested and concurrent calls each get their own', async () => {
    const clock = new VirtualClock();
    const signals: Record<string, AbortSignal> = {};
    const inner = onException(constant, Error, { ...quiet, clock, timeout: 5 })(
      async (name: string) => {
        signals[name] = attemptSignal();
        await clock.sleep(1);
        return name;
      },
    );
    const outer = onException(constant, Error, { ...quiet, clock, timeout: 5 })(async () => {
      const before = attemptSignal();
      const child = inner('inner');
      // After the nested call returned its promise, this attempt's signal is current again.
      expect(attemptSignal()).toBe(before);
      signals.outer = before;
      return child;
    });
    const results = await Promise.all([outer(), inner('a'), inner('b')]);
    expect(results).toEqual(['inner', 'a', 'b']);
    expect(new Set(Object.values(signals)).size).toBe(4);
  });

  it('throws in a nested call without the options, never handing it the outer attempt’s signal', async () => {
    const message = /attemptSignal\(\) was called outside an attempt/;
    const asyncInner = onException(constant, Error, { ...quiet, maxTries: 1 })(async () =>
      attemptSignal(),
    );
    const syncInner = onExceptionSync(constant, Error, { ...quiet, maxTries: 1 })(() =>
      attemptSignal(),
    );
    const outer = onException(constant, Error, { ...quiet, timeout: 5, maxTries: 1 })(async () => {
      const own = attemptSignal();
      const nested = asyncInner();
      expect(() => syncInner()).toThrow(message);
      // The outer attempt's signal is current again after each nested call.
      expect(attemptSignal()).toBe(own);
      return nested;
    });
    await expect(outer()).rejects.toThrow(message);
  });

  it('is details.signal in onTry with a timeout, and absent otherwise', async () => {
    const clock = new VirtualClock();
    const tries: Record<string, unknown>[] = [];
    let inTarget: AbortSignal | undefined;
    await onException(constant, Error, {
      ...quiet,
      clock,
      timeout: 2,
      onTry: (details) => {
        tries.push({ ...details });
      },
    })(async () => {
      inTarget = attemptSignal();
    })();
    expect(Object.keys(tries[0] ?? {}).sort()).toEqual([
      'args',
      'elapsed',
      'signal',
      'target',
      'tries',
    ]);
    expect(tries[0]?.signal).toBe(inTarget);

    const plain: Record<string, unknown>[] = [];
    const controller = new AbortController();
    await onException(constant, Error, {
      ...quiet,
      signal: controller.signal,
      onTry: (details) => {
        plain.push({ ...details });
      },
    })(async () => {})();
    expect(Object.keys(plain[0] ?? {}).sort()).toEqual(['args', 'elapsed', 'target', 'tries']);
  });
});

describe('the attempt signal’s life', () => {
  /** A call signal whose listeners are counted. */
  function countedSignal() {
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    return { controller, balanced: () => add.mock.calls.length === remove.mock.calls.length, add };
  }

  it('read in onTry, it follows the call’s signal from the attempt’s start', async () => {
    const { controller } = countedSignal();
    let early: AbortSignal | undefined;
    const wrapped = onException(constant, Error, {
      ...quiet,
      timeout: 5,
      signal: controller.signal,
      onTry: ({ signal }) => {
        early = signal;
      },
    })(async () => {
      controller.abort('stop');
      return 'done';
    });
    expect(await wrapped()).toBe('done');
    expect(early?.aborted).toBe(true);
    expect(early?.reason).toBe('stop');
  });

  it('read in an onTry that then fails, it leaves no listener on the call’s signal', async () => {
    const { controller, balanced } = countedSignal();
    const wrapped = onException(constant, Error, {
      ...quiet,
      timeout: 5,
      signal: controller.signal,
      onTry: ({ signal }) => {
        void signal;
        throw new Error('handler failed');
      },
    })(async () => 'never');
    await expect(wrapped()).rejects.toThrow('handler failed');
    expect(balanced()).toBe(true);
  });

  it('read after a timeout, it is aborted with the AttemptTimeoutError; after the end, it follows nothing', async () => {
    const clock = new VirtualClock();
    const { controller, balanced } = countedSignal();
    const attempts: { signal: AbortSignal }[] = [];
    for await (const attempt of retryContext(Error, constant, {
      ...quiet,
      clock,
      interval: 1,
      timeout: 2,
      maxTries: 2,
      raiseOnGiveup: false,
      signal: controller.signal,
    })) {
      attempts.push(attempt);
      await attempt.run(() => clock.sleep(attempts.length === 1 ? 3 : 1));
    }
    // Read only now: the first timed out, the second ended well.
    expect(attempts[0]?.signal.reason).toBeInstanceOf(AttemptTimeoutError);
    expect(attempts[1]?.signal.aborted).toBe(false);
    controller.abort('late');
    expect(attempts[1]?.signal.aborted).toBe(false);
    expect(balanced()).toBe(true);
  });

  it('an attempt that settles after its timeout, with the call’s signal followed: no error, no listener left', async () => {
    const clock = new VirtualClock();
    const { controller, balanced, add } = countedSignal();
    let calls = 0;
    const wrapped = onException(constant, Error, {
      ...quiet,
      clock,
      interval: 10,
      timeout: 1,
      signal: controller.signal,
    })(async () => {
      attemptSignal();
      calls += 1;
      // The first ignores its signal and settles 2 s after its timeout, during the wait.
      await clock.sleep(calls === 1 ? 3 : 0);
      return calls;
    });
    expect(await wrapped()).toBe(2);
    expect(add).toHaveBeenCalled();
    expect(balanced()).toBe(true);
  });

  it('timeout: Infinity sets no timer', async () => {
    const timer = vi.fn(() => () => {});
    const clock = { now: () => 0, sleep: () => Promise.resolve(), sleepSync: () => {}, timer };
    const wrapped = onException(constant, Error, {
      ...quiet,
      clock,
      timeout: Number.POSITIVE_INFINITY,
    })(async () => 'ok');
    expect(await wrapped()).toBe('ok');
    expect(timer).not.toHaveBeenCalled();
  });
});

describe('retryContext and the attempt signal', () => {
  it('attempt.signal exists on every attempt; a timeout aborts it and is retried', async () => {
    const clock = new VirtualClock();
    const signals: AbortSignal[] = [];
    let tries = 0;
    for await (const attempt of retryContext(RangeError, constant, {
      ...quiet,
      clock,
      interval: 1,
      timeout: 2,
    })) {
      signals.push(attempt.signal);
      const value = await attempt.run(async () => {
        tries += 1;
        await clock.sleep(tries === 1 ? 3 : 1);
        return tries;
      });
      if (tries === 1) expect(value).toBeUndefined();
      else expect(value).toBe(2);
    }
    expect(tries).toBe(2);
    expect(signals[0]?.reason).toBeInstanceOf(AttemptTimeoutError);
    expect(signals[1]?.aborted).toBe(false);
  });

  it('gives up with the AttemptTimeoutError out of the loop', async () => {
    const clock = new VirtualClock();
    const loop = async () => {
      for await (const attempt of retryContext(Error, constant, {
        ...quiet,
        clock,
        interval: 1,
        timeout: 1,
        maxTries: 2,
      })) {
        await attempt.run(() => clock.sleep(5));
      }
    };
    await expect(loop()).rejects.toMatchObject({ name: 'AttemptTimeoutError', tries: 2 });
  });

  it('attemptSignal() works inside attempt.run too; attempt.signal without options never aborts', async () => {
    for await (const attempt of retryContext(Error, constant, { ...quiet, interval: 0 })) {
      expect(attempt.signal.aborted).toBe(false);
      await attempt.run(() => {
        expect(attemptSignal()).toBe(attempt.signal);
      });
    }
  });
});

describe('VirtualClock as a timer queue', () => {
  it('fires timers in order of time, then of setting, draining microtasks between', async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const log: string[] = [];
    clock.timer(2, () => log.push(`b@${clock.now()}`));
    clock.timer(1, () => {
      log.push(`a@${clock.now()}`);
      void Promise.resolve().then(() => log.push('a-microtask'));
    });
    clock.timer(2, () => log.push(`c@${clock.now()}`));
    const cancel = clock.timer(1.5, () => log.push('cancelled'));
    cancel();
    cancel();
    expect(clock.pending).toBe(3);
    await clock.advance(1.5);
    expect(log).toEqual(['a@1', 'a-microtask']);
    expect(clock.now()).toBe(1.5);
    await clock.runAll();
    expect(log).toEqual(['a@1', 'a-microtask', 'b@2', 'c@2']);
    expect(clock.pending).toBe(0);
  });

  it('without autoAdvance, a sleep waits for the test to move time', async () => {
    const clock = new VirtualClock({ start: 10, autoAdvance: false });
    let woke = false;
    const sleeping = clock.sleep(3).then(() => {
      woke = true;
    });
    await clock.advance(2.9);
    expect(woke).toBe(false);
    await clock.advance(0.1);
    await sleeping;
    expect(woke).toBe(true);
    expect(clock.now()).toBe(13);
    expect(clock.sleeps).toEqual([3]);
  });

  it('a sleep ends at once when its signal aborts, and leaves its timer cancelled', async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const controller = new AbortController();
    const sleeping = clock.sleep(100, controller.signal);
    expect(clock.pending).toBe(1);
    controller.abort('stop');
    await expect(sleeping).rejects.toBe('stop');
    expect(clock.pending).toBe(0);
  });

  it('runAll stops code that sets a new timer for each one', async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const again = (): void => {
      clock.timer(1, again);
    };
    again();
    await expect(clock.runAll()).rejects.toThrow(RangeError);
  });

  it('lets go of a cancelled timer while time stands still', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const clock = new VirtualClock({ autoAdvance: false });
    let ref: WeakRef<object> | undefined;
    (() => {
      const held = { payload: new Array(1000).fill(0) };
      ref = new WeakRef(held);
      const cancel = clock.timer(60, () => held.payload.push(1));
      cancel();
    })();
    // Many timers set and cancelled with no time passing (a call with `timeout` whose attempts
    // end at once): the queue must not keep them.
    for (let i = 0; i < 10_000; i += 1) clock.timer(60, () => {})();
    for (let i = 0; i < 5 && ref?.deref() !== undefined; i += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(ref?.deref()).toBeUndefined();
    expect(clock.pending).toBe(0);
  });

  it('a timer callback that throws does not stop the clock for the other timers', async () => {
    const clock = new VirtualClock();
    const thrown = new Error('callback failed');
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    // The runner's own listeners would fail the run on the error this test provokes: set aside.
    const runners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onUncaught);
    try {
      clock.timer(1, () => {
        throw thrown;
      });
      const later = clock.sleep(2);
      await later;
      expect(clock.now()).toBe(2);
      await new Promise((resolve) => setImmediate(resolve));
      // Reported as a real timer's callback error is: uncaught, on its own turn.
      expect(uncaught).toEqual([thrown]);
    } finally {
      process.off('uncaughtException', onUncaught);
      for (const listener of runners) process.on('uncaughtException', listener);
    }
  });

  it('advance() and runAll() reject with the error of a timer callback; the clock goes on', async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const thrown = new Error('callback failed');
    const log: number[] = [];
    clock.timer(1, () => {
      throw thrown;
    });
    clock.timer(2, () => log.push(clock.now()));
    await expect(clock.advance(5)).rejects.toBe(thrown);
    await clock.runAll();
    expect(log).toEqual([2]);
    expect(clock.pending).toBe(0);
  });

  it('autoAdvance waits for pending microtasks before moving time', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const sleeping = clock.sleep(5).then(() => log.push(`slept@${clock.now()}`));
    let chain = Promise.resolve();
    for (let i = 0; i < 100; i += 1) chain = chain.then(() => {});
    await chain.then(() => log.push(`microtasks@${clock.now()}`));
    await sleeping;
    expect(log).toEqual(['microtasks@0', 'slept@5']);
  });
});

describe('attemptSignal() where the loop makes the attempt', () => {
  it('throws without `timeout` or `signal`, also when handlers keep the first attempt in the loop', async () => {
    const message = /attemptSignal\(\) was called outside an attempt/;
    const wrapped = onException(constant, Error, { ...quiet, maxTries: 1, onTry: () => {} })(
      async () => attemptSignal(),
    );
    await expect(wrapped()).rejects.toThrow(message);
  });
});

describe('VirtualClock’s queue, exhaustively', () => {
  it('fires any mix of timers by time, then by the order they were set, cancelled ones never', async () => {
    const random = seededRandom(11);
    const clock = new VirtualClock({ autoAdvance: false });
    const expected: { due: number; id: number }[] = [];
    const fired: number[] = [];
    for (let id = 0; id < 500; id += 1) {
      const due = Math.floor(random() * 40) / 4; // many ties
      const cancel = clock.timer(due, () => fired.push(id));
      if (random() < 0.3) cancel();
      else expected.push({ due, id });
    }
    expected.sort((a, b) => a.due - b.due || a.id - b.id);
    await clock.runAll();
    expect(fired).toEqual(expected.map(({ id }) => id));
  });

  it('without autoAdvance, time stands still however long the test waits', async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    let woke = false;
    void clock.sleep(1).then(() => {
      woke = true;
    });
    for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(woke).toBe(false);
    expect(clock.now()).toBe(0);
    expect(clock.pending).toBe(1);
  });

  it('runAll fires up to 100,000 timers, and says so past that', async () => {
    const chain = (clock: VirtualClock, count: number) => {
      let left = count;
      const next = (): void => {
        left -= 1;
        if (left > 0) clock.timer(1, next);
      };
      clock.timer(1, next);
    };
    const enough = new VirtualClock({ autoAdvance: false });
    chain(enough, 100_000);
    await enough.runAll();
    expect(enough.now()).toBe(100_000);
    const tooMany = new VirtualClock({ autoAdvance: false });
    chain(tooMany, 100_001);
    await expect(tooMany.runAll()).rejects.toThrow(
      'runAll fired 100000 timers and more are pending: does the code set a new timer for each one?',
    );
  });
});

describe('VirtualClock’s queue after many cancels', () => {
  it('keeps its order when cancelled timers are swept out', async () => {
    const random = seededRandom(3);
    const clock = new VirtualClock({ autoAdvance: false });
    const kept: { due: number; id: number }[] = [];
    const fired: number[] = [];
    for (let id = 0; id < 400; id += 1) {
      const due = Math.floor(random() * 20) / 2;
      const cancel = clock.timer(due, () => fired.push(id));
      // Most are cancelled: the queue sweeps them out as it goes.
      if (random() < 0.85) cancel();
      else kept.push({ due, id });
    }
    kept.sort((a, b) => a.due - b.due || a.id - b.id);
    expect(clock.pending).toBe(kept.length);
    await clock.runAll();
    expect(fired).toEqual(kept.map(({ id }) => id));
  });

  it('holds no memory for cancelled timers while time stands still', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const clock = new VirtualClock({ autoAdvance: false });
    const live = clock.timer(1, () => {});
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 200_000; i += 1) clock.timer(60, () => {})();
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // Kept, 200,000 timers would hold several megabytes (an object and a slot each).
    expect(grown).toBeLessThan(2_000_000);
    expect(clock.pending).toBe(1);
    live();
  });

  it('a late cancel of a timer that fired changes nothing', async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const fired: number[] = [];
    const cancelFirst = clock.timer(1, () => fired.push(1));
    clock.timer(5, () => fired.push(5));
    await clock.advance(1);
    cancelFirst();
    expect(clock.pending).toBe(1);
    await clock.runAll();
    expect(fired).toEqual([1, 5]);
  });
});
