// @ts-check
// Pattern: poll a job every 2 seconds (no jitter) until it is done, for at most 5 minutes.
import * as backoff from 'backoff-ts';

/**
 * @param {import('backoff-ts').PredicateOptions} [tuning]
 */
export function makeWaitForJob(tuning = {}) {
  return backoff.onPredicate(
    backoff.constant,
    (/** @type {{ state: string }} */ job) => job.state !== 'done',
    { interval: 2, jitter: null, maxTime: 300, ...tuning },
  )(async (/** @type {string} */ url) => (await fetch(url)).json());
}
