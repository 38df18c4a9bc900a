/**
 * Wait generators: the sequences of waits (seconds) between attempts.
 *
 * @module
 */

import { checkNumber, typeError } from '../base/validate.js';

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

/** Checks one option of a wait generator, naming it in the error. @internal */
export type OptionCheck = (name: string, value: unknown) => void;

/** What each built-in generator accepts, checked when the decorator is made. @internal */
export interface OptionRules {
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

/** The context of a generator called by hand, outside the loop. @internal */
export const defaultContext: WaitContext = { random: Math.random };

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
 *
 * @internal
 */
export function withOptionRules<G extends object>(
  generator: G,
  known: OptionRules,
  jittered = false,
): G {
  rules.set(generator, known);
  if (jittered) prejittered.add(generator);
  return generator;
}

/**
 * What the built-in wait generators return: an iterator of waits in seconds that is iterable too
 * (`[...take(expo(), 5)]`). `Return` is `never` for the endless ones.
 *
 * @example
 * ```ts
 * const waits: WaitIterator<never> = backoff.expo({ maxValue: 8 });
 * waits.next().value; // 1
 * ```
 */
export type WaitIterator<Return = unknown> = Iterator<number, Return, unknown> & Iterable<number>;

/**
 * A sequence of waits. The built-in generators' iterators are small objects rather than
 * `function*` generators: an iterator lives as long as a call that waits, and a generator keeps
 * its whole frame (about four times the bytes: 1354 -> 1243 B per pending retry with expo).
 *
 * @internal
 */
export abstract class Waits<Return = never>
  implements Iterator<number, Return, unknown>, Iterable<number>
{
  abstract next(outcome?: unknown): IteratorResult<number, Return>;
  [Symbol.iterator](): this {
    return this;
  }
}

/** `constant`'s waits from an iterable: its iterator's, then done. */
class Delegated extends Waits<unknown> {
  private readonly waits: Iterator<number, unknown, unknown>;
  constructor(waits: Iterator<number, unknown, unknown>) {
    super();
    this.waits = waits;
  }
  next(): IteratorResult<number, unknown> {
    return this.waits.next();
  }
}

/** `decorrelated`'s waits: each uniform in [base, 3 × the previous], capped. */
class Decorrelated extends Waits {
  private previous: number;
  private readonly base: number;
  private readonly cap: number;
  private readonly random: () => number;
  constructor(base: number, cap: number, random: () => number) {
    super();
    this.previous = base;
    this.base = base;
    this.cap = cap;
    this.random = random;
  }
  next(): IteratorResult<number, never> {
    const next = this.base + this.random() * (3 * this.previous - this.base);
    this.previous = Math.min(this.cap, Number.isFinite(next) ? next : this.previous);
    return { done: false, value: this.previous };
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
export const expo: (options?: ExpoOptions) => WaitIterator<never> = /* @__PURE__ */ withOptionRules(
  function expo(options?: ExpoOptions): WaitIterator<never> {
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
export const decay: (options?: DecayOptions) => WaitIterator<never> =
  /* @__PURE__ */ withOptionRules(
    function decay(options?: DecayOptions): WaitIterator<never> {
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
export const fibo: (options?: FiboOptions) => WaitIterator<never> = /* @__PURE__ */ withOptionRules(
  function fibo(options?: FiboOptions): WaitIterator<never> {
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
export const constant: (options?: ConstantOptions) => WaitIterator =
  /* @__PURE__ */ withOptionRules(
    function constant(options?: ConstantOptions): WaitIterator {
      const { interval = 1 } = options ?? {};
      if (typeof interval === 'number') return new Repeat(interval);
      // Wrapped, since a user's iterable may give an iterator that is not iterable itself.
      return new Delegated(interval[Symbol.iterator]());
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
export const runtime: (options: RuntimeOptions) => WaitIterator<never> =
  /* @__PURE__ */ withOptionRules(
    function runtime(options: RuntimeOptions): WaitIterator<never> {
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
) => WaitIterator<never> = /* @__PURE__ */ withOptionRules(
  function decorrelated(options?: DecorrelatedOptions, context?: WaitContext): WaitIterator<never> {
    const { base = 1 } = options ?? {};
    const cap = options?.maxValue ?? Number.MAX_VALUE;
    return new Decorrelated(base, cap, (context ?? defaultContext).random);
  },
  {
    generator: 'decorrelated',
    checks: { base: seconds, maxValue: optionalSeconds },
  },
  true,
);
