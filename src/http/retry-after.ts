/**
 * Server-directed waits: reading `Retry-After` (and its millisecond cousins) from a response or an
 * error, and the `retryAfter` wait generator built on it.
 *
 * @module
 */

import { checkNumber, typeError } from '../base/validate.js';
import {
  checkWaitOptions,
  defaultContext,
  expo,
  type WaitContext,
  type WaitIterator,
  Waits,
  withOptionRules,
} from '../waits/wait-gen.js';

/**
 * What a wait generator's step may add to say that its wait came from the server (a `Retry-After`
 * header, say): such a wait is a floor — never jittered, never cut to fit `maxTime` (a wait past
 * `maxTime` gives up at once, reason `'maxTime'`). Your own generators may return it too.
 *
 * @example
 * ```ts
 * const fromHeader: WaitGenerator = () => ({
 *   next: (response?: unknown): IteratorResult<number> & ServerDirected => ({
 *     done: false,
 *     value: Number((response as Response).headers.get('retry-after')),
 *     fromServer: true,
 *   }),
 * });
 * ```
 */
export interface ServerDirected {
  /** `true`: the wait is the server's, a floor for the next attempt. */
  readonly fromServer?: boolean;
  /** `true`: the server asked for a wait past `maxServerWait` (or one too long to count): give up. */
  readonly tooLong?: boolean;
}

/**
 * Options of {@link retryAfter}. A `fallback` generator with no parameters (a bare `function*`) counts
 * as a lazy option and would be called: pass it as `() => myGenerator`.
 *
 * @example
 * ```ts
 * const options: RetryAfterOptions = { maxServerWait: 120, fallback: fibo, fallbackOptions: { maxValue: 30 } };
 * ```
 */
export interface RetryAfterOptions {
  /**
   * The longest server-directed wait, in seconds: a server that asks for longer is not retried
   * (the call gives up, reason `'serverWait'`), since any earlier retry is one it refused.
   * @defaultValue unbounded
   */
  readonly maxServerWait?: number | undefined;
  /** Cut a longer server-directed wait to `maxServerWait` and retry then, instead of giving up. @defaultValue `false` */
  readonly cutServerWait?: boolean | undefined;
  /** The wait generator used when the answer has no usable header. @defaultValue {@link expo} */
  readonly fallback?:
    | ((options: never, context: WaitContext) => Iterator<number, unknown, unknown>)
    | undefined;
  /** The fallback generator's options. @defaultValue `{}` */
  readonly fallbackOptions?: Readonly<Record<string, unknown>> | undefined;
}

type HeaderReader = (name: string) => unknown;

/** Finds the headers of a fetch Response, or of an error carrying `response` or `headers`. */
function headersOf(outcome: unknown, depth = 0): HeaderReader | undefined {
  if (typeof outcome !== 'object' || outcome === null || depth > 1) return undefined;
  const { headers, response } = outcome as { headers?: unknown; response?: unknown };
  if (typeof headers === 'object' && headers !== null) {
    const get = (headers as { get?: unknown }).get;
    if (typeof get === 'function') return (name) => get.call(headers, name);
    const plain = headers as Record<string, unknown>;
    return (name) => {
      for (const key of Object.keys(plain)) if (key.toLowerCase() === name) return plain[key];
      return undefined;
    };
  }
  return headersOf(response, depth + 1);
}

const NUMBER = /^\s*\d+(\.\d+)?\s*$/;

/** The status of a Response, or of an error carrying one. */
function statusOf(outcome: unknown): unknown {
  const { status, response } = outcome as { status?: unknown; response?: { status?: unknown } };
  return (
    status ?? (typeof response === 'object' && response !== null ? response.status : undefined)
  );
}

/**
 * Seconds until a rate limit resets, from a 429's `RateLimit-Reset` (the IETF draft: delta-seconds)
 * or `X-RateLimit-Reset`, which services send as delta-seconds or as a Unix time in seconds (GitHub):
 * a value past 10^9 (2001) can only be a time, a smaller one only a delta.
 */
function rateLimitReset(read: HeaderReader, now: number): number | undefined {
  for (const name of ['ratelimit-reset', 'x-ratelimit-reset']) {
    const value = read(name);
    if (typeof value !== 'string' || !NUMBER.test(value)) continue;
    const seconds = Number(value);
    return seconds >= 1e9 ? Math.max(0, seconds - now / 1000) : seconds;
  }
  return undefined;
}

/**
 * The wait a server asked for, in seconds: `retry-after-ms`, `x-amz-retry-after` (milliseconds),
 * or `Retry-After` (delta-seconds or an HTTP-date); on a 429 without them, `RateLimit-Reset` or
 * `X-RateLimit-Reset`. A malformed value is ignored.
 *
 * @internal
 */
