// isNetworkError: each runtime's shape of a network error of fetch, as recorded from the runtimes
// themselves (Node 20 undici, Bun 1.4.5, Deno 2.9.6, against a reset and a refused connection on
// loopback); test/compat/smoke/runtime-smoke.mjs checks the live errors on Bun and Deno.
import { describe, expect, it } from 'vitest';
import { isNetworkError } from '../../src/index.js';

/** A `TypeError` with the given message and own fields. */
const typeError = (message: string, fields: Record<string, unknown> = {}) =>
  Object.assign(new TypeError(message), fields);
const withCause = (message: string, cause: unknown) => new TypeError(message, { cause });

describe('isNetworkError', () => {
  it.each([
    [
      'Node, reset',
      withCause(
        'fetch failed',
        Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      ),
    ],
    [
      'Node, refused',
      withCause(
        'fetch failed',
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      ),
    ],
    ['Node, undici socket', withCause('fetch failed', { code: 'UND_ERR_SOCKET' })],
    [
      'Bun, reset',
      typeError('ECONNRESET: The socket connection was closed unexpectedly.', {
        code: 'ECONNRESET',
      }),
    ],
    ['Bun, refused', typeError('ECONNREFUSED: Unable to connect.', { code: 'ECONNREFUSED' })],
    [
      'Deno, reset',
      withCause('fetch failed', new Error('Connection reset by peer (os error 104)')),
    ],
    [
      'Deno, refused',
      withCause(
        'fetch failed',
        new Error(
          'error sending request for url (http://127.0.0.1:1/): client error (Connect): tcp connect error: Connection refused (os error 111)',
        ),
      ),
    ],
    [
      'Deno on macOS, reset',
      withCause('fetch failed', new Error('Connection reset by peer (os error 54)')),
    ],
    [
      'Deno on Windows, refused',
      withCause('fetch failed', new Error('No connection could be made (os error 10061)')),
    ],
    [
      'Deno, DNS',
      withCause(
        'fetch failed',
        new Error('client error (Connect): dns error: failed to lookup address information'),
      ),
    ],
    ['Chromium', new TypeError('Failed to fetch')],
    ['Firefox', new TypeError('NetworkError when attempting to fetch resource.')],
    ['Safari', new TypeError('Load failed')],
  ])('%s: a network error', (_, error) => {
    expect(isNetworkError(error)).toBe(true);
  });

  it.each([
    ['a bad argument', typeError('Invalid URL', { code: 'ERR_INVALID_URL' })],
    ['undici, another cause', withCause('fetch failed', { code: 'UND_ERR_INVALID_ARG' })],
    [
      'Deno, another os error',
      withCause('fetch failed', new Error('Permission denied (os error 13)')),
    ],
    ['Deno, a cause without a message', withCause('fetch failed', {})],
    ['a cause that is a string', withCause('fetch failed', 'ECONNRESET')],
    ['no cause', new TypeError('fetch failed')],
    ['an abort', new DOMException('This operation was aborted', 'AbortError')],
    [
      'a plain Error with a network code',
      Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
    ],
    ['not an error', { name: 'TypeError', message: 'Failed to fetch' }],
    ['undefined', undefined],
  ])('%s: not one', (_, error) => {
    expect(isNetworkError(error)).toBe(false);
  });
});
