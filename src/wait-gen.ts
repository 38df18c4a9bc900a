/**
 * Wait generators: the sequences of waits (seconds) between attempts.
 *
 * @module
 */

import type { ServerDirected } from './loop.js';
import { checkNumber, typeError } from './validate.js';

/**
 * Options of {@link expo}.
 *
 * @example
 * ```ts
 * const options: ExpoOptions = { base: 2, factor: 0.5, maxValue: 30 };
 * ```
 */
export interface ExpoOptions {
  /** Growth per wait. @defaultValue 2 */
  readonly base?: number | undefined;
  /** The first wait, in seconds. @defaultValue 1 */
  readonly factor?: number | undefined;
  /** The longest wait, in seconds; reached, it repeats forever. @defaultValue unbounded */
  readonly maxValue?: number | null | undefined;
}

/**
 * Options of {@link decay}.
 *
 * @example
 * ```ts
 * const options: DecayOptions = { initialValue: 10, decayFactor: 1, minValue: 1 };
 * ```
 */
export interface DecayOptions {
  /** The first wait, in seconds. @defaultValue 1 */
  readonly initialValue?: number | undefined;
  /** Decay rate per wait: each wait is the previous one times e^(−decayFactor). @defaultValue 1 */
  readonly decayFactor?: number | undefined;
  /** The shortest wait, in seconds; reached, it repeats forever. @defaultValue 0 */
  readonly minValue?: number | null | undefined;
}

/**
 * Options of {@link fibo}.
 *
 * @example
 * ```ts
 * const options: FiboOptions = { maxValue: 13 };
 * ```
 */
export interface FiboOptions {
  /** The longest wait, in seconds; reached, it repeats forever. @defaultValue unbounded */
  readonly maxValue?: number | null | undefined;
}

/**
 * Options of {@link constant}.
 *
 * @example
 * ```ts
 * const options: ConstantOptions = { interval: [1, 2, 5] };
 * ```
 */
export interface ConstantOptions {
  /** Seconds between attempts forever, or the waits of an iterable and then give up. @defaultValue 1 */
  readonly interval?: number | Iterable<number> | undefined;
}

/**
 * Options of {@link runtime}.
 *
 * @example
 * ```ts
 * const options: RuntimeOptions = {
 *   value: (response: Response) => Number(response.headers.get('Retry-After') ?? 1),
 * };
 * ```
 */
export interface RuntimeOptions {
  /**
   * Computes each wait (seconds) from the failed attempt's value (predicate twins) or error
   * (exception twins).
   */
  value(outcome: unknown): number;
}

type OptionCheck = (name: string, value: unknown) => void;

/** What each built-in generator accepts, checked when the decorator is made. */
interface OptionRules {
  readonly generator: string;
  readonly checks: Readonly<Record<string, OptionCheck>>;
  readonly required?: string;
  /** A check of the options together, once each is known to be right. */
  readonly together?: (options: Readonly<Record<string, unknown>>) => void;
}

const rules = new WeakMap<object, OptionRules>();

/** Generators whose values are random already: their default jitter is none. */
const prejittered = new WeakSet<object>();

/**
 * The jitter a generator gets when the `jitter` option is left out: `fallback` (full jitter),
 * except for generators whose values are random already.
 *
 * @internal
 */
export function defaultJitterOf<J>(wait: object, fallback: J): J | null {
  return prejittered.has(wait) ? null : fallback;
}

/**
 * What the retry loop passes to a wait generator besides its options.
 *
 * @example
 * ```ts
 * const coinFlip = (_options: unknown, { random }: WaitContext) => ({
 *   next: () => ({ done: false, value: random() < 0.5 ? 1 : 2 }),
 * });
 * ```
 */
export interface WaitContext {
  /** The random source (the `random` option), uniform in [0, 1). */
  readonly random: () => number;
}

const defaultContext: WaitContext = { random: Math.random };

/**
 * Checks the options of a built-in wait generator: an unknown option (a typo such as `maxtries`)
 * is a `TypeError` that names it; a bad value is a `TypeError` or `RangeError`. Custom generators
 * are not checked here. Options named in `lazy` are checked by name only: their values come later,
 * when a call starts.
 *
 * @internal
 */
export function checkWaitOptions(
  wait: object,
  options: Readonly<Record<string, unknown>>,
  lazy: ReadonlySet<string> = new Set(),
): void {
  const known = rules.get(wait);
  if (known === undefined) return;
  for (const key of Object.keys(options)) {
    const check = known.checks[key];
    if (check === undefined) {
      throw new TypeError(
        `Unknown option \`${key}\`: not an option of the retry loop nor of ${known.generator} ` +
          `(whose options are ${Object.keys(known.checks)
            .map((name) => `\`${name}\``)
            .join(', ')})`,
      );
    }
    if (!lazy.has(key)) check(key, options[key]);
  }
  if (known.required !== undefined && options[known.required] === undefined) {
    throw new TypeError(`The option \`${known.required}\` of ${known.generator} is required`);
  }
  known.together?.(options);
}

