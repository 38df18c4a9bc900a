// @ts-check
// The complete example: robustFetch retries network errors and 5xx answers with exponential
// backoff (full jitter), at most 5 tries and 60 seconds, 10 seconds an attempt (a stalled request
// is aborted and retried), and an async handler logs each retry.
import * as backoff from 'backoff-ts';
import { fetchJson, HttpError } from './http-error.js';

/**
 * @param {{ log?: (line: string) => void } & import('backoff-ts').ExceptionOptions<TypeError | HttpError> & import('backoff-ts').AsyncOptions} [tuning]
 */
export function makeRobustFetch({ log = console.log, ...tuning } = {}) {
  return backoff.onException(backoff.expo, [TypeError, HttpError], {
    maxTries: 5,
    maxTime: 60,
    timeout: 10,
    onBackoff: async (details) => {
      // An async handler: awaited before the wait starts.
      await Promise.resolve();
      log(
        `Async retry ${details.tries}: wait=${details.wait.toFixed(2)}s, elapsed=${details.elapsed.toFixed(2)}s`,
      );
    },
    ...tuning,
  })(async function robustFetch(/** @type {string} */ url) {
    return fetchJson(url, { signal: backoff.attemptSignal() });
  });
}