export function serverWait(outcome: unknown, now: number = Date.now()): number | undefined {
  const read = headersOf(outcome);
  if (read === undefined) return undefined;
  for (const name of ['retry-after-ms', 'x-amz-retry-after']) {
    const value = read(name);
    if (typeof value === 'string' && NUMBER.test(value)) return Number(value) / 1000;
  }
  const value = read('retry-after');
  if (typeof value === 'string') {
    if (NUMBER.test(value)) return Number(value);
    const date = Date.parse(value);
    if (!Number.isNaN(date) && /[a-z]/i.test(value)) return Math.max(0, (date - now) / 1000);
  }
  return statusOf(outcome) === 429 ? rateLimitReset(read, now) : undefined;
}

/** `retryAfter`'s waits: the server's where it says one, else the fallback generator's. */
class ServerWaits extends Waits<unknown> {
  private readonly maxServerWait: number;
  private readonly cut: boolean;
  private readonly makeFallback: () => Iterator<number, unknown, unknown>;
  private fallback: Iterator<number, unknown, unknown> | undefined = undefined;
  constructor(
    maxServerWait: number,
    cut: boolean,
    makeFallback: () => Iterator<number, unknown, unknown>,
  ) {
    super();
    this.maxServerWait = maxServerWait;
    this.cut = cut;
    this.makeFallback = makeFallback;
  }
  next(outcome?: unknown): IteratorResult<number, unknown> & ServerDirected {
    const directed = this.directed(outcome);
    if (directed !== undefined) return directed;
    this.fallback ??= this.makeFallback();
    return this.fallback.next(outcome);
  }
  /**
   * The server's wait for `outcome`, if it directs one, without advancing the fallback: what a
   * free retry (the `free` option) waits, by the same rules.
   */
  directed(outcome: unknown): (IteratorResult<number, unknown> & ServerDirected) | undefined {
    const server = serverWait(outcome);
    if (server !== undefined) {
      // A wait of 400 digits is Infinity: a server that asks for forever is not retried either.
      if (server <= this.maxServerWait && Number.isFinite(server)) {
        return { done: false, value: server, fromServer: true };
      }
      if (this.cut && Number.isFinite(this.maxServerWait)) {
        return { done: false, value: this.maxServerWait, fromServer: true };
      }
      return { done: false, value: server, tooLong: true };
    }
    return undefined;
  }
}

/**
 * Server-directed waits: the wait a `Retry-After` header asks for (delta-seconds or HTTP-date),
 * or `retry-after-ms` / `x-amz-retry-after` (milliseconds), read from a fetch `Response`
 * (predicate twins) or from an error carrying a `response` or `headers` (exception twins). The
 * server's wait is a floor: never jittered; one past `maxServerWait` gives up at once (reason
 * `'serverWait'`; `cutServerWait: true` waits `maxServerWait` instead), and one that would pass
 * `maxTime` too (reason `'maxTime'`). Without a usable header the `fallback`
 * generator (default {@link expo}) decides, with the jitter as usual.
 *
 * @param options - {@link RetryAfterOptions}: `maxServerWait` (seconds), `fallback`, `fallbackOptions`
 * @param context - passed on to the fallback generator
 * @returns an iterator of waits in seconds
 * @example
 * ```ts
 * const getJson = backoff.onPredicate(
 *   backoff.retryAfter,
 *   (response: Response) => response.status === 429 || response.status === 503,
 *   { maxServerWait: 120, maxTime: 300 },
 * )(fetch);
 * ```
 */
export const retryAfter: (options?: RetryAfterOptions, context?: WaitContext) => WaitIterator =
  /* @__PURE__ */ withOptionRules(
    function retryAfter(
      options?: RetryAfterOptions,
      context: WaitContext = defaultContext,
    ): WaitIterator {
      const {
        maxServerWait = Number.POSITIVE_INFINITY,
        cutServerWait = false,
        fallback = expo,
        fallbackOptions = {},
      } = options ?? {};
      return new ServerWaits(maxServerWait, cutServerWait, () =>
        fallback(fallbackOptions as never, context),
      );
    },
    {
      generator: 'retryAfter',
      checks: {
        maxServerWait: (name, value) =>
          checkNumber(name, value, 'a number of seconds >= 0 or Infinity', (v) => v >= 0),
        cutServerWait: (name, value) => {
          if (typeof value !== 'boolean') throw typeError(name, 'a boolean', value);
        },
        fallback: (name, value) => {
          if (typeof value !== 'function')
            throw typeError(name, 'a wait generator function', value);
        },
        fallbackOptions: (name, value) => {
          if (typeof value !== 'object' || value === null)
            throw typeError(name, 'an object', value);
        },
      },
      together: (options) => {
        checkWaitOptions(
          (options.fallback as object | undefined) ?? expo,
          (options.fallbackOptions as Record<string, unknown> | undefined) ?? {},
        );
      },
    },
  );