/**
 * Registers a built-in generator's option rules (and whether its values are random already).
 * A pure call, so that bundlers drop the generators a program does not use.
 */
function described<G extends object>(generator: G, known: OptionRules, jittered = false): G {
  rules.set(generator, known);
  if (jittered) prejittered.add(generator);
  return generator;
}

/**
 * An endless sequence of waits. The built-in generators' iterators are small objects rather than
 * `function*` generators: an iterator lives as long as a call that waits, and a generator keeps
 * its whole frame (about four times the bytes).
 */
abstract class Waits implements Iterator<number, never, unknown>, Iterable<number> {
  abstract next(outcome?: unknown): IteratorResult<number, never>;
  [Symbol.iterator](): this {
    return this;
  }
}

/** `constant`'s waits: one value forever. */
class Repeat extends Waits {
  private readonly value: number;
  constructor(value: number) {
    super();
    this.value = value;
  }
  next(): IteratorResult<number, never> {
    return { done: false, value: this.value };
  }
}

/** `runtime`'s waits: each computed from the last failed attempt's outcome. */
class Computed extends Waits {
  private readonly value: (outcome: unknown) => number;
  constructor(value: (outcome: unknown) => number) {
    super();
    this.value = value;
  }
  next(outcome?: unknown): IteratorResult<number, never> {
    return { done: false, value: this.value(outcome) };
  }
}

/**
 * Waits that grow until one reaches `maxValue` (then `maxValue` forever) or the next would
 * overflow to infinity (then the last finite one forever).
 */
abstract class Growing extends Waits {
  protected value: number;
  private readonly maxValue: number | null | undefined;
  /** `value` repeats forever. */
  private settled = false;

  constructor(first: number, maxValue: number | null | undefined) {
    super();
    this.value = first;
    this.maxValue = maxValue;
  }

  /** The wait after `value` (infinity where it overflows). */
  protected abstract grown(): number;

  next(): IteratorResult<number, never> {
    const { maxValue } = this;
    // Stryker disable next-line EqualityOperator: a wait equal to maxValue is maxValue either way
    if (!this.settled && maxValue != null && this.value >= maxValue) {
      this.value = maxValue;
      this.settled = true;
    }
    const value = this.value;
    if (!this.settled) {
      const next = this.grown();
      if (next === Number.POSITIVE_INFINITY) this.settled = true;
      else this.value = next;
    }
    return { done: false, value };
  }
}

/** `expo`'s waits: factor·base^n. */
class Exponential extends Growing {
  private readonly base: number;
  constructor(factor: number, base: number, maxValue: number | null | undefined) {
    super(factor, maxValue);
    this.base = base;
  }
  protected grown(): number {
    return this.value * this.base;
  }
}

/** `fibo`'s waits: 1, 1, 2, 3, 5 … */
class Fibonacci extends Growing {
  private previous = 0;
  protected grown(): number {
    const next = this.value + this.previous;
    this.previous = this.value;
    return next;
  }
}

/** `decay`'s waits: shrinking by `step` each time, floored at `minValue`. */
class Shrinking extends Waits {
  private value: number;
  private readonly step: number;
  private readonly minValue: number;

  constructor(first: number, step: number, minValue: number) {
    super();
    this.value = first;
    this.step = step;
    this.minValue = minValue;
  }

  next(): IteratorResult<number, never> {
    const value = this.value;
    // Stryker disable next-line EqualityOperator: a wait equal to minValue is minValue either way
    if (value <= this.minValue) return { done: false, value: this.minValue };
    this.value = value * this.step;
    return { done: false, value };
  }
}

const finitePositive: OptionCheck = (name, value) =>
  checkNumber(name, value, 'a finite number > 0', (v) => Number.isFinite(v) && v > 0);
const seconds: OptionCheck = (name, value) =>
  checkNumber(name, value, 'a finite number of seconds >= 0', (v) => Number.isFinite(v) && v >= 0);
const optionalSeconds: OptionCheck = (name, value) => {
  if (value !== null) seconds(name, value);
};

/**
 * Exponential waits: `factor`·`base`^n seconds for n = 0, 1, 2 …; once a wait reaches
 * `maxValue`, `maxValue` forever. `expo()` → 1, 2, 4, 8 … seconds. (A wait that would overflow to
 * infinity repeats the last finite one instead.)
 *
 * @param options - {@link ExpoOptions}: `base` (default 2), `factor` (default 1 second),
 *   `maxValue` (seconds, default unbounded)
 * @returns an iterator of waits in seconds
 * @example
 * ```ts
 * // waits (before jitter) of 0.5, 1, 2, 4, 8, 10, 10 … seconds
 * backoff.onException(backoff.expo, TypeError, { factor: 0.5, maxValue: 10 });
 * ```
 */
