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

import type { Clock } from './clock.js';
import { onExceptionSync } from './decorator.js';
import { previewed } from './options.js';
import type { WaitGenerator } from './types.js';
import { checkSeconds, rangeError } from './validate.js';

/**
 * A clock whose time moves only when the code sleeps (or the test calls {@link VirtualClock.advance}):
 * `sleep` and `sleepSync` return at once, advance virtual time and record every wait.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * await clock.sleep(2.5);
 * clock.now(); // 2.5
 * clock.sleeps; // [2.5]
 * ```
 */
export class VirtualClock implements Clock {
  /** Every wait slept so far, in seconds, in order. */
  readonly sleeps: number[] = [];
  #now: number;

  /** @param start - the virtual time to start at, in seconds (default 0) */
  constructor(start = 0) {
    this.#now = start;
  }

  /** The virtual time, in seconds. */
  now(): number {
    return this.#now;
  }

  /** Records the wait and advances virtual time at once; rejects if `signal` is already aborted. */
  sleep(seconds: number, signal?: AbortSignal): Promise<void> {
    try {
      if (signal?.aborted) throw signal.reason;
      this.sleepSync(seconds);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve();
  }

  /** Records the wait and advances virtual time at once. */
  sleepSync(seconds: number): void {
    checkSeconds(seconds);
    this.sleeps.push(seconds);
    this.#forward(seconds);
  }

  /** Moves virtual time on by `seconds` without recording a wait (say, inside a slow target). */
  advance(seconds: number): void {
    checkSeconds(seconds);
    this.#forward(seconds);
  }

  /** Moves time on; it saturates at `Number.MAX_VALUE` seconds rather than overflow to `Infinity`. */
  #forward(seconds: number): void {
    this.#now = Math.min(this.#now + seconds, Number.MAX_VALUE);
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
}

const STOP = Symbol('enough waits');
class PreviewFailure extends Error {
  override name = 'PreviewFailure';
}

/**
 * Lists the waits (seconds, after jitter and `maxTime`) a policy would take if every attempt failed
 * at once, by running the real retry loop on a {@link VirtualClock}. Stops after `count` waits, or
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
  const { seed } = previewOptions;
  const failing = onExceptionSync(wait as WaitGenerator, PreviewFailure, {
    ...policy,
    clock: new VirtualClock(),
    logger: null,
    random: seed === undefined ? (policy.random as (() => number) | undefined) : seededRandom(seed),
    onBackoff: ({ wait: seconds }: { wait: number }) => {
      waits.push(seconds);
      if (waits.length >= count) throw STOP;
    },
  } as never)(() => {
    throw new PreviewFailure('preview: every attempt fails');
  });
  try {
    failing();
  } catch (error) {
    if (error !== STOP && !(error instanceof PreviewFailure)) throw error;
  }
  return waits;
}
