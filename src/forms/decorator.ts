/**
 * The decorators: `onException` / `onPredicate` and their blocking twins.
 *
 * @module
 */

import { blockingClock, type Clock, waitingClock } from '../base/clock.js';
import { typeError } from '../base/validate.js';
import { wrapAsync, wrapSync } from '../engine/drivers.js';
import { catcher, makePlan } from '../plan/options.js';
import type { Plan } from '../plan/plan.js';
import type {
  AsyncDecorator,
  AsyncOptions,
  ErrorClass,
  InstanceOf,
  Predicate,
  PredicateOptionsParameter,
  QuietExceptionOptions,
  RaisingExceptionOptionsParameter,
  SyncDecorator,
  WaitGenerator,
} from '../types.js';

type Target = (...args: never[]) => unknown;
type Wrap = (plan: Plan, target: Target) => (...args: unknown[]) => unknown;

/** What tells the twins apart: the driver and the default clock (each with only what it uses). */
interface Twin {
  readonly sync: boolean;
  readonly wrap: Wrap;
  readonly clock: Clock;
}
// Two objects, so that a bundle holds only the twin it uses.
const ASYNC: Twin = { sync: false, wrap: wrapAsync, clock: waitingClock };
const SYNC: Twin = { sync: true, wrap: wrapSync, clock: blockingClock };

/** Python's `operator.not_`: retry while the value is falsy. */
const falsy = (value: unknown): boolean => !value;
// Stryker disable next-line ArrowFunction: undefined is as false here
const never = (): boolean => false;

const KINDS: Record<string, string> = {
  class: 'a class',
  field: 'a field',
  accessor: 'an auto-accessor',
  getter: 'a getter',
  setter: 'a setter',
};

/**
 * The decorator returned to the user: wraps a function (plain call), replaces a method
 * (TypeScript 5 standard decorator) or a method's descriptor (legacy experimentalDecorators).
 */
function decoratorFor(api: string, plan: Plan, wrap: Wrap): unknown {
  const wrapNamed = (target: Target): unknown => {
    const wrapped = wrap(plan, target);
    Object.defineProperty(wrapped, 'name', { value: target.name, configurable: true });
    return wrapped;
  };
  return function decorate(
    target: unknown,
    context?: unknown,
    descriptor?: PropertyDescriptor,
  ): unknown {
    if (typeof context === 'string' || typeof context === 'symbol') {
      // Legacy decorator: (prototype or class, key, descriptor).
      if (typeof descriptor?.value !== 'function') {
        throw new TypeError(
          `${api} decorates methods only; \`${String(context)}\` is not a method`,
        );
      }
      return { ...descriptor, value: wrapNamed(descriptor.value) };
    }
    // A standard decorator's context; a plain call has none.
    const member = context as { kind?: string; name?: unknown } | undefined;
    if (member?.kind !== undefined && member.kind !== 'method') {
      throw new TypeError(
        `${api} decorates methods only; \`${String(member.name)}\` is ${KINDS[member.kind] ?? member.kind}`,
      );
    }
    if (typeof target !== 'function') throw typeError('target', 'a function to wrap', target);
    return wrapNamed(target as Target);
  };
}

/**
 * Retries an async (or sync) function while it throws one of the `exception` classes, waiting
 * between attempts as `wait` says (seconds). The wrapper always returns a Promise; giving up
 * rethrows the last error, the very object the target threw (or returns `undefined` with
 * `raiseOnGiveup: false`). Any other error propagates at once. Every callback — `giveup`, each
 * handler — may be async and is awaited.
 *
 * @param wait - the wait generator: {@link expo}, {@link fibo}, {@link constant}, {@link decay},
 *   {@link runtime} or your own
 * @param exception - an error class or an array of them, matched with `instanceof`
 * @param options - the retry options (`maxTries`, `maxTime` in seconds, `jitter`, `giveup`,
 *   handlers, logging …) and the wait generator's own options
 * @returns a decorator: call it on a function, or use it as a method decorator
 * @throws `TypeError` / `RangeError` for bad arguments, naming the option and the value
 * @see {@link onExceptionSync} for blocking code
 * @example
 * ```ts
 * import * as backoff from 'backoff-ts';
 *
 * const getJson = backoff.onException(backoff.expo, TypeError, { maxTime: 60 })(
 *   async (url: string) => (await fetch(url)).json(),
 * );
 * ```
 */
export function onException<W extends WaitGenerator, const E extends ErrorClass>(
  wait: W,
  exception: E | readonly E[],
  ...options: RaisingExceptionOptionsParameter<W, InstanceOf<E>, AsyncOptions>
): AsyncDecorator;
export function onException<W extends WaitGenerator, const E extends ErrorClass>(
  wait: W,
  exception: E | readonly E[],
  options: QuietExceptionOptions<W, InstanceOf<E>, AsyncOptions>,
): AsyncDecorator<undefined>;
export function onException(wait: unknown, exception: unknown, options?: unknown): unknown {
  return makeDecorator('onException', ASYNC, wait, catcher(exception), undefined, options);
}

