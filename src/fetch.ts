/**
 * `backoff-ts/fetch`: `fetch` that retries what is safe to retry — network errors and the statuses
 * that ask for it, on idempotent requests — with server-directed waits, the discarded responses'
 * bodies cancelled, and the caller's signal honoured. On any `fetch`: the global one, undici's, a
 * polyfill's or a test double.
 *
 * @example
 * ```ts
 * import { retryFetch } from 'backoff-ts/fetch';
 *
 * const fetchWithRetry = retryFetch({ timeout: 10 });
 * const response = await fetchWithRetry('https://api.example.com/users/1');
 * ```
 *
 * @module
 */

import { waitingClock } from './base/clock.js';
import { checkNumber, checkSignal, typeError } from './base/validate.js';
import { attemptSignal } from './engine/attempt.js';
import { callSignal } from './engine/call-context.js';
import { callAsync } from './engine/drivers.js';
import { isNetworkError } from './http/network-error.js';
import { retryAfter } from './http/retry-after.js';
import { catcher, handlerList, makePlan } from './plan/options.js';
import type { AsyncOptions, CallDetails, ExceptionOptions, WaitGenerator } from './types.js';
import { expo } from './waits/wait-gen.js';

/** The statuses retried by default: timeout, too early, too many requests, and the 5xx of a server that may recover. */
const STATUSES: readonly number[] = [408, 425, 429, 500, 502, 503, 504];
/** The idempotent methods (RFC 9110 §9.2.2): sending one twice does what sending it once does. */
const METHODS: readonly string[] = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'];
/**
 * The error of an HTTP answer: thrown between attempts for a retryable status (and, with
 * `throwHttpErrors`, what the call rejects with for any status that is not ok). `retryAfter` reads
 * its `response`'s headers.
 *
 * @example
 * ```ts
 * const strict = retryFetch({ throwHttpErrors: true });
 * try {
 *   await strict(url);
 * } catch (error) {
 *   if (error instanceof HttpError) console.log(error.status, await error.response.text());
 * }
 * ```
 */
export class HttpError extends Error {
  /** Always `'HttpError'`. */
  override name = 'HttpError';
  /** The response, its body unread. */
  readonly response: Response;
  /** `response.status`. */
  readonly status: number;
  /**
   * Why a retryable status was not retried, if that is why this is the outcome: `'method'` (not
   * idempotent, no `Idempotency-Key`) or `'body'` (a one-shot stream body, which cannot be sent again).
   */
  readonly notRetried: 'method' | 'body' | undefined;

  /**
   * @param response - the answer
   * @param notRetried - why a retryable status was not retried, if it was not
   */
  constructor(response: Response, notRetried?: 'method' | 'body') {
    super(`${response.status} ${response.statusText}`.trim());
    this.response = response;
    this.status = response.status;
    this.notRetried = notRetried;
  }
}

/** What `details.args[0]` is in the handlers of a {@link retryFetch} call. */
export interface FetchRequest {
  /** The method, upper case. */
  readonly method: string;
  /** The URL, as a string. */
  readonly url: string;
}