export const expo: (options?: ExpoOptions) => Iterator<number, never, unknown> & Iterable<number> =
  /* @__PURE__ */ described(
    function expo(options?: ExpoOptions): Iterator<number, never, unknown> & Iterable<number> {
      const { base = 2, factor = 1, maxValue } = options ?? {};
      return new Exponential(factor, base, maxValue);
    },
    {
      generator: 'expo',
      checks: { base: finitePositive, factor: seconds, maxValue: optionalSeconds },
    },
  );

/**
 * Decaying waits: `initialValue`·e^(−`decayFactor`·n) seconds for n = 0, 1, 2 …, floored at
 * `minValue`. `decay({ initialValue: 10, decayFactor: 1, minValue: 1 })` → 10, 3.6788, 1.3534,
 * 1, 1 … seconds.
 *
 * @param options - {@link DecayOptions}: `initialValue` (seconds, default 1), `decayFactor`
 *   (default 1), `minValue` (seconds, default 0)
 * @returns an iterator of waits in seconds
 * @example
 * ```ts
 * backoff.onPredicate(backoff.decay, (status) => status === 'busy', { initialValue: 10 });
 * ```
 */
export const decay: (
  options?: DecayOptions,
) => Iterator<number, never, unknown> & Iterable<number> = /* @__PURE__ */ described(
  function decay(options?: DecayOptions): Iterator<number, never, unknown> & Iterable<number> {
    const { initialValue = 1, decayFactor = 1 } = options ?? {};
    return new Shrinking(initialValue, Math.exp(-decayFactor), options?.minValue ?? 0);
  },
  {
    generator: 'decay',
    checks: { initialValue: seconds, decayFactor: seconds, minValue: optionalSeconds },
  },
);

/**
 * Fibonacci waits: 1, 1, 2, 3, 5, 8 … seconds; once a wait reaches `maxValue`, `maxValue`
 * forever. `fibo({ maxValue: 8 })` → 1, 1, 2, 3, 5, 8, 8, 8 … seconds.
 *
 * @param options - {@link FiboOptions}: `maxValue` (seconds, default unbounded)
 * @returns an iterator of waits in seconds
 * @example
 * ```ts
 * backoff.onException(backoff.fibo, TypeError, { maxValue: 13 });
 * ```
 */
export const fibo: (options?: FiboOptions) => Iterator<number, never, unknown> & Iterable<number> =
  /* @__PURE__ */ described(
    function fibo(options?: FiboOptions): Iterator<number, never, unknown> & Iterable<number> {
      return new Fibonacci(1, options?.maxValue);
    },
    { generator: 'fibo', checks: { maxValue: optionalSeconds } },
  );

/**
 * Constant waits: `interval` seconds forever, or the waits of an iterable and then no more (the
 * call gives up). `{ interval: [1, 2, 3] }` → exactly three waits.
 *
 * @param options - {@link ConstantOptions}: `interval` (seconds or an iterable of seconds,
 *   default 1)
 * @returns an iterator of waits in seconds
 * @example
 * ```ts
 * backoff.onPredicate(backoff.constant, (job) => !job.done, { interval: 2, jitter: null });
 * ```
 */
export const constant: (options?: ConstantOptions) => Iterator<number, unknown, unknown> =
  /* @__PURE__ */ described(
    function constant(options?: ConstantOptions): Iterator<number, unknown, unknown> {
      const { interval = 1 } = options ?? {};
      if (typeof interval === 'number') return new Repeat(interval);
      return interval[Symbol.iterator]();
    },
    {
      generator: 'constant',
      checks: {
        interval: (name, value) => {
          if (
            typeof value === 'object' &&
            value !== null &&
            typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function'
          ) {
            return;
          }
          checkNumber(
            name,
            value,
            'a finite number of seconds >= 0 or an iterable of them',
            (v) => Number.isFinite(v) && v >= 0,
          );
        },
      },
    },
  );

/**
 * Waits computed at run time: `value(x)` seconds, `x` being each failed attempt's value
 * (predicate twins) or error (exception twins) — for example a `Retry-After` header. Usually used
 * with `jitter: null`.
 *
 * @param options - {@link RuntimeOptions}: `value` (required)
 * @returns an iterator of waits in seconds
 * @example
 * ```ts
 * backoff.onPredicate(backoff.runtime, (response: Response) => response.status === 429, {
 *   value: (response: Response) => Number(response.headers.get('Retry-After')),
 *   jitter: null,
 * });
 * ```
 */
