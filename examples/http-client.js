// @ts-check
// Pattern: an HTTP client that retries network errors and 5xx answers for at most 30 seconds.
import * as backoff from 'backoff-ts';
import { fetchJson, HttpError } from './http-error.js';

/**
 * @param {import('backoff-ts').ExceptionOptions<TypeError | HttpError>} [tuning] extra options
 *   (tests pass a clock)
 */
export function makeGetJson(tuning = {}) {
  // fetch rejects with a TypeError when the connection fails; fetchJson throws HttpError on 5xx.
  return backoff.onException(backoff.expo, [TypeError, HttpError], { maxTime: 30, ...tuning })(
    fetchJson,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.argv[2] ?? 'http://127.0.0.1:8080/data/x';
  console.log(await makeGetJson({ logger: console })(url));
}
