/**
 * The test kit (`backoff-ts/testing`): virtual time, a seeded random source, and a preview of the
 * waits a policy would take — so code that retries is tested in milliseconds of real time.
 *
 * @example
 * ```ts
 * import { VirtualClock } from 'backoff-ts/testing';
 *
 * const clock = new VirtualClock();
 * const getJson = backoff.onException(backoff.expo, TypeError, { clock, jitter: null })(flakyFetch);
 * await getJson(url);
 * expect(clock.sleeps).toEqual([1, 2, 4]); // seconds, slept at once
 * ```
 *
 * @module
 */

import { blockingClock, type Clock } from './base/clock.js';
import { type EventLoopTimers, yieldOnce } from './base/event-loop.js';
import { type AbortTarget, unwatch, watch } from './base/signal-watch.js';
import { checkSeconds, rangeError, typeError } from './base/validate.js';
import { wrapSync } from './engine/drivers.js';
import { catcher, makePlan, previewed } from './plan/options.js';
import type { WaitGenerator } from './types.js';

/** Options of {@link VirtualClock}. */
export interface VirtualClockOptions {
  /** The virtual time to start at, in seconds. @defaultValue 0 */
  readonly start?: number | undefined;
  /**
   * When nothing else is left to run (no pending microtask), move time on to the next timer and
   * fire it, so the code under test runs to its end without the test moving time. `false`: time
   * moves only when the test calls {@link VirtualClock.advance} or {@link VirtualClock.runAll}.
   * @defaultValue `true`
   */
  readonly autoAdvance?: boolean | undefined;
}

/** A pending timer of the virtual clock. */
class VirtualTimer {
  readonly due: number;
  /** Ties fire in the order the timers were set. */
  readonly order: number;
  /** The callback; a cancelled timer drops it, so that it holds nothing of the code that set it. */
  fire: () => void;
  /** Cancelled or fired: it will not fire (again). */
  cancelled = false;
  constructor(due: number, order: number, fire: () => void) {
    this.due = due;
    this.order = order;
    this.fire = fire;
  }
}

const earlier = (a: VirtualTimer, b: VirtualTimer): boolean =>
  a.due < b.due || (a.due === b.due && a.order < b.order);

const dropped = (): void => {};

/** Reports an error as a real timer's callback error is reported: uncaught, on its own turn. */
const reportUncaught = (error: unknown): void =>
  queueMicrotask(() => {
    throw error;
  });

/**
 * The real event loop's timer functions, found once at import: a test that fakes the timers after
 * that (vitest's, jest's) does not stop virtual time.
 */