export const runtime: (options: RuntimeOptions) => Iterator<number, unknown, unknown> =
  /* @__PURE__ */ described(
    function runtime(options: RuntimeOptions): Iterator<number, unknown, unknown> {
      return new Computed(options.value);
    },
    {
      generator: 'runtime',
      checks: {
        value: (name, value) => {
          if (typeof value !== 'function') {
            throw typeError(name, 'a function (outcome) => seconds', value);
          }
        },
      },
      required: 'value',
    },
  );

/**
 * Options of {@link decorrelated}.
 *
 * @example
 * ```ts
 * const options: DecorrelatedOptions = { base: 0.5, maxValue: 30 };
 * ```
 */
export interface DecorrelatedOptions {
  /** The shortest wait, in seconds. @defaultValue 1 */
  readonly base?: number | undefined;
  /** The longest wait, in seconds. @defaultValue unbounded */
  readonly maxValue?: number | null | undefined;
}

/**
 * Decorrelated jitter (AWS): each wait is uniform in [`base`, 3 × the previous wait], capped at
 * `maxValue`. The waits are random already, so the default jitter for this generator is none. Fits
 * many clients retrying one service: it spreads them out like full jitter while the typical wait
 * still grows.
 *
 * @param options - {@link DecorrelatedOptions}: `base` (seconds, default 1), `maxValue` (seconds,
 *   default unbounded)
 * @param context - the random source ({@link WaitContext}); the loop passes the `random` option
 * @returns an iterator of waits in seconds
 * @example
 * ```ts
 * backoff.onException(backoff.decorrelated, TypeError, { base: 0.5, maxValue: 30 });
 * ```
 */
export const decorrelated: (
  options?: DecorrelatedOptions,
  context?: WaitContext,
) => Iterator<number, unknown, unknown> = /* @__PURE__ */ described(
  function decorrelated(
    options?: DecorrelatedOptions,
    context?: WaitContext,
  ): Iterator<number, unknown, unknown> {
    const { base = 1 } = options ?? {};
    const cap = options?.maxValue ?? Number.MAX_VALUE;
    const { random } = context ?? defaultContext;
    let previous = base;
    return {
      next: () => {
        const next = base + random() * (3 * previous - base);
        previous = Math.min(cap, Number.isFinite(next) ? next : previous);
        return { done: false, value: previous };
      },
    };
  },
  {
    generator: 'decorrelated',
    checks: { base: seconds, maxValue: optionalSeconds },
  },
  true,
);

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
  /** The longest server-directed wait, in seconds: a longer `Retry-After` is cut to it. @defaultValue unbounded */
  readonly maxServerWait?: number | undefined;
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

/**
 * The wait a server asked for, in seconds: `retry-after-ms`, `x-amz-retry-after` (milliseconds),
 * or `Retry-After` (delta-seconds or an HTTP-date). A malformed value is ignored.
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
  if (typeof value !== 'string') return undefined;
  if (NUMBER.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) || !/[a-z]/i.test(value) ? undefined : Math.max(0, (date - now) / 1000);
}

/**
 * Server-directed waits: the wait a `Retry-After` header asks for (delta-seconds or HTTP-date),
 * or `retry-after-ms` / `x-amz-retry-after` (milliseconds), read from a fetch `Response`
 * (predicate twins) or from an error carrying a `response` or `headers` (exception twins). The
 * server's wait is a floor: never jittered, cut only by `maxServerWait`; one that would pass
 * `maxTime` gives up at once (reason `'maxTime'`). Without a usable header the `fallback`
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
export const retryAfter: (
  options?: RetryAfterOptions,
  context?: WaitContext,
) => Iterator<number, unknown, unknown> = /* @__PURE__ */ described(
  function retryAfter(
    options?: RetryAfterOptions,
    context: WaitContext = defaultContext,
  ): Iterator<number, unknown, unknown> {
    const {
      maxServerWait = Number.POSITIVE_INFINITY,
      fallback = expo,
      fallbackOptions = {},
    } = options ?? {};
    let fallbackWaits: Iterator<number, unknown, unknown> | undefined;
    return {
      next: (outcome?: unknown): IteratorResult<number, unknown> & ServerDirected => {
        const server = serverWait(outcome);
        if (server !== undefined) {
          return { done: false, value: Math.min(server, maxServerWait), fromServer: true };
        }
        fallbackWaits ??= fallback(fallbackOptions as never, context);
        return fallbackWaits.next(outcome);
      },
    };
  },
  {
    generator: 'retryAfter',
    checks: {
      maxServerWait: (name, value) =>
        checkNumber(name, value, 'a number of seconds >= 0 or Infinity', (v) => v >= 0),
      fallback: (name, value) => {
        if (typeof value !== 'function') throw typeError(name, 'a wait generator function', value);
      },
      fallbackOptions: (name, value) => {
        if (typeof value !== 'object' || value === null) throw typeError(name, 'an object', value);
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
