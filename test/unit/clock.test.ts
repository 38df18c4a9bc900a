// The default clock: real waits rounded up to whole milliseconds, waits past the timer limit, zero
// waits as one yield, aborts, the blocking sleep, and fake timers.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deadlineLengths, setDeadline } from '../../src/base/deadlines.js';
import { constant, expo, onException, systemClock } from '../../src/index.js';

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  vi.resetModules();
});

describe('systemClock', () => {
  it('now() is monotonic seconds', async () => {
    const a = systemClock.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const b = systemClock.now();
    expect(b - a).toBeGreaterThanOrEqual(0.015);
    expect(b - a).toBeLessThan(5);
  });

  it('sleep(0) yields to the event loop once, with no timer', async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const order: string[] = [];
    setImmediate(() => order.push('immediate queued before'));
    const sleeping = systemClock.sleep(0).then(() => order.push('sleep(0) done'));
    await Promise.resolve();
    expect(order).toEqual([]);
    await sleeping;
    expect(order).toEqual(['immediate queued before', 'sleep(0) done']);
    expect(setTimeoutSpy).not.toHaveBeenCalled();
  });

  it('sleep(0) uses setImmediate where there is one, else a MessageChannel message', async () => {
    const setImmediateSpy = vi.spyOn(globalThis, 'setImmediate');
    await systemClock.sleep(0);
    expect(setImmediateSpy).toHaveBeenCalledTimes(1);
    vi.restoreAllMocks();
    // A browser: no setImmediate.
    vi.stubGlobal('setImmediate', undefined);
    const postMessage = vi.spyOn(MessagePort.prototype, 'postMessage');
    await systemClock.sleep(0);
    expect(postMessage).toHaveBeenCalledTimes(1);
    // workerd: neither; a timer of 0 ms.
    vi.stubGlobal('MessageChannel', undefined);
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    await systemClock.sleep(0);
    expect(setTimeoutSpy.mock.calls.map(([, ms]) => ms)).toEqual([0]);
  });

  it("rounds a wait up to whole milliseconds, but not for a float's noise", async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    await systemClock.sleep(0.0015);
    await systemClock.sleep(0.1 + 0.2);
    expect(setTimeoutSpy.mock.calls.map(([, ms]) => ms)).toEqual([2, 300]);
  });

  it('sleep(s) waits s seconds', async () => {
    const start = performance.now();
    await systemClock.sleep(0.05);
    expect(performance.now() - start).toBeGreaterThanOrEqual(49);
  });

  it('bad seconds reject rather than throw', async () => {
    const result = systemClock.sleep(-1);
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toThrow(RangeError);
    await expect(systemClock.sleep(Number.NaN)).rejects.toThrow(/seconds/);
    expect(() => systemClock.sleepSync(-1)).toThrow(RangeError);
  });

  it('waits longer than the timer limit (2^31-1 ms) still wait their full length', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const thirtyDays = 30 * 24 * 3600;
    let done = false;
    const sleeping = systemClock.sleep(thirtyDays).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(25 * 24 * 3600 * 1000);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(5 * 24 * 3600 * 1000 - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await sleeping;
    expect(done).toBe(true);
  });

  it('an abort ends the wait at once: rejects with signal.reason, clears the timer and the listener', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const sleeping = systemClock.sleep(60, controller.signal);
    expect(vi.getTimerCount()).toBe(1);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
    // The listener was added with { once: true }: aborting removed it.
    const later = systemClock.sleep(1, controller.signal);
    await expect(later).rejects.toBe(reason);
    expect(remove).not.toHaveBeenCalled();
  });

  it('a finished sleep removes its abort listener', async () => {
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    await systemClock.sleep(0.001, controller.signal);
    expect(add).toHaveBeenCalledTimes(1);
    expect(remove).toHaveBeenCalledWith('abort', add.mock.calls[0]?.[1]);
  });

  it('sleepSync blocks for the time asked; sleepSync(0) returns at once', () => {
    let start = performance.now();
    systemClock.sleepSync(0.04);
    expect(performance.now() - start).toBeGreaterThanOrEqual(39);
    start = performance.now();
    systemClock.sleepSync(0);
    expect(performance.now() - start).toBeLessThan(5);
  });

  it('sleepSync is a clear TypeError where blocking is impossible', async () => {
    vi.stubGlobal('SharedArrayBuffer', undefined);
    const fresh = await import('../../src/base/clock.js');
    expect(() => fresh.systemClock.sleepSync(1)).toThrow(TypeError);
    expect(() => fresh.systemClock.sleepSync(1)).toThrow(/cannot block.*async twin/);
    expect(() => fresh.systemClock.sleepSync(0)).not.toThrow();
    vi.unstubAllGlobals();
    vi.resetModules();
    // A browser main thread: Atomics.wait itself refuses.
    vi.stubGlobal('Atomics', {
      wait: () => {
        throw new TypeError('Atomics.wait cannot be called in this context');
      },
    });
    const browserLike = await import('../../src/base/clock.js');
    let thrown: unknown;
    try {
      browserLike.systemClock.sleepSync(0.5);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toBe(
      'systemClock.sleepSync cannot block on this thread (a browser main thread?). ' +
        'Use the async twin (onException / onPredicate / retryContext) instead.',
    );
    expect((thrown as Error).cause).toEqual(
      new TypeError('Atomics.wait cannot be called in this context'),
    );
  });

  it('looks up timers when called, so vitest fake timers drive the default clock', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    let calls = 0;
    const wrapped = onException(expo, TypeError, { jitter: null, logger: null, maxTime: 100 })(
      async () => {
        calls += 1;
        if (calls < 4) throw new TypeError();
        return systemClock.now();
      },
    );
    const result = wrapped();
    // Waits of 1, 2 and 4 seconds pass in virtual time.
    await vi.advanceTimersByTimeAsync(6_999);
    expect(calls).toBe(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toBeCloseTo(7, 5);
    expect(calls).toBe(4);
  });

  it('maxTime under fake timers: gives up once the virtual deadline passes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    const error = new TypeError('down');
    const wrapped = onException(constant, TypeError, {
      jitter: null,
      logger: null,
      interval: 10,
      maxTime: 25,
    })(async () => {
      throw error;
    });
    const result = wrapped();
    result.catch(() => {});
    await vi.advanceTimersByTimeAsync(25_000);
    await expect(result).rejects.toBe(error);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('systemClock.timer (the `timeout` option’s timer)', () => {
  const LIMIT_MS = 2 ** 31 - 1;
  const timer = systemClock.timer as NonNullable<typeof systemClock.timer>;
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires once after its seconds; its cancel stops it and leaves no timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const fired: string[] = [];
    timer(1, () => fired.push('kept'));
    const cancel = timer(1, () => fired.push('cancelled'));
    cancel();
    await vi.advanceTimersByTimeAsync(999);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(['kept']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('timers of one length share one native timer, left armed but idle when all are cancelled', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    for (let i = 0; i < 1_000; i++) timer(7, () => expect.unreachable())();
    // One native timer, armed for the first deadline: it fires once, finds nothing, is not set again.
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(7_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('each shared deadline fires at its own time, to the millisecond', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const fired: string[] = [];
    timer(1, () => fired.push('a'));
    await vi.advanceTimersByTimeAsync(400);
    const cancelB = timer(1, () => fired.push('b'));
    await vi.advanceTimersByTimeAsync(100);
    timer(1, () => fired.push('c'));
    timer(0.5, () => fired.push('short'));
    cancelB();
    cancelB();
    await vi.advanceTimersByTimeAsync(499);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(['a', 'short']);
    await vi.advanceTimersByTimeAsync(499);
    expect(fired).toEqual(['a', 'short']);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(['a', 'short', 'c']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a shared timer armed under fake timers does not stall real ones after they are gone', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    timer(0.03, () => expect.unreachable())();
    vi.useRealTimers();
    const fired = await new Promise((resolve) => {
      timer(0.03, () => resolve('fired'));
    });
    expect(fired).toBe('fired');
  });

  it('a deadline never fires before its time, with real timers', async () => {
    const started = performance.now();
    const elapsed = await new Promise<number>((resolve) => {
      timer(0.05, () => resolve(performance.now() - started));
    });
    expect(elapsed).toBeGreaterThanOrEqual(50);
  });

  it('a native timer that fires before performance.now() reaches the deadline fires nothing early', async () => {
    // libuv counts whole milliseconds of a cached loop time: a timer may fire while
    // performance.now() is still short of its time (49.92 ms for 50, on Node 24). Made
    // deterministic here: performance.now() reads 5 ms behind the timers once the deadline is set.
    const realNow = performance.now.bind(performance);
    let lag = 0;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => realNow() - lag);
    try {
      const started = performance.now();
      const fired = new Promise<number>((resolve) => {
        timer(0.02, () => resolve(performance.now() - started));
      });
      lag = 5;
      expect(await fired).toBeGreaterThanOrEqual(20);
    } finally {
      spy.mockRestore();
    }
  });

  it('a success with a `timeout` sets no native timer of its own: 1,000 calls arm one', async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const wrapped = onException(expo, Error, { timeout: 9, logger: null })(async (x: number) => x);
    for (let i = 0; i < 1_000; i++) expect(await wrapped(i)).toBe(i);
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
  });

  it('past the timer limit, waits its full length in pieces; its cancel stops every piece', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const fired: string[] = [];
    const seconds = LIMIT_MS / 1000 + 10;
    timer(seconds, () => fired.push('long'));
    const cancel = timer(seconds, () => fired.push('cancelled'));
    await vi.advanceTimersByTimeAsync(LIMIT_MS);
    expect(fired).toEqual([]);
    cancel();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(['long']);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('the shared deadline timer: what holds the process open, and what is left', () => {
  /** The native timers that hold the process open now. */
  const held = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('one armed timer while deadlines are pending; unref’d once none is; ref’d again by the next', async () => {
    const before = held();
    const first = setDeadline(431, () => expect.unreachable());
    const second = setDeadline(431, () => expect.unreachable());
    expect(held()).toBe(before + 1);
    first();
    expect(held()).toBe(before + 1); // one is still pending
    second();
    expect(held()).toBe(before); // idle: armed, but not holding the process
    const fired = new Promise((resolve) => setDeadline(431, () => resolve('fired')));
    expect(held()).toBe(before + 1);
    expect(await fired).toBe('fired');
  });

  it('no list is kept for a length once its deadlines have fired', async () => {
    const lengths = deadlineLengths();
    await new Promise((resolve) => setDeadline(7, () => resolve(undefined)));
    expect(deadlineLengths()).toBe(lengths);
  });

  it('a deadline set by a callback of its own length, and cancelled there, keeps the list until idle', async () => {
    const lengths = deadlineLengths();
    await new Promise((resolve) => {
      setDeadline(9, () => {
        setDeadline(9, () => expect.unreachable())();
        resolve(undefined);
      });
    });
    // The list that fired left; the deadline set from its callback went into a new one, idle
    // (its timer unref'd) and kept for the next deadline: the old list's end did not take it out.
    expect(deadlineLengths()).toBe(lengths + 1);
    expect(await new Promise((resolve) => setDeadline(9, () => resolve('again')))).toBe('again');
    expect(deadlineLengths()).toBe(lengths);
  });

  it('an idle list leaves once its unref’d timer has fired', async () => {
    const lengths = deadlineLengths();
    setDeadline(13, () => expect.unreachable())();
    expect(deadlineLengths()).toBe(lengths + 1);
    await sleep(40);
    expect(deadlineLengths()).toBe(lengths);
  });

  it('a list idle again within its own firing keeps its list and its timer', async () => {
    const lengths = deadlineLengths();
    await new Promise((resolve) => {
      // Set at one instant, both fall due in one firing; the first sets and cancels one more.
      const instant = performance.now();
      const spy = vi.spyOn(performance, 'now').mockReturnValue(instant);
      setDeadline(15, () => setDeadline(15, () => expect.unreachable())());
      setDeadline(15, () => resolve(undefined));
      spy.mockRestore();
    });
    expect(deadlineLengths()).toBe(lengths + 1);
    await sleep(40);
    expect(deadlineLengths()).toBe(lengths);
  });

  it('where a handle cannot be unref’d (a number: Deno, browsers), an idle timer is cleared and the next arms anew', async () => {
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    const handles = new Map<number, ReturnType<typeof setTimeout>>();
    const ours: number[] = []; // the timers armed for this length (others may run meanwhile)
    const cleared: number[] = [];
    let next = 1;
    globalThis.setTimeout = ((fn: () => void, ms: number) => {
      const id = next++;
      handles.set(id, realSet(fn, ms));
      if (ms >= 432) ours.push(id);
      return id;
    }) as never;
    globalThis.clearTimeout = ((id: number) => {
      cleared.push(id);
      realClear(handles.get(id));
    }) as never;
    try {
      setDeadline(433, () => expect.unreachable())();
      expect(ours).toHaveLength(1);
      expect(cleared).toContain(ours[0]);
      const fired = await new Promise((resolve) => setDeadline(433, () => resolve('fired')));
      expect(fired).toBe('fired');
      expect(ours).toHaveLength(2);
    } finally {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    }
  });

  it('a handle object without unref() is cleared when idle, not called', () => {
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    const cleared: unknown[] = [];
    const handle = { id: 'no unref' };
    globalThis.setTimeout = ((fn: () => void, ms: number) => {
      realClear(realSet(fn, ms));
      return handle;
    }) as never;
    globalThis.clearTimeout = ((h: unknown) => cleared.push(h)) as never;
    try {
      setDeadline(435, () => {})();
      expect(cleared).toEqual([handle]);
    } finally {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    }
  });

  it('a callback that throws: the other due deadlines still fire; its error is thrown on its own', async () => {
    const thrown: (() => void)[] = [];
    const spy = vi
      .spyOn(globalThis, 'queueMicrotask')
      .mockImplementation((task) => thrown.push(task as () => void));
    const failure = new Error('callback bug');
    const fired: string[] = [];
    try {
      await new Promise((resolve) => {
        setDeadline(11, () => {
          fired.push('first');
          throw failure;
        });
        setDeadline(11, () => {
          fired.push('second');
          resolve(undefined);
        });
      });
    } finally {
      spy.mockRestore();
    }
    expect(fired).toEqual(['first', 'second']);
    expect(thrown).toHaveLength(1);
    expect(() => thrown[0]?.()).toThrow(failure);
    await sleep(0);
  });
});
