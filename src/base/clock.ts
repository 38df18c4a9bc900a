/**
 * Time: the `Clock` interface and the default `systemClock`.
 *
 * @module
 */

import { setDeadline } from './deadlines.js';
import { yieldOnce } from './event-loop.js';
import { type AbortTarget, unwatch, watch } from './signal-watch.js';
import { checkSeconds, ignoreRejection, isThenable, show } from './validate.js';

/**
 * Where the retry loop reads time and sleeps. All durations are seconds. Pass your own (for
 * example the test kit's virtual clock) with the `clock` option to control time exactly. A `sleep`
 * must honour its `signal`: the loop relies on it to end a wait when the call is aborted (a clock
 * that ignores it makes an abort wait out the whole sleep).
 *
 * @example
 * ```ts
 * const clock: Clock = {
 *   now: () => performance.now() / 1000,
 *   sleep: (seconds, signal) =>
 *     new Promise((resolve, reject) => {
 *       if (signal?.aborted) return reject(signal.reason);
 *       const timer = setTimeout(resolve, seconds * 1000);
 *       signal?.addEventListener('abort', () => {
 *         clearTimeout(timer);
 *         reject(signal.reason);
 *       }, { once: true });
 *     }),
 *   sleepSync: () => {},
 * };
 * ```
 */
export interface Clock {
  /** Monotonic time in seconds; only differences matter. Must be a finite number. */
  now(): number;
  /**
   * Resolves after `seconds`; must reject with `signal.reason` as soon as `signal` aborts (the loop
   * does not race the sleep against the signal itself).
   */
  sleep(seconds: number, signal?: AbortSignal): Promise<void>;
  /** Blocks the thread for `seconds` (used by the sync twins). */
  sleepSync(seconds: number): void;
  /**
   * Calls `callback` once, `seconds` from now, unless the function it returns is called first
   * (which must then be harmless to call again). Needed for the `timeout` option only: a clock
   * without it is refused with `timeout`.
   */
  timer?(seconds: number, callback: () => void): () => void;
}

/** setTimeout's limit: longer delays fire at once, so long waits are slept in pieces. */
const MAX_TIMER_MS = 2 ** 31 - 1;

let blocker: Int32Array | undefined;

/** Timers truncate to whole milliseconds: round up, so that a wait is never shorter than asked; but
 * not for a float's noise (0.1 + 0.2 seconds is 300.00000000000006 ms: 300, not 301). */
function millis(seconds: number): number {
  return Math.ceil(seconds * 1000 - 1e-6);
}

