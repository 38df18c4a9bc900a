/**
 * Which errors of `fetch` are network errors that a new attempt may cure, on every runtime that
 * has `fetch`: each reports them in its own shape.
 *
 * @module
 */

/** The error codes a new attempt may cure: the system's, and undici's own. */
const CODES: ReadonlySet<string> = new Set([
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
]);

/** What browsers say for a network error: Chromium, Firefox, Safari. */
const BROWSER_MESSAGES: ReadonlySet<string> = new Set([
  'Failed to fetch',
  'NetworkError when attempting to fetch resource.',
  'Load failed',
]);

/**
 * The system error numbers of the same failures, as Deno gives them (`… (os error 104)`): reset,
 * refused, aborted, broken pipe, timed out, host and network unreachable, network down — on Linux,
 * macOS and Windows.
 */
const OS_ERRORS: ReadonlySet<number> = new Set([
  // Linux
  104, 111, 103, 32, 110, 113, 101, 100,
  // macOS
  54, 61, 53, 60, 65, 51, 50,
  // Windows
  10054, 10061, 10053, 10060, 10065, 10051, 10050,
]);

/**
 * Is `error` a network error of `fetch` — a reset or refused connection, a failed DNS lookup, a
 * timeout of the connection — that a new attempt may cure? Not a caller's abort, not a bad
 * argument, not an HTTP status. It knows each runtime's shape: Node's undici
 * (`TypeError: fetch failed` with `cause.code`), Bun (a `TypeError` with `code`), Deno
 * (`TypeError: fetch failed` whose `cause` says `(os error N)` or `dns error`) and the browsers'
 * messages (which a CORS refusal shares: it cannot be told apart there).
 *
 * @param error - what `fetch` rejected with
 * @returns `true` for a network error a new attempt may cure
 * @example
 * ```ts
 * const getUser = backoff.onException(backoff.expo, Error, {
 *   giveup: (error) => !backoff.isNetworkError(error),
 *   maxTries: 5,
 * })(async (id: string) => (await fetch(`https://api.example.com/users/${id}`)).json());
 * ```
 */
export function isNetworkError(error: unknown): boolean {
  if (!(error instanceof TypeError)) return false;
  if (BROWSER_MESSAGES.has(error.message)) return true;
  const { code, cause } = error as {
    code?: unknown;
    cause?: { code?: unknown; message?: unknown };
  };
  // Bun: the code is on the error itself.
  if (typeof code === 'string') return CODES.has(code);
  if (typeof cause !== 'object' || cause === null) return false;
  // Node (undici): on its cause.
  if (typeof cause.code === 'string') return CODES.has(cause.code);
  // Deno: only in its cause's message.
  if (typeof cause.message !== 'string') return false;
  const os = /\(os error (\d+)\)/.exec(cause.message);
  if (os !== null) return OS_ERRORS.has(Number(os[1]));
  return /\bdns error\b/.test(cause.message);
}
