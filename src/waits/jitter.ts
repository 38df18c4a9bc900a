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
 * @param random - the random source, in [0, 1); default `Math.random` (the `random` option)
 * @returns seconds to wait, in [0, `seconds`]
 * @example
 * ```ts
 * backoff.onException(backoff.expo, TypeError, { jitter: backoff.fullJitter });
 * ```
 */
export function fullJitter(seconds: number, random: () => number = Math.random): number {
  return random() * seconds;
}

/**
 * Random jitter: the wait plus up to one second, uniform in [`seconds`, `seconds` + 1).
 *
 * @param seconds - the wait generator's value, in seconds
 * @param random - the random source, in [0, 1); default `Math.random` (the `random` option)
 * @returns seconds to wait, in [`seconds`, `seconds` + 1)
 * @example
 * ```ts
 * backoff.onException(backoff.constant, TypeError, { interval: 5, jitter: backoff.randomJitter });
 * ```
 */
export function randomJitter(seconds: number, random: () => number = Math.random): number {
  return seconds + random();
}

/**
 * Equal jitter: half the wait for sure, the other half random — uniform in [`seconds`/2,
 * `seconds`]. Keeps a minimum spacing between attempts while still spreading clients out; use it
 * where full jitter's very short waits would hammer a recovering server.
 *
 * @param seconds - the wait generator's value, in seconds
 * @param random - the random source, in [0, 1); default `Math.random` (the `random` option)
 * @returns seconds to wait, in [`seconds`/2, `seconds`]
 * @example
 * ```ts
 * backoff.onException(backoff.expo, TypeError, { jitter: backoff.equalJitter });
 * ```
 */
export function equalJitter(seconds: number, random: () => number = Math.random): number {
  const half = seconds / 2;
  // Clamped: for subnormal waits, halving rounds and the sum could pass `seconds`.
  return Math.min(seconds, half + random() * half);
}
