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
  type Limits,
  type Plan,
  type Program,
  type Run,
  retryLoop,
  startTime,
} from './loop.js';
import { isThenable, thenableError } from './validate.js';

type Target = (...args: never[]) => unknown;

const ASYNC_HINT =
  'async targets and callbacks need the async twin (onException, onPredicate, retryContext)';

/**
 * Runs the loop's effects, awaiting callbacks and sleeps, and resolves to the call's value. Given
 * `attempt`, it makes the attempts too and runs to the end (one async frame per call); without,
 * it resolves to `ATTEMPT` where the loop asks for one, for the block form to hand it to the user.
 */
export async function driveAsync(
  program: Program,
  run: Run,
  attempt?: (run: Run) => Promise<void>,
): Promise<unknown> {
  let input: unknown;
  for (;;) {
    const step = program.next(input);
    input = undefined;
    if (step.done) return step.value;
    const effect = step.value;
    if (effect === ATTEMPT) {
      if (attempt === undefined) return ATTEMPT;
      await attempt(run);
    } else if ('seconds' in effect) {
      const { clock, signal } = run.plan;
      try {
        await clock.sleep(effect.seconds, signal);
      } catch (error) {
        // An abort ends the wait; the loop then stops before the next attempt.
        if (!signal?.aborted) throw error;
      }
    } else {
      input = effect.fn.apply(effect.self, effect.args as never[]);
      if (isThenable(input)) input = await input;
    }
  }
}

/** The same for the sync twins: blocks for sleeps, refuses thenables. */
export function driveSync(program: Program, run: Run, attempt?: (run: Run) => void): unknown {
  let input: unknown;
  for (;;) {
    const step = program.next(input);
    input = undefined;
    if (step.done) return step.value;
    const effect = step.value;
    if (effect === ATTEMPT) {
      if (attempt === undefined) return ATTEMPT;
      attempt(run);
    } else if ('seconds' in effect) {
      input = run.plan.clock.sleepSync(effect.seconds);
      if (isThenable(input)) throw thenableError('clock.sleepSync', input, ASYNC_HINT);
    } else {
      input = effect.fn.apply(effect.self, effect.args as never[]);
      if (isThenable(input)) throw thenableError(effect.fn.name || 'A callback', input, ASYNC_HINT);
    }
  }
}

/** Makes an attempt of the async twin and settles its outcome. */
async function attemptAsync(run: Run): Promise<void> {
  let threw = false;
  let result: unknown;
  try {
    result = await (run.target as Target).apply(run.self, run.args as never[]);
  } catch (error) {
    threw = true;
    result = error;
  }
  run.settle(threw, result);
}

function runAsync(run: Run): Promise<unknown> {
  return driveAsync(retryLoop(run), run, attemptAsync);
}

function runSync(run: Run): unknown {
  return driveSync(retryLoop(run), run, attemptSync);
}

/** Makes an attempt of the sync twin and settles its outcome. */
function attemptSync(run: Run): void {
  let value: unknown;
  try {
    value = (run.target as Target).apply(run.self, run.args as never[]);
  } catch (error) {
    run.settle(true, error);
    return;
  }
  checkNotThenable(value);
  run.settle(false, value);
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
    try {
      if (!plan.direct) return runAsync(begin(plan, target, this, collect(count, a, b, c, rest)));
      start = startTime(plan);
      limits = plan.limits ?? plan.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
    try {
      value = invoke(target, this, count, a, b, c, rest);
    } catch (error) {
      // A sync throw takes the same path as a rejection.
      value = Promise.reject(error);
    }
    // One closure on the success path: the rejection handler.
    const retry = (error: unknown): Promise<unknown> =>
      runAsync(
        afterFirst(plan, limits, start, target, this, collect(count, a, b, c, rest), true, error),
      );
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
    if (plan.fastSuccess) return value;
    return runSync(afterFirst(plan, limits, start, target, this, args, false, value));
  };
}
