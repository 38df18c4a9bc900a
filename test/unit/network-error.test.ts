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

describe('isNetworkError: every code, message and system error it knows', () => {
  // The lists, written out: each entry of the classifier's tables is checked by name.
  const codes = [
    'ECONNRESET',
    'ECONNREFUSED',
    'ECONNABORTED',
    'EPIPE',
    'ETIMEDOUT',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'ENETDOWN',
    'UND_ERR_SOCKET',
    'UND_ERR_CLOSED',
    'UND_ERR_CONNECT_TIMEOUT',
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
  ];
  it.each(codes)('%s, on the cause (undici) and on the error (Bun)', (code) => {
    expect(isNetworkError(withCause('fetch failed', { code }))).toBe(true);
    expect(isNetworkError(typeError(`${code}: failed`, { code }))).toBe(true);
  });

  it.each(['Failed to fetch', 'NetworkError when attempting to fetch resource.', 'Load failed'])(
    'the browser message %j',
    (message) => {
      expect(isNetworkError(new TypeError(message))).toBe(true);
    },
  );

  const osErrors = [
    104, 111, 103, 32, 110, 113, 101, 100, 54, 61, 53, 60, 65, 51, 50, 10054, 10061, 10053, 10060,
    10065, 10051, 10050,
  ];
  it.each(osErrors)('Deno’s (os error %i)', (number) => {
    expect(
      isNetworkError(withCause('fetch failed', new Error(`failed (os error ${number})`))),
    ).toBe(true);
  });

  it('an empty code or message is no network error', () => {
    expect(isNetworkError(withCause('fetch failed', { code: '' }))).toBe(false);
    expect(isNetworkError(typeError('x', { code: '' }))).toBe(false);
    expect(isNetworkError(new TypeError(''))).toBe(false);
    expect(isNetworkError(withCause('fetch failed', new Error('')))).toBe(false);
    expect(isNetworkError(withCause('fetch failed', new Error('dns errors')))).toBe(false);
    expect(isNetworkError(withCause('fetch failed', null))).toBe(false);
    // A message that is no string is not read, whatever it would print as.
    const printsAsOne = { toString: () => 'reset (os error 104)' };
    expect(isNetworkError(withCause('fetch failed', { message: printsAsOne }))).toBe(false);
  });
});