/**
 * The blocking twin of {@link onException}: retries a sync function while it throws one of the
 * `exception` classes, sleeping with `Atomics.wait` between attempts (works in Node, Deno, Bun
 * and workers, not on a browser's main thread). A target or callback that returns a Promise is
 * a `TypeError`: async code needs the async twin.
 *
 * @param wait - the wait generator
 * @param exception - an error class or an array of them, matched with `instanceof`
 * @param options - the retry options and the wait generator's own options
 * @returns a decorator: call it on a function, or use it as a method decorator
 * @throws `TypeError` / `RangeError` for bad arguments, naming the option and the value
 * @see {@link onException} for async code
 * @example
 * ```ts
 * const readConfig = backoff.onExceptionSync(backoff.constant, SyntaxError, { interval: 0.1, maxTries: 3 })(
 *   (path: string) => JSON.parse(readFileSync(path, 'utf8')),
 * );
 * ```
 */
export function onExceptionSync<W extends WaitGenerator, const E extends ErrorClass>(
  wait: W,
  exception: E | readonly E[],
  ...options: RaisingExceptionOptionsParameter<W, InstanceOf<E>>
): SyncDecorator;
export function onExceptionSync<W extends WaitGenerator, const E extends ErrorClass>(
  wait: W,
  exception: E | readonly E[],
  options: QuietExceptionOptions<W, InstanceOf<E>>,
): SyncDecorator<undefined>;
export function onExceptionSync(wait: unknown, exception: unknown, options?: unknown): unknown {
  return makeDecorator('onExceptionSync', SYNC, wait, catcher(exception), undefined, options);
}

/**
 * Makes one of the four decorators: the twins differ only in the driver and the default clock
 * (passed in, so that a bundle holds only what the twins it uses need).
 */
function makeDecorator(
  api: string,
  twin: Twin,
  wait: unknown,
  catches: Plan['catches'],
  predicate: Plan['predicate'],
  options: unknown,
): unknown {
  const { sync, clock, wrap } = twin;
  const plan = makePlan({ api, wait, catches, predicate, options, sync, clock, blockForm: false });
  return decoratorFor(api, plan, wrap);
}

function checkPredicate(predicate: unknown): Plan['predicate'] {
  if (predicate === undefined || predicate === null) return falsy;
  if (typeof predicate !== 'function') throw typeError('predicate', 'a function', predicate);
  return predicate as Plan['predicate'];
}

/**
 * Retries an async (or sync) function while `predicate(value)` is truthy for the value it returns
 * (by default: while the value is falsy), waiting between attempts as `wait` says (seconds).
 * Giving up returns the last value. An error thrown by the target propagates at once. The
 * predicate and every handler may be async and are awaited.
 *
 * @param wait - the wait generator
 * @param predicate - `(value) => retry?`; @defaultValue retry while the value is falsy
 * @param options - the retry options and the wait generator's own options
 * @returns a decorator: call it on a function, or use it as a method decorator
 * @throws `TypeError` / `RangeError` for bad arguments, naming the option and the value
 * @see {@link onPredicateSync} for blocking code
 * @example
 * ```ts
 * const waitForJob = backoff.onPredicate(backoff.constant, (job: Job) => job.state !== 'done', {
 *   interval: 2,
 *   jitter: null,
 *   maxTime: 300,
 * })(getJob);
 * ```
 */
export function onPredicate<W extends WaitGenerator>(
  wait: W,
  predicate?: Predicate | null,
  ...options: PredicateOptionsParameter<W, AsyncOptions>
): AsyncDecorator;
export function onPredicate(wait: unknown, predicate?: unknown, options?: unknown): unknown {
  return makeDecorator('onPredicate', ASYNC, wait, never, checkPredicate(predicate), options);
}

/**
 * The blocking twin of {@link onPredicate}: retries a sync function while `predicate(value)` is
 * truthy, sleeping with `Atomics.wait` (not on a browser's main thread). A target or callback
 * that returns a Promise is a `TypeError`: async code needs the async twin.
 *
 * @param wait - the wait generator
 * @param predicate - `(value) => retry?`; @defaultValue retry while the value is falsy
 * @param options - the retry options and the wait generator's own options
 * @returns a decorator: call it on a function, or use it as a method decorator
 * @throws `TypeError` / `RangeError` for bad arguments, naming the option and the value
 * @see {@link onPredicate} for async code
 * @example
 * ```ts
 * const readLock = backoff.onPredicateSync(backoff.constant, undefined, { interval: 0.05, maxTries: 20 })(
 *   () => tryAcquireLock(),
 * );
 * ```
 */
export function onPredicateSync<W extends WaitGenerator>(
  wait: W,
  predicate?: Predicate | null,
  ...options: PredicateOptionsParameter<W>
): SyncDecorator;
export function onPredicateSync(wait: unknown, predicate?: unknown, options?: unknown): unknown {
  return makeDecorator('onPredicateSync', SYNC, wait, never, checkPredicate(predicate), options);
}