/** Options of {@link retryFetch}: most of `onException`'s, and the HTTP rules. */
export interface RetryFetchOptions
  extends Omit<ExceptionOptions<unknown>, 'raiseOnGiveup' | 'giveup'>,
    AsyncOptions {
  /** The `fetch` to call. @defaultValue `globalThis.fetch`, looked up at each call */
  readonly fetch?: typeof fetch | undefined;
  /** The statuses that are retried. @defaultValue 408, 425, 429, 500, 502, 503, 504 */
  readonly statuses?: Iterable<number> | undefined;
  /**
   * The methods that are retried; a request with an `Idempotency-Key` header is retried whatever
   * its method. @defaultValue GET, HEAD, OPTIONS, PUT, DELETE, TRACE
   */
  readonly methods?: Iterable<string> | undefined;
  /**
   * The longest server-directed wait (`Retry-After` and kin), in seconds: a server that asks for
   * longer is not retried (reason `'serverWait'`), unless `cutServerWait`. @defaultValue 60
   */
  readonly maxServerWait?: number | undefined;
  /** Wait `maxServerWait` and retry when the server asks for longer, instead of giving up. @defaultValue `false` */
  readonly cutServerWait?: boolean | undefined;
  /** The waits when the server names none. @defaultValue {@link expo} */
  readonly fallback?: WaitGenerator | undefined;
  /** The fallback's options. @defaultValue `{ factor: 0.5, maxValue: 30 }`: 0.5, 1, 2 … s before jitter */
  readonly fallbackOptions?: Readonly<Record<string, unknown>> | undefined;
  /** Reject with an {@link HttpError} for a response that is not ok (after the retries), instead of resolving with it. @defaultValue `false` */
  readonly throwHttpErrors?: boolean | undefined;
  /** Asked on every retryable failure, as `onException`'s `giveup`: `true` stops. */
  readonly giveup?: ((error: unknown, details: CallDetails) => unknown) | undefined;
  /**
   * The name of a header that tells the server how many times this request was retried before the
   * attempt it arrives with (0, 1, 2 …), as Stainless SDKs send `X-Stainless-Retry-Count`.
   * @defaultValue none
   */
  readonly retryCountHeader?: string | undefined;
  /**
   * Give a request that is not idempotent and has no `Idempotency-Key` one, made once and sent with
   * every attempt, so that it is retried: `true` makes a random UUID, a function makes your own.
   * Only for servers that honour the header (Stripe, the IETF draft's). @defaultValue `false`
   */
  readonly idempotencyKey?: boolean | (() => string) | undefined;
}

/** The failures that are retried: network errors, and retryable statuses (thrown as HttpError). */
// biome-ignore lint/complexity/noStaticOnlyClass: a static Symbol.hasInstance is a matcher for `exception`.
class Retryable {
  static [Symbol.hasInstance](error: unknown): boolean {
    return error instanceof HttpError || isNetworkError(error);
  }
}

/** A request that cannot be sent again: a stream body given in `init`, or a used Request's. */
function oneShotBody(input: RequestInfo | URL, init: RequestInit | undefined): boolean {
  const body = init?.body as unknown;
  if (body !== undefined && body !== null) {
    // A stream, or an async iterable (undici sends those as a stream): read once, gone.
    return (
      (typeof ReadableStream === 'function' && body instanceof ReadableStream) ||
      typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
    );
  }
  return typeof Request === 'function' && input instanceof Request && input.bodyUsed;
}

/** A copy of the headers a request is sent with: init's, which replace a Request's, as in fetch. */
function requestHeaders(input: RequestInfo | URL, init: RequestInit | undefined): Headers {
  return new Headers(
    init?.headers ??
      (typeof Request === 'function' && input instanceof Request ? input.headers : undefined),
  );
}

function hasIdempotencyKey(input: RequestInfo | URL, init: RequestInit | undefined): boolean {
  return requestHeaders(input, init).has('idempotency-key');
}

function describeRequest(input: RequestInfo | URL, init: RequestInit | undefined): FetchRequest {
  const isRequest = typeof Request === 'function' && input instanceof Request;
  const method = (init?.method ?? (isRequest ? input.method : 'GET')).toUpperCase();
  const url = isRequest ? input.url : String(input);
  return { method, url };
}

/** The methods HTTP's semantic conventions (1.26.0) name; any other is reported as `_OTHER`. */
const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
]);

/**
 * A request's attributes in telemetry, as OpenTelemetry's HTTP client conventions name them:
 * `http.request.method`, `server.address` and `server.port` (the URL's, else its scheme's).
 */
