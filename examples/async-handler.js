// @ts-check
// Pattern: an async handler, awaited before the next attempt (here it writes an audit file).
import { appendFile } from 'node:fs/promises';
import * as backoff from 'backoff-ts';
import { fetchJson, HttpError } from './http-error.js';

/**
 * @param {string} auditFile where each retry is recorded before the wait starts
 * @param {import('backoff-ts').ExceptionOptions<HttpError>} [tuning]
 */
export function makeAuditedFetch(auditFile, tuning = {}) {
  return backoff.onException(backoff.fibo, HttpError, {
    maxTries: 5,
    onBackoff: async (details) => {
      await appendFile(
        auditFile,
        `${JSON.stringify({ tries: details.tries, wait: details.wait, error: details.exception.message })}\n`,
      );
    },
    ...tuning,
  })(fetchJson);
}
