/**
 * Time: the `Clock` interface and the default `systemClock`.
 *
 * @module
 */

import { checkSeconds } from './validate.js';

/**
 * Where the retry loop reads time and sleeps. All durations are seconds. Pass your own (for
 * example the test kit's virtual clock) with the `clock` option to control time exactly.
 *
 * @example
 * ```ts
 * const clock: Clock = {
 *   now: () => performance.now() / 1000,
 *   sleep: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000)),
 *   sleepSync: () => {},
 * };
 * ```
 */
export interface Clock {
  /** Monotonic time in seconds; only differences matter. */
  now(): number;
  /** Resolves after `seconds`; rejects with `signal.reason` when `signal` aborts first. */
  sleep(seconds: number, signal?: AbortSignal): Promise<void>;
  /** Blocks the thread for `seconds` (used by the sync twins). */
  sleepSync(seconds: number): void;
}

/** setTimeout's limit: longer delays fire at once, so long waits are slept in pieces. */
const MAX_TIMER_MS = 2 ** 31 - 1;

let blocker: Int32Array | undefined;

/** Yields to the event loop once, without a timer. */
function yieldOnce(): Promise<void> {
  return new Promise<void>((resolve) => {
    const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown })
      .setImmediate;
    if (typeof immediate === 'function') {
      immediate(resolve);
    } else {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(undefined);
    }
  });
}

function sleepFor(seconds: number, signal: AbortSignal | undefined): Promise<void> {
  // Timers truncate to whole milliseconds: round up, so that a wait is never shorter than asked;
  // but not for a float's noise (0.1 + 0.2 seconds is 300.00000000000006 ms: 300, not 301).
  const ms = Math.ceil(seconds * 1000 - 1e-6);
  // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: a fast path; the general one below waits the same
  if (signal === undefined && ms <= MAX_TIMER_MS) {
    return new Promise<void>((resolve) => setTimeout(resolve, ms));
  }
  return new Promise<void>((resolve, reject) => {
    // Long waits are slept in timer-sized pieces, against a deadline read when the sleep starts.
    const deadline = performance.now() + ms;
    let timer: ReturnType<typeof setTimeout>;
    const onAbort = (): void => {
      clearTimeout(timer);
      reject((signal as AbortSignal).reason);
    };
    const done = (): void => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const arm = (): void => {
      const remaining = Math.ceil(deadline - performance.now());
      timer =
        // Stryker disable next-line EqualityOperator: at exactly the limit, one more piece of 0 ms ends the same wait
        remaining <= MAX_TIMER_MS ? setTimeout(done, remaining) : setTimeout(arm, MAX_TIMER_MS);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    arm();
  });
}

/**
 * The default clock: `performance.now()` for time, timers for `sleep` and `Atomics.wait` for
 * `sleepSync`. Globals are looked up on each call, not at import, so vitest, jest and
 * `@sinonjs/fake-timers` fake timers control it.
 *
 * - `sleep(0)` yields to the event loop once without a timer (`setImmediate`, else a
 *   `MessageChannel` message).
 * - Waits longer than the timer limit (2^31−1 ms, about 24.8 days) still wait their full length.
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
export const systemClock: Clock = {
  now(): number {
    return performance.now() / 1000;
  },

  sleep(seconds: number, signal?: AbortSignal): Promise<void> {
    try {
      checkSeconds(seconds);
      if (signal?.aborted) throw signal.reason;
    } catch (error) {
      return Promise.reject(error);
    }
    return seconds === 0 ? yieldOnce() : sleepFor(seconds, signal);
  },

  sleepSync(seconds: number): void {
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
  },
};
