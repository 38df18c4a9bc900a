/**
 * The two drivers of the one retry loop: they perform its effects (attempt, callback, sleep), the
 * async one awaiting, the sync one blocking and refusing thenables. They hold no retry decision.
 *
 * @internal
 * @module
 */

import {
  ATTEMPT,
  afterFirst,
  begin,
  Ended,
  type Limits,
  type Plan,
  type Run,
  startTime,
} from './loop.js';
import { isThenable, thenableError } from './validate.js';

type Target = (...args: never[]) => unknown;

const ASYNC_HINT =
  'async targets and callbacks need the async twin (onException, onPredicate, retryContext)';

/** An attempt: the target called with the call's `this` and arguments. */
function callTarget(run: Run): unknown {
  return (run.target as Target).apply(run.self, run.args as never[]);
}

/**
 * Runs the loop's effects, awaiting callbacks and sleeps, and resolves to the call's value. With
 * `attempts`, it makes the attempts too, awaiting the target in this same frame, and runs to the
 * end; without, it resolves to `ATTEMPT` where the loop asks for one, for the block form to hand
 * it to the user.
 */
export async function driveAsync(run: Run, attempts = false): Promise<unknown> {
  let input: unknown;
  for (;;) {
    const effect = run.step(input);
    input = undefined;
    if (effect instanceof Ended) return effect.value;
    if (effect === ATTEMPT) {
      if (!attempts) return ATTEMPT;
      let threw = false;
      try {
        input = await callTarget(run);
      } catch (error) {
        threw = true;
        input = error;
      }
      run.settle(threw, input);
      input = undefined;
    } else if (typeof effect === 'number') {
      try {
        await run.plan.clock.sleep(effect, run.plan.signal);
      } catch (error) {
        // An abort ends the wait; the loop then stops before the next attempt.
        if (!run.plan.signal?.aborted) throw error;
      }
    } else {
      input = effect.fn.apply(effect.self, effect.args as never[]);
      // Stryker disable next-line ConditionalExpression: awaiting a plain value gives it back; the check only saves a tick
      if (isThenable(input)) input = await input;
    }
  }
}

/** The same for the sync twins: blocks for sleeps, refuses thenables. */
export function driveSync(run: Run, attempts = false): unknown {
  let input: unknown;
  for (;;) {
    const effect = run.step(input);
    input = undefined;
    if (effect instanceof Ended) return effect.value;
    if (effect === ATTEMPT) {
      if (!attempts) return ATTEMPT;
      let value: unknown;
      try {
        value = callTarget(run);
      } catch (error) {
        run.settle(true, error);
        continue;
      }
      checkNotThenable(value);
      run.settle(false, value);
    } else if (typeof effect === 'number') {
      input = run.plan.clock.sleepSync(effect);
      if (isThenable(input)) throw thenableError('clock.sleepSync', input, ASYNC_HINT);
    } else {
      input = effect.fn.apply(effect.self, effect.args as never[]);
      if (isThenable(input)) throw thenableError(effect.fn.name || 'A callback', input, ASYNC_HINT);
    }
  }
}

function runAsync(run: Run): Promise<unknown> {
  return driveAsync(run, true);
}

function runSync(run: Run): unknown {
  return driveSync(run, true);
}

/** Outside the attempt's try: a thenable is a usage error for the caller, not a failed attempt. */
function checkNotThenable(value: unknown): void {
  if (isThenable(value)) throw thenableError('The target', value, ASYNC_HINT);
}

/** Calls `target` with exactly `count` arguments, the first three from named slots. */
function invoke(
  target: Target,
  self: unknown,
  count: number,
  a: unknown,
  b: unknown,
  c: unknown,
  rest: unknown[],
): unknown {
  const call = target as (this: unknown, ...args: unknown[]) => unknown;
  if (count === 0) return call.call(self);
  if (count === 1) return call.call(self, a);
  if (count === 2) return call.call(self, a, b);
  return call.call(self, a, b, c, ...rest);
}

/** The argument array of a call whose first three arguments came in named slots. */
function collect(count: number, a: unknown, b: unknown, c: unknown, rest: unknown[]): unknown[] {
  if (count === 0) return [];
  if (count === 1) return [a];
  if (count === 2) return [a, b];
  return [a, b, c, ...rest];
}

/**
 * Wraps `target` with the async twin of the loop. Without an `onTry` handler or a signal the first
 * attempt is made here, outside the loop, and a success settles through one `then`: a call whose first
 * attempt succeeds costs one closure and one promise more than a bare `await target()`. The first
 * three arguments travel in named parameters, and the argument array is built only on failure:
 * a rest array captured by the closure would cost a third of a bare call.
 */
export function wrapAsync(plan: Plan, target: Target): (...args: unknown[]) => Promise<unknown> {
  return function (
    this: unknown,
    a?: unknown,
    b?: unknown,
    c?: unknown,
    ...rest: unknown[]
  ): Promise<unknown> {
    // biome-ignore lint/complexity/noArguments: the exact argument count, without an array.
    const count = arguments.length;
    let start: number;
    let limits: Limits;
    let value: unknown;
    let retry: (error: unknown) => Promise<unknown>;
    try {
      // Stryker disable next-line ConditionalExpression: the loop makes the first attempt the same way; this is a fast path
      if (!plan.direct) return runAsync(begin(plan, target, this, collect(count, a, b, c, rest)));
      start = startTime(plan);
      limits = plan.limits ?? plan.resolve();
      // One closure on the success path: the rejection handler.
      retry = (error) =>
        runAsync(
          afterFirst(plan, limits, start, target, this, collect(count, a, b, c, rest), true, error),
        );
      try {
        value = invoke(target, this, count, a, b, c, rest);
      } catch (error) {
        // A sync throw is a failed attempt, as a rejection is; no rejected promise is made for it.
        return retry(error);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    // Stryker disable next-line ConditionalExpression: the loop ends a success the same way; this is a fast path
    if (plan.fastSuccess) return Promise.resolve(value).then(undefined, retry);
    return Promise.resolve(value).then(
      (result) =>
        runAsync(
          afterFirst(
            plan,
            limits,
            start,
            target,
            this,
            collect(count, a, b, c, rest),
            false,
            result,
          ),
        ),
      retry,
    );
  };
}

/** Wraps `target` with the sync twin of the loop, with the same first-attempt fast path. */
export function wrapSync(plan: Plan, target: Target): (...args: unknown[]) => unknown {
  return function (this: unknown, ...args: unknown[]): unknown {
    // Stryker disable next-line ConditionalExpression: the loop makes the first attempt the same way; this is a fast path
    if (!plan.direct) return runSync(begin(plan, target, this, args));
    const start = startTime(plan);
    const limits = plan.limits ?? plan.resolve();
    let value: unknown;
    try {
      value = target.apply(this, args as never[]);
    } catch (error) {
      return runSync(afterFirst(plan, limits, start, target, this, args, true, error));
    }
    checkNotThenable(value);
    // Stryker disable next-line ConditionalExpression: the loop ends a success the same way; this is a fast path
    if (plan.fastSuccess) return value;
    return runSync(afterFirst(plan, limits, start, target, this, args, false, value));
  };
}