/** A timer of any length: longer than setTimeout's limit, it is set in pieces against a deadline. */
class LongTimer {
  handle: ReturnType<typeof setTimeout> | undefined = undefined;
  readonly #deadline: number;
  readonly #fire: () => void;
  constructor(ms: number, fire: () => void) {
    this.#deadline = performance.now() + ms;
    this.#fire = fire;
    this.#arm();
  }
  #arm(): void {
    // Never negative: Node 24+ warns (TimeoutNegativeWarning) for a negative delay.
    const remaining = Math.max(0, Math.ceil(this.#deadline - performance.now()));
    this.handle =
      // Stryker disable next-line EqualityOperator: at exactly the limit, one more piece of 0 ms ends the same wait
      remaining <= MAX_TIMER_MS
        ? setTimeout(this.#fire, remaining)
        : setTimeout(() => this.#arm(), MAX_TIMER_MS);
  }
  cancel(): void {
    clearTimeout(this.handle);
  }
}

/** A sleep that its signal may end early. */
class AbortableSleep implements AbortTarget {
  timer: LongTimer | undefined = undefined;
  readonly #reject: (reason: unknown) => void;
  constructor(reject: (reason: unknown) => void) {
    this.#reject = reject;
  }
  abort(reason: unknown): void {
    // Stryker disable next-line OptionalChaining: the timer is set in the same turn as the signal is watched (sleepFor), and the signal was not aborted then, so it is always set here
    this.timer?.cancel();
    this.#reject(reason);
  }
}

function sleepFor(seconds: number, signal: AbortSignal | undefined): Promise<void> {
  const ms = millis(seconds);
  // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: a fast path; the general one below waits the same
  if (signal === undefined && ms <= MAX_TIMER_MS) {
    return new Promise<void>((resolve) => setTimeout(resolve, ms));
  }
  return new Promise<void>((resolve, reject) => {
    const sleep = new AbortableSleep(reject);
    if (signal !== undefined) watch(signal, sleep);
    sleep.timer = new LongTimer(ms, () => {
      if (signal !== undefined) unwatch(signal, sleep);
      resolve();
    });
  });
}

/** `performance.now()` in seconds. */
function now(): number {
  return performance.now() / 1000;
}

/** Waits `seconds` (0: one turn of the event loop), rejecting with `signal.reason` on abort. */
function sleep(seconds: number, signal?: AbortSignal): Promise<void> {
  try {
    checkSeconds(seconds);
    if (signal?.aborted) throw signal.reason;
  } catch (error) {
    return Promise.reject(error);
  }
  return seconds === 0 ? yieldOnce(globalThis) : sleepFor(seconds, signal);
}

/** Calls `callback` in `seconds`; returns the function that cancels it. */
function timer(seconds: number, callback: () => void): () => void {
  checkSeconds(seconds);
  const ms = millis(seconds);
  // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: a fast path; the LongTimer below fires at the same moment (the long-timer test covers the other way)
  if (ms <= MAX_TIMER_MS) return setDeadline(ms, callback);
  const long = new LongTimer(ms, callback);
  return () => long.cancel();
}

/** Blocks the thread for `seconds` with `Atomics.wait`. */
function sleepSync(seconds: number): void {
  checkSeconds(seconds);
  if (seconds === 0) return;
  if (typeof SharedArrayBuffer !== 'function') {
    throw new TypeError(
      'systemClock.sleepSync cannot block here: SharedArrayBuffer is unavailable. ' +
        'Use the async twin (onException / onPredicate / retryContext) instead.',
    );
  }
  blocker ??= new Int32Array(new SharedArrayBuffer(4));
  try {
    Atomics.wait(blocker, 0, 0, seconds * 1000);
  } catch (cause) {
    throw new TypeError(
      'systemClock.sleepSync cannot block on this thread (a browser main thread?). ' +
        'Use the async twin (onException / onPredicate / retryContext) instead.',
      { cause },
    );
  }
}

/**
 * The default clock: `performance.now()` for time, timers for `sleep` and `Atomics.wait` for
 * `sleepSync`. Globals are looked up on each call, not at import, so vitest, jest and
 * `@sinonjs/fake-timers` fake timers control it.
 *
 * - `sleep(0)` yields to the event loop once without a timer (`setImmediate`, else a
 *   `MessageChannel` message).
 * - Waits longer than the timer limit (2^31−1 ms, about 24.8 days) still wait their full length.
 * - `timer` (the `timeout` option's) fires when a `setTimeout` of its own would, but the timers of
 *   one length share one native timer: an attempt's deadline costs a list entry, not a
 *   `setTimeout`/`clearTimeout` pair (`deadlines.ts`).
 * - `sleepSync` blocks the thread with `Atomics.wait`; where blocking is impossible (a browser's
 *   main thread) a non-zero wait throws a `TypeError` instead of busy-waiting. `sleepSync(0)`
 *   returns at once.
 *
 * @example
 * ```ts
 * await systemClock.sleep(0.5); // half a second
 * const elapsed = systemClock.now() - start; // seconds
 * ```
 */
export const systemClock: Clock = { now, sleep, sleepSync, timer };

/**
 * Reads a clock: a finite number of seconds, or a `TypeError` that says what it gave. The loop's
 * reads and the circuit breakers' go through it. @internal
 */
export function readClock(clock: Pick<Clock, 'now'>): number {
  const seconds = clock.now();
  if (Number.isFinite(seconds)) return seconds;
  if (isThenable(seconds)) {
    ignoreRejection(seconds);
    throw new TypeError('clock.now() returned a Promise: it must return seconds');
  }
  throw new TypeError(
    `Expected clock.now() to return a finite number of seconds, got ${show(seconds)}`,
  );
}

/**
 * The default clock of the async twins: {@link systemClock} without the blocking sleep, which they
 * never call, so that a bundle of them leaves it out (about 330 B minified).
 *
 * @internal
 */
export const waitingClock = { now, sleep, timer } as Clock;

/** The default clock of the blocking twins, which only read time and block. @internal */
export const blockingClock = { now, sleepSync } as Clock;
