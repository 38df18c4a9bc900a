/**
 * Jitter: randomise each wait so that many clients do not retry in lockstep.
 *
 * @module
 */

/**
 * Full jitter, the default: a wait uniform in [0, `seconds`] (AWS "full jitter"). The wait
 * generator's value is then the longest possible wait.
 *
 * @param seconds - the wait generator's value, in seconds
 * @returns seconds to wait, in [0, `seconds`]
 * @example
 * ```ts
 * backoff.onException(backoff.expo, TypeError, { jitter: backoff.fullJitter });
 * ```
 */
export function fullJitter(seconds: number): number {
  return Math.random() * seconds;
}

/**
 * Random jitter: the wait plus up to one second, uniform in [`seconds`, `seconds` + 1).
 *
 * @param seconds - the wait generator's value, in seconds
 * @returns seconds to wait, in [`seconds`, `seconds` + 1)
 * @example
 * ```ts
 * backoff.onException(backoff.constant, TypeError, { interval: 5, jitter: backoff.randomJitter });
 * ```
 */
export function randomJitter(seconds: number): number {
  return seconds + Math.random();
}