function httpAttributes(args: readonly unknown[]): Record<string, string | number> {
  const { method, url } = args[0] as Sent;
  const attributes: Record<string, string | number> = {
    'http.request.method': KNOWN_METHODS.has(method) ? method : '_OTHER',
  };
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (parsed !== undefined && parsed.hostname !== '') {
    attributes['server.address'] = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = parsed.port === '' ? DEFAULT_PORTS[parsed.protocol] : Number(parsed.port);
    if (port !== undefined) attributes['server.port'] = port;
  }
  return attributes;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

function checkStatuses(value: Iterable<number> | undefined): ReadonlySet<number> {
  if (value === undefined) return new Set(STATUSES);
  if (typeof (value as Iterable<number>)?.[Symbol.iterator] !== 'function') {
    throw typeError('statuses', 'an iterable of HTTP statuses', value);
  }
  const statuses = new Set<number>();
  for (const status of value) {
    checkNumber(
      'statuses',
      status,
      'HTTP statuses (integers 100–599)',
      (s) => Number.isInteger(s) && s >= 100 && s <= 599,
    );
    statuses.add(status);
  }
  return statuses;
}

function checkMethods(value: Iterable<string> | undefined): ReadonlySet<string> {
  if (value === undefined) return new Set(METHODS);
  if (
    typeof value === 'string' ||
    typeof (value as Iterable<string>)?.[Symbol.iterator] !== 'function'
  ) {
    throw typeError('methods', 'an iterable of HTTP methods', value);
  }
  const methods = new Set<string>();
  for (const method of value) {
    if (typeof method !== 'string') throw typeError('methods', 'HTTP method names', method);
    methods.add(method.toUpperCase());
  }
  return methods;
}

/**
 * Makes a `fetch` that retries: network errors (undici's `TypeError: fetch failed` with a cause
 * such as `ECONNRESET`, the browsers' "Failed to fetch" …) and the `statuses` (408, 425, 429, 500,
 * 502, 503, 504), on idempotent requests only (or with an `Idempotency-Key`), at most 3 times by
 * default (`maxTries: 4`). It waits what the server asks (`Retry-After`, `retry-after-ms`, and on a
 * 429 `RateLimit-Reset`), up to `maxServerWait` (a longer one gives up), else `expo` with full jitter. The body of every
 * response it discards is cancelled, so its connection is freed. The request's signal (`init.signal`,
 * else a `Request`'s own) governs it as `fetch`'s does — a wait, the attempt in flight, the body of
 * the response — and is never retried; `signal` in the options does the same for every call. A
 * request sent once (not idempotent, a one-shot body) keeps `timeout`, the handlers and telemetry.
 * `undefined` options are as if left out. Like `fetch`, it resolves with the last
 * `Response` when it gives up on statuses (`throwHttpErrors`: rejects with an {@link HttpError}) and
 * rejects with the last error after network errors. A request whose body is a one-shot stream is
 * sent once.
 *
 * @param options - {@link RetryFetchOptions}: the HTTP rules and the retry options (seconds)
 * @returns a function with `fetch`'s signature
 * @throws `TypeError` / `RangeError` for bad options, naming the option and the value
 * @example
 * ```ts
 * const fetchWithRetry = retryFetch({ maxTries: 5, timeout: 10, maxTime: 60 });
 * const response = await fetchWithRetry(url, { signal: AbortSignal.timeout(30_000) });
 * ```
 */
export function retryFetch(options: RetryFetchOptions = {}): typeof fetch {
  if (typeof options !== 'object' || options === null)
    throw typeError('options', 'an object', options);
  const {
    fetch: given,
    statuses: statusOption,
    methods: methodOption,
    maxServerWait = 60,
    fallback = expo,
    fallbackOptions = { factor: 0.5, maxValue: 30 },
    throwHttpErrors = false,
    onBackoff,
    retryCountHeader,
    idempotencyKey = false,
    ...loopOptions
  } = options;
  if (given !== undefined && typeof given !== 'function')
    throw typeError('fetch', 'a fetch function', given);
  if (typeof throwHttpErrors !== 'boolean')
    throw typeError('throwHttpErrors', 'a boolean', throwHttpErrors);
  if (retryCountHeader !== undefined && typeof retryCountHeader !== 'string')
    throw typeError('retryCountHeader', 'a header name', retryCountHeader);
  if (typeof idempotencyKey !== 'boolean' && typeof idempotencyKey !== 'function')
    throw typeError('idempotencyKey', 'a boolean or a function returning a key', idempotencyKey);
  if ((loopOptions as { raiseOnGiveup?: unknown }).raiseOnGiveup != null) {
    throw new TypeError(
      '`raiseOnGiveup` is not an option of retryFetch: like fetch, it resolves with the last Response after statuses and rejects after network errors, where there is no Response',
    );
  }
  const statuses = checkStatuses(statusOption);
  const methods = checkMethods(methodOption);
  // The signal of every call, besides each request's own; checked here, kept out of the plan, so
  // that one signal per request (the two combined) governs the attempts and the response's body.
  const { signal: everyCall, ...planOptions } = loopOptions;
  const callsSignal = checkSignal(everyCall);
  // The caller's onBackoff handlers, read once and checked as the option table checks them.
  const backoffHandlers = [discard, ...(handlerList('onBackoff', onBackoff) ?? [])];
  const loop = {
    ...planOptions,
    name: planOptions.name ?? 'fetch',
    maxServerWait,
    fallback,
    fallbackOptions,
    // The response of a status about to be retried is discarded: free its connection first.
    onBackoff: backoffHandlers,
  };
  // Two plans, made once (a bad option fails here, not at the first request): the retrying one,
  // and one try for the requests that cannot be sent twice, which still get the timeout, the
  // handlers, the log lines and telemetry.
  const plan = (maxTries: unknown) =>
    makePlan({
      api: 'retryFetch',
      wait: retryAfter,
      catches: catcher(Retryable),
      predicate: undefined,
      options: { ...loop, maxTries },
      sync: false,
      clock: waitingClock,
      blockForm: false,
      attributes: httpAttributes,
    });
  // An `undefined` is as if left out: the default stands (an unbounded HTTP retry never is one).
  const retrying = plan(planOptions.maxTries === undefined ? 4 : planOptions.maxTries);
  const once = plan(1);
  // Read from the plan, which checked the option: a per-attempt time limit.
  const timed = retrying.timeout !== undefined;

  const attempt = async function fetch(request: Sent): Promise<Response> {
    const base = given ?? globalThis.fetch;
    // Every field of init, inherited ones too, as fetch reads them.
    const attemptInit: Record<string, unknown> = {};
    for (const key in request.init)
      attemptInit[key] = (request.init as Record<string, unknown>)[key];
    // The request's signal governs the response too, as fetch's does; with a timeout, the attempt's
    // signal (which aborts when its time is up) joins it while the attempt runs.
    const { signal, key } = request;
    if (retryCountHeader !== undefined || key !== undefined) {
      const headers = requestHeaders(request.input, request.init);
      if (retryCountHeader !== undefined) headers.set(retryCountHeader, String(request.retries));
      if (key !== undefined) headers.set('idempotency-key', key);
      attemptInit.headers = headers;
    }
    request.retries += 1;
    if (timed) {
      const own = attemptSignal();
      attemptInit.signal = signal === undefined ? own : AbortSignal.any([signal, own]);
    } else if (signal !== undefined) attemptInit.signal = signal;
    // A Request is cloned for each attempt that may be followed by another, so its body is whole.
    const input =
      !request.once && typeof Request === 'function' && request.input instanceof Request
        ? request.input.clone()
        : request.input;
    const response = await base(input, attemptInit as RequestInit);
    // The server's own word first on a response that is not ok (`x-should-retry`, as OpenAI's and
    // Anthropic's APIs send it, and their SDKs read it).
    const should = response.ok ? null : response.headers.get('x-should-retry');
    if (should === 'true' || (should !== 'false' && statuses.has(response.status))) {
      throw new HttpError(response);
    }
    return response;
  };

  return async function retryingFetch(
    input: RequestInfo | URL,
    init?: RequestInit,
  ): Promise<Response> {
    const request = describeRequest(input, init);
    const keyed = hasIdempotencyKey(input, init);
    // A key made for this request, once, when asked for: it makes the request safe to retry.
    const key =
      idempotencyKey === false || keyed || methods.has(request.method)
        ? undefined
        : idempotencyKey === true
          ? crypto.randomUUID()
          : checkKey(idempotencyKey());
    const notRetried = oneShotBody(input, init)
      ? 'body'
      : methods.has(request.method) || keyed || key !== undefined
        ? undefined
        : 'method';
    // The request's signal: init's, else the Request's own (init.signal: null means none), checked
    // as fetch checks it, but here, before a timer can trip on what is not a signal.
    const own =
      init?.signal !== undefined
        ? checkSignal(init.signal, 'init.signal')
        : typeof Request === 'function' && input instanceof Request
          ? input.signal
          : undefined;
    const signal = callSignal(callsSignal, own === undefined ? undefined : { signal: own });
    const sent: Sent = {
      ...request,
      input,
      init,
      signal,
      once: notRetried !== undefined,
      key,
      retries: 0,
    };
    let response: Response;
    try {
      // Sent once where it cannot be sent twice: never a body twice, never a truncated one.
      response = (await callAsync(notRetried ? once : retrying, attempt, undefined, [sent], {
        signal,
      })) as Response;
    } catch (error) {
      // Giving up on a status: like fetch, the last response (its body unread).
      if (!(error instanceof HttpError)) throw error;
      if (throwHttpErrors) throw notRetried ? new HttpError(error.response, notRetried) : error;
      return error.response;
    }
    if (throwHttpErrors && !response.ok) throw new HttpError(response);
    return response;
  } as typeof fetch;
}

/** What an `idempotencyKey` function made: a non-empty string. */
function checkKey(key: unknown): string {
  if (typeof key === 'string' && key !== '') return key;
  throw typeError('idempotencyKey()', 'a non-empty string', key);
}

/** What an attempt of a {@link retryFetch} call is given: `details.args[0]` in its handlers. */
interface Sent extends FetchRequest {
  readonly input: RequestInfo | URL;
  readonly init: RequestInit | undefined;
  /** The request's signal, with the one of every call if both are set. */
  readonly signal: AbortSignal | undefined;
  /** Sent once, never again: a Request is not cloned for it. */
  readonly once: boolean;
  /** The `Idempotency-Key` made for this request (`idempotencyKey`), if one was. */
  readonly key: string | undefined;
  /** How many attempts went out before the next one. */
  retries: number;
}

/**
 * The most of a discarded body that is read to its end, during the wait, so that its connection
 * serves the next attempt; a longer one is cancelled, which closes its connection. Measured on
 * loopback, 4 attempts of a 503 with waits of 50, 100 and 200 ms: bodies of 64 KiB and 256 KiB
 * opened 4 connections when cancelled and 1 when drained; 1 KiB ones 1 either way (undici had read
 * them already); 4 MiB ones 4 (cancelled). Reading costs the body's bytes and a new connection a
 * handshake (one round trip, two with TLS): at 10 MB/s and 50 ms a round trip, reading 256 KiB
 * (26 ms) is the cheaper up to about there.
 */
const DRAIN_BYTES = 256 * 1024;

/**
 * The `onBackoff` handler that frees a discarded response's connection: drains it, or cancels it.
 * Not awaited: a body the server dribbles out (or stalls) never holds up the retry.
 */
function discard(details: { exception?: unknown }): void {
  if (!(details.exception instanceof HttpError)) return;
  const body = details.exception.response.body;
  if (body === null || body.locked) return;
  void drain(body.getReader());
}

/** Reads `reader` to its end, or cancels it past {@link DRAIN_BYTES}. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    let read = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
      if (read > DRAIN_BYTES) break;
    }
    await reader.cancel();
  } catch {
    // A body that fails to read or cancel holds nothing any more.
  }
}
