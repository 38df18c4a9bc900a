// @ts-check
// Pattern: many requests at once, each retried on its own, gathered with Promise.allSettled.
import * as backoff from 'backoff-ts';
import { fetchJson, HttpError } from './http-error.js';

/**
 * @param {string[]} urls
 * @param {import('backoff-ts').ExceptionOptions<HttpError | TypeError>} [tuning]
 * @returns {Promise<PromiseSettledResult<unknown>[]>}
 */
export function fetchAll(urls, tuning = {}) {
  const getJson = backoff.onException(backoff.expo, [HttpError, TypeError], {
    maxTries: 4,
    ...tuning,
  })(fetchJson);
  // Each call has its own tries, clock and waits: one slow URL does not hold up the others.
  return Promise.allSettled(urls.map((url) => getJson(url)));
}