const realTimers: EventLoopTimers = {
  setImmediate: (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate,
  setTimeout: globalThis.setTimeout,
  MessageChannel: globalThis.MessageChannel,
};

/** The event loop's next turn, after every pending microtask. */
const nextTurn = (): Promise<void> => yieldOnce(realTimers);

/** Beyond this many timers, `runAll` stops: a loop that sets a new timer for each one never ends. */
const RUN_ALL_LIMIT = 100_000;

/**
 * A clock whose time moves only when the test or the code under test lets it: a queue of virtual
 * timers. `sleep` and `timer` set one; with `autoAdvance` (the default) time jumps to the next timer
 * as soon as nothing else is left to run, so code that retries runs to its end in milliseconds of
 * real time, and races between timers (an attempt's `timeout` against a slow target) come out as
 * they would in real time. `sleepSync` moves time at once, as a blocking sleep would. A timer
 * callback that throws rejects the `advance()` or `runAll()` that fired it; under `autoAdvance` its
 * error is reported uncaught, as a real timer's is, and the other timers still fire.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * await clock.sleep(2.5);
 * clock.now(); // 2.5
 * clock.sleeps; // [2.5]
 *
 * const manual = new VirtualClock({ autoAdvance: false });
 * const done = manual.sleep(3);
 * await manual.advance(3); // fires the sleep's timer
 * await done;
 * ```
 */
export class VirtualClock implements Clock {
  /** Every wait slept so far (`sleep` and `sleepSync`, not `timer`), in seconds, in order. */
  readonly sleeps: number[] = [];
  #now: number;
  readonly #autoAdvance: boolean;
  /**
   * The pending timers: a binary heap, earliest first. A cancelled timer stays until it is reached
   * or until cancelled ones outnumber the live ones (then the heap is rebuilt without them), so the
   * heap's size follows the live timers even while time stands still.
   */
  #heap: VirtualTimer[] = [];
  #live = 0;
  #order = 0;
  #turnPending = false;

  /** @param startOrOptions - the virtual time to start at, in seconds (default 0), or the options */
  constructor(startOrOptions: number | VirtualClockOptions = 0) {
    const options = typeof startOrOptions === 'number' ? { start: startOrOptions } : startOrOptions;
    this.#now = options.start ?? 0;
    this.#autoAdvance = options.autoAdvance ?? true;
  }

  /** The virtual time, in seconds. */
  now(): number {
    return this.#now;
  }

  /** How many timers are pending (sleeps and `timer`s not yet fired nor cancelled). */
  get pending(): number {
    return this.#live;
  }

  /**
   * Records the wait and resolves when virtual time reaches its end; rejects with `signal.reason`
   * as soon as `signal` aborts (at once if it has).
   */
  sleep(seconds: number, signal?: AbortSignal): Promise<void> {
    try {
      checkSeconds(seconds);
      if (signal?.aborted) throw signal.reason;
    } catch (error) {
      return Promise.reject(error);
    }
    this.sleeps.push(seconds);
    return new Promise<void>((resolve, reject) => {
      if (signal === undefined) {
        this.#set(seconds, resolve);
        return;
      }
      const sleep: AbortTarget = {
        abort: (reason) => {
          this.#cancel(timer);
          reject(reason);
        },
      };
      const timer = this.#set(seconds, () => {
        unwatch(signal, sleep);
        resolve();
      });
      watch(signal, sleep);
    });
  }

  /** Records the wait and moves virtual time on at once, as a blocking sleep would. */
  sleepSync(seconds: number): void {
    checkSeconds(seconds);
    this.sleeps.push(seconds);
    this.#forward(seconds);
    this.#scheduleTurn();
  }

  /** Calls `callback` when virtual time has moved on by `seconds`, unless cancelled first. */
  timer(seconds: number, callback: () => void): () => void {
    checkSeconds(seconds);
    const timer = this.#set(seconds, callback);
    return () => this.#cancel(timer);
  }

  /**
   * Moves virtual time on by `seconds` without recording a wait, firing the timers that fall due
   * on the way, in order, each once every pending microtask has run. Resolves when it is done; with
   * no timer due on the way, time has moved before it returns (so a slow target may call it
   * without awaiting it). A bad `seconds` throws at once.
   */
  advance(seconds: number): Promise<void> {
    checkSeconds(seconds);
    const end = Math.min(this.#now + seconds, Number.MAX_VALUE);
    return this.#runUntil(end);
  }

  /**
   * Fires every pending timer, in order, moving time on to each (also those the fired ones set),
   * each once every pending microtask has run. Throws a `RangeError` past 100,000 timers: code that
   * always sets another one never ends.
   */
  async runAll(): Promise<void> {
    for (let fired = 0; this.#live > 0; fired += 1) {
      if (fired >= RUN_ALL_LIMIT) {
        throw new RangeError(
          `runAll fired ${RUN_ALL_LIMIT} timers and more are pending: does the code set a new timer for each one?`,
        );
      }
      await nextTurn();
      this.#fireNext(Number.MAX_VALUE);
    }
  }

  async #runUntil(end: number): Promise<void> {
    while (this.#peek(end) !== undefined) {
      await nextTurn();
      this.#fireNext(end);
    }
    this.#now = Math.max(this.#now, end);
  }

  /** Moves time; it saturates at `Number.MAX_VALUE` seconds rather than overflow to `Infinity`. */
  #forward(seconds: number): void {
    this.#now = Math.min(this.#now + seconds, Number.MAX_VALUE);
  }

  #set(seconds: number, fire: () => void): VirtualTimer {
    const timer = new VirtualTimer(
      Math.min(this.#now + seconds, Number.MAX_VALUE),
      this.#order++,
      fire,
    );
    const heap = this.#heap;
    heap.push(timer);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!earlier(heap[i] as VirtualTimer, heap[parent] as VirtualTimer)) break;
      [heap[i], heap[parent]] = [heap[parent] as VirtualTimer, heap[i] as VirtualTimer];
      i = parent;
    }
    this.#live += 1;
    this.#scheduleTurn();
    return timer;
  }

  #cancel(timer: VirtualTimer): void {
    if (timer.cancelled) return;
    timer.cancelled = true;
    timer.fire = dropped;
    this.#live -= 1;
    // Rebuilding costs O(n log n) once the heap holds more cancelled timers than live ones (and
    // some slack), so at most O(log n) per cancel, amortised.
    if (this.#heap.length > 2 * this.#live + 16) {
      this.#heap = this.#heap
        .filter((pending) => !pending.cancelled)
        .sort((a, b) => (earlier(a, b) ? -1 : 1)); // a sorted array is a heap
    }
  }

  /** The earliest live timer due by `end`, with the cancelled ones before it dropped. */
  #peek(end: number): VirtualTimer | undefined {
    const heap = this.#heap;
    while (heap.length > 0 && (heap[0] as VirtualTimer).cancelled) this.#pop();
    const first = heap[0];
    return first !== undefined && first.due <= end ? first : undefined;
  }

  #pop(): VirtualTimer {
    const heap = this.#heap;
    const top = heap[0] as VirtualTimer;
    const last = heap.pop() as VirtualTimer;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (
          left < heap.length &&
          earlier(heap[left] as VirtualTimer, heap[least] as VirtualTimer)
        ) {
          least = left;
        }
        if (
          right < heap.length &&
          earlier(heap[right] as VirtualTimer, heap[least] as VirtualTimer)
        ) {
          least = right;
        }
        if (least === i) break;
        [heap[i], heap[least]] = [heap[least] as VirtualTimer, heap[i] as VirtualTimer];
        i = least;
      }
    }
    return top;
  }

  /**
   * Fires the earliest timer due by `end`, moving time on to it. An error its callback throws is
   * thrown from here, after the queue is consistent again.
   */
  #fireNext(end: number): void {
    const timer = this.#peek(end);
    if (timer === undefined) return;
    this.#pop();
    timer.cancelled = true; // fired: a late cancel does nothing
    this.#live -= 1;
    this.#now = Math.max(this.#now, timer.due);
    timer.fire();
  }

  /**
   * With `autoAdvance`: fire the next timer on the event loop's next turn, after every microtask. A
   * callback that throws is reported as a real timer's would be (uncaught), and time goes on.
   */
  #scheduleTurn(): void {
    if (!this.#autoAdvance || this.#turnPending || this.#live === 0) return;
    // Stryker disable next-line BooleanLiteral: more turns pending fire the same timers in the same order (microtasks still run between turns), only sooner against real I/O
    this.#turnPending = true;
    void nextTurn().then(() => {
      this.#turnPending = false;
      try {
        this.#fireNext(Number.MAX_VALUE);
      } catch (error) {
        reportUncaught(error);
      }
      this.#scheduleTurn();
    });
  }
}

