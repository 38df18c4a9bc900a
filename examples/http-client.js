// @ts-check
// Pattern: an HTTP client that retries network errors and 5xx answers for at most 30 seconds,
// giving each attempt 10 seconds: a request that stalls is aborted (its socket closed) and retried.
import * as backoff from 'backoff-ts';
import { fetchJson, HttpError } from './http-error.js';

/**
 * @param {import('backoff-ts').ExceptionOptions<TypeError | HttpError> & import('backoff-ts').AsyncOptions} [tuning]
 *   extra options (tests pass a clock)
 */
export function makeGetJson(tuning = {}) {
  // fetch rejects with a TypeError when the connection fails; fetchJson throws HttpError on 5xx.
  return backoff.onException(backoff.expo, [TypeError, HttpError], {
    maxTime: 30,
    timeout: 10,
    ...tuning,
  })((/** @type {string} */ url) =>
    // The attempt's signal, read before the first await: it aborts when the 10 s are up.
    fetchJson(url, { signal: backoff.attemptSignal() }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.argv[2] ?? 'http://127.0.0.1:8080/data/x';
  console.log(await makeGetJson({ logger: console })(url));
}
