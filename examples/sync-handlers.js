// @ts-check
// Pattern: plain (sync) handlers on an async function: count and record each event.
import * as backoff from 'backoff-ts';
import { fetchJson, HttpError } from './http-error.js';

/**
 * @param {import('backoff-ts').ExceptionOptions<HttpError>} [tuning]
 */
export function makeTrackedFetch(tuning = {}) {
  const stats = { backoffs: 0, successes: 0, giveups: 0, waits: /** @type {number[]} */ ([]) };
  const trackedFetch = backoff.onException(backoff.expo, HttpError, {
    maxTries: 4,
    onBackoff: (details) => {
      stats.backoffs += 1;
      stats.waits.push(details.wait);
    },
    onSuccess: () => {
      stats.successes += 1;
    },
    onGiveup: () => {
      stats.giveups += 1;
    },
    ...tuning,
  })(fetchJson);
  return { trackedFetch, stats };
}
