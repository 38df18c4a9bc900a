// @ts-check
// The HTTP patterns again, on backoff-ts/fetch: the rules (which statuses, which methods,
// Retry-After, freeing discarded responses, the caller's signal) come with retryFetch, so each
// pattern is a few lines. Compare with http-client.js, concurrent.js and robust-fetch.js.
import { HttpError, retryFetch } from 'backoff-ts/fetch';

/**
 * The HTTP client: JSON from a URL, network errors and 5xx retried for at most 30 seconds, 10
 * seconds an attempt; a 4xx or a last 5xx rejects with an HttpError.
 *
 * @param {import('backoff-ts/fetch').RetryFetchOptions} [tuning] extra options (tests pass a clock)
 */
export function makeGetJson(tuning = {}) {
  const fetchWithRetry = retryFetch({ maxTime: 30, timeout: 10, throwHttpErrors: true, ...tuning });
  return async (/** @type {string} */ url) => (await fetchWithRetry(url)).json();
}

/**
 * Many requests at once, each retried on its own, gathered with Promise.allSettled.
 *
 * @param {string[]} urls
 * @param {import('backoff-ts/fetch').RetryFetchOptions} [tuning]
 */
export function fetchAll(urls, tuning = {}) {
  const getJson = makeGetJson(tuning);
  return Promise.allSettled(urls.map((url) => getJson(url)));
}

/**
 * The complete example: at most 5 tries and 60 seconds, an async handler logging each retry.
 *
 * @param {{ log?: (line: string) => void } & import('backoff-ts/fetch').RetryFetchOptions} [tuning]
 */
export function makeRobustFetch({ log = console.log, ...tuning } = {}) {
  return retryFetch({
    maxTries: 5,
    maxTime: 60,
    timeout: 10,
    name: 'robustFetch',
    onBackoff: async ({ tries, wait, exception }) => {
      await Promise.resolve();
      const why = exception instanceof HttpError ? exception.status : String(exception);
      log(`Async retry ${tries}: wait=${wait.toFixed(2)}s after ${why}`);
    },
    ...tuning,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.argv[2] ?? 'http://127.0.0.1:8080/data/x';
  console.log(await makeGetJson({ logger: console })(url));
}
