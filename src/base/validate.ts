/**
 * Bad input gets a clear error: helpers that name the option and show the value.
 *
 * @module
 */

/** Renders a value for an error message: short, unambiguous, never throws. */
export function show(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'bigint':
      return `${value}n`;
    case 'function':
      return value.name ? `function ${value.name}` : 'an anonymous function';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `an array of ${value.length}`;
      const name = Object.getPrototypeOf(value)?.constructor?.name;
      return name && name !== 'Object' ? `a ${name}` : 'an object';
    }
    default:
      return Object.is(value, -0) ? '-0' : String(value);
  }
}

/** A `TypeError` whose message says what `name` should be and what it was. */
export function typeError(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`Expected \`${name}\` to be ${expected}, got ${show(value)}`);
}

/** A `RangeError` whose message says what `name` should be and what it was. */
export function rangeError(name: string, expected: string, value: unknown): RangeError {
  return new RangeError(`Expected \`${name}\` to be ${expected}, got ${show(value)}`);
}

/** Checks that `value` is a number (`TypeError` if not) within `accepts` (`RangeError` if not). */
export function checkNumber(
  name: string,
  value: unknown,
  expected: string,
  accepts: (value: number) => boolean,
): number {
  if (typeof value !== 'number') throw typeError(name, expected, value);
  if (!accepts(value)) throw rangeError(name, expected, value);
  return value;
}

/** Checks a duration handed to a clock: a number of seconds >= 0 (not NaN). */
export function checkSeconds(value: unknown): void {
  checkNumber('seconds', value, 'a number >= 0', (v) => v >= 0);
}

/** True for promises and anything else with a `then` method. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Handles a refused thenable's rejection, so that a stray promise the library will not await never
 * becomes an unhandled rejection (which ends a plain `node` process). A thenable whose `then`
 * throws is left alone: nothing can be awaited of it.
 */
export function ignoreRejection(thenable: PromiseLike<unknown>): void {
  try {
    Promise.resolve(thenable).then(undefined, () => {});
  } catch {
    // Only a native promise whose `constructor` getter throws gets here: nothing to await.
  }
}

/**
 * The error for a thenable where a plain value was due. The stray promise's rejection is handled
 * here, so it never becomes an unhandled rejection.
 */
export function thenableError(
  what: string,
  thenable: PromiseLike<unknown>,
  hint: string,
): TypeError {
  ignoreRejection(thenable);
  return new TypeError(`${what} returned a Promise (or another thenable): ${hint}`);
}

/**
 * `value` as the `name` option's signal: `undefined` for none, else a `TypeError` unless it is an
 * `AbortSignal`. Duck-typed, so that a signal of another realm (an iframe, a polyfill) is accepted
 * too; every member the waits use is checked here, so that none is missed later, from a timer.
 */
export function checkSignal(value: unknown, name = 'signal'): AbortSignal | undefined {
  if (value === undefined || value === null) return undefined;
  const signal = value as AbortSignal;
  if (
    typeof signal.aborted !== 'boolean' ||
    typeof signal.addEventListener !== 'function' ||
    typeof signal.removeEventListener !== 'function'
  ) {
    throw typeError(name, 'an AbortSignal', value);
  }
  return signal;
}