/**
 * A seeded random source, uniform in [0, 1): the same seed gives the same sequence. Pass it as the
 * `random` option to make jitter repeatable. (mulberry32: fast, 32 bits of state, not for crypto.)
 *
 * @param seed - any integer
 * @returns a function returning the next number of the sequence
 * @example
 * ```ts
 * backoff.onException(backoff.expo, TypeError, { random: seededRandom(42) });
 * ```
 */
export function seededRandom(seed: number): () => number {
  if (!Number.isInteger(seed)) throw rangeError('seed', 'an integer', seed);
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of {@link preview}. */
export interface PreviewOptions {
  /** Seed of the random source used by the jitter (default: the policy's `random`, else `Math.random`). */
  readonly seed?: number | undefined;
  /**
   * Which failures are free (as the `free` option would find them): by attempt, `free[0]` the
   * first's, or a function of the attempt's number (from 1). Their waits are `freeWait`'s, and
   * they do not count towards `maxTries`. @defaultValue none
   */
  readonly free?: readonly boolean[] | ((tries: number) => boolean) | undefined;
}

const STOP = Symbol('enough waits');
class PreviewFailure extends Error {
  override name = 'PreviewFailure';
}

/**
 * Lists the waits (seconds, after jitter and `maxTime`) a policy would take if every attempt failed
 * at once, by running the real retry loop on a {@link VirtualClock}; `previewOptions.free` says
 * which failures are free (their waits are then `freeWait`'s). Stops after `count` waits, or
 * earlier when the policy gives up (`maxTries`, `maxTime`, an exhausted generator). Handlers,
 * `giveup`, the logger, the signal and the budget of `options` are left out (a preview spends
 * nothing of a live budget); the wait generator sees `PreviewFailure`
 * errors as the failures.
 *
 * @param wait - the wait generator
 * @param options - the policy's options (as given to `onException`)
 * @param count - the most waits to list (default 10)
 * @param previewOptions - `seed` for a repeatable jitter
 * @returns the waits, in seconds
 * @example
 * ```ts
 * preview(backoff.expo, { maxValue: 8, jitter: null }, 6); // [1, 2, 4, 8, 8, 8]
 * preview(backoff.expo, { maxTries: 4 }, 10, { seed: 1 }); // three jittered waits
 * preview(backoff.expo, { maxTries: 2, jitter: null }, 10, { free: [true, true] }); // [1, 2, 1]: two free, then one that counts
 * ```
 */
export function preview<W extends WaitGenerator>(
  wait: W,
  options: Readonly<Record<string, unknown>> = {},
  count = 10,
  previewOptions: PreviewOptions = {},
): number[] {
  if (!Number.isInteger(count) || count < 0) throw rangeError('count', 'an integer >= 0', count);
  const waits: number[] = [];
  if (count === 0) return waits;
  // The option table says which options shape the waits; handlers, budget, signal … are left out.
  const policy = previewed(options);
  const { seed, free } = previewOptions;
  if (free !== undefined && typeof free !== 'function' && !Array.isArray(free)) {
    throw typeError('free', 'an array of booleans or a function of the attempt number', free);
  }
  const isFree = typeof free === 'function' ? free : (tries: number) => free?.[tries - 1] === true;
  // Its own `free`: the policy's sees no real failure here.
  // The blocking twin's loop, through the engine's seam: a run whose every attempt fails.
  const plan = makePlan({
    api: 'preview',
    wait,
    catches: catcher(PreviewFailure),
    predicate: undefined,
    options: {
      ...policy,
      clock: new VirtualClock(),
      logger: null,
      random: seed === undefined ? policy.random : seededRandom(seed),
      free: ({ tries }: { tries: number }) => isFree(tries),
      onBackoff: ({ wait: seconds }: { wait: number }) => {
        waits.push(seconds);
        if (waits.length >= count) throw STOP;
      },
    },
    sync: true,
    clock: blockingClock,
    blockForm: false,
  });
  const failing = wrapSync(plan, () => {
    throw new PreviewFailure('preview: every attempt fails');
  });
  try {
    failing();
  } catch (error) {
    if (error !== STOP && !(error instanceof PreviewFailure)) throw error;
  }
  return waits;
}
