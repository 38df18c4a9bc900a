/**
 * The per-call context: what one call of a decorated function is given beside its arguments,
 * without a change to the target's signature. {@link callWith} leaves it for the first function
 * decorated by an async twin that its function calls synchronously; that call takes it.
 *
 * @module
 */

import { checkSignal, ignoreRejection, isThenable, typeError } from '../base/validate.js';

/** What {@link callWith} gives one call of a decorated function. */
export interface CallContext {
  /**
   * Ends this call as the decorator's `signal` option would (no further attempt; a wait ends at
   * once; the attempt's signal aborts), together with that option when both are set.
   */
  readonly signal?: AbortSignal | undefined;
}

/** The context left by `callWith` for the call its function is about to make; taken at once. */
let pending: CallContext | undefined;

/**
 * Calls `fn` and gives `context` to the call of a decorated function it makes synchronously — the
 * first one, for example the one call `fn` is made of. The target's parameters stay as they are, so
 * one decorated function serves calls with and without a signal.
 *
 * @param context - the call's {@link CallContext}: `signal`, an `AbortSignal` for this call
 * @param fn - a function that calls a function decorated by {@link onException} or
 *   {@link onPredicate} synchronously (before any `await`), such as `() => getUser(id)`
 * @returns what `fn` returns: the decorated call's Promise
 * @throws `TypeError` when `context` or its `signal` is not what it should be, when `fn` calls no
 *   decorated function synchronously (the context would be lost), or when the function it calls is
 *   a blocking twin's, which cannot be aborted
 * @example
 * ```ts
 * const getUser = backoff.onException(backoff.expo, TypeError, { maxTries: 5 })(fetchUser);
 *
 * const user = await backoff.callWith({ signal: AbortSignal.timeout(10_000) }, () => getUser(id));
 * ```
 */
export function callWith<T>(context: CallContext, fn: () => T): T {
  if (typeof context !== 'object' || context === null) {
    throw typeError('context', 'an object such as { signal }', context);
  }
  if (typeof fn !== 'function') throw typeError('fn', 'a function', fn);
  const given: CallContext = { signal: checkSignal(context.signal, 'context.signal') };
  const outer = pending;
  pending = given;
  let result: T;
  let taken: boolean;
  try {
    result = fn();
  } finally {
    taken = pending !== given;
    pending = outer;
  }
  if (!taken) {
    // Stryker disable next-line ConditionalExpression: ignoreRejection of a plain value does nothing
    if (isThenable(result)) ignoreRejection(result);
    throw new TypeError(
      'callWith(context, fn): fn called no decorated function synchronously, so the context reached no call: call it first thing, as in callWith({ signal }, () => getUser(id))',
    );
  }
  return result;
}

/**
 * Takes the context `callWith` left for this call, if any: called by every decorated function as
 * it starts, so that a call it makes in turn gets none.
 *
 * @internal
 */
export function takeContext(): CallContext | undefined {
  const context = pending;
  pending = undefined;
  return context;
}

/** Is a context waiting for a call? One read of a module variable on the success path. @internal */
export const contextPending = (): boolean => pending !== undefined;

/**
 * The signal of a call: the decorator's `signal` option, the context's, or one that aborts when
 * either does.
 *
 * @internal
 */
export function callSignal(
  option: AbortSignal | undefined,
  context: CallContext | undefined,
): AbortSignal | undefined {
  const own = context?.signal;
  if (own === undefined) return option;
  if (option === undefined) return own;
  if (typeof AbortSignal.any !== 'function') {
    throw new TypeError(
      'callWith({ signal }) on a function decorated with a `signal` too needs AbortSignal.any, which this runtime lacks',
    );
  }
  return AbortSignal.any([option, own]);
}
