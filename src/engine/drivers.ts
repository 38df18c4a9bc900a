/**
 * The two drivers of the one retry loop: they perform its effects (attempt, callback, sleep), the
 * async one awaiting, the sync one blocking and refusing thenables. They hold no retry decision.
 *
 * @module
 */

import { isThenable, thenableError } from '../base/validate.js';
import type { Limits, Plan } from '../plan/plan.js';
import type { Breaker, BreakerPermit } from '../types.js';
import { AttemptGuard, makeAttempt, TimedOut } from './attempt.js';
import { type CallContext, callSignal, contextPending, takeContext } from './call-context.js';
import { permitOf, release, succeeded } from './gate.js';
import { active, Call } from './lifecycle.js';
import {
  ATTEMPT,
  afterFirst,
  begin,
  type Effect,
  Ended,
  endFirstSuccess,
  Run,
  startTime,
  Thrown,
} from './loop.js';

type Target = (...args: never[]) => unknown;
/** What a driver performs: every effect but the end. */
type Performed = Exclude<Effect, Ended>;

const ASYNC_HINT =
  'async targets and callbacks need the async twin (onException, onPredicate, retryContext)';

/** Performs an effect of the loop: makes the attempt, calls the callback, or starts the sleep. */
function perform(run: Run, effect: Performed, sync: boolean): unknown {
  if (effect === ATTEMPT) {
    return makeAttempt(run.target as Target, run.self, run.args as unknown[], run.guard);
  }
  if (effect instanceof Call) return effect.fn.apply(effect.self, effect.args as never[]);
  return sync ? run.plan.clock.sleepSync(effect) : run.plan.clock.sleep(effect, run.signal);
}

/**
 * Runs the loop's effects, awaiting what they return, and resolves to the call's value. `input`
 * is the outcome of an effect performed before: the first attempt, made by the caller, or the
 * block form's attempt. The block form's loop has no target: where the loop asks for an attempt,
 * it resolves to `ATTEMPT`, for the block form to hand the attempt to the user.
 *
 * No parameter has a default: with one, an async function keeps the arguments as they were
 * passed beside its variables, and a pending wait would hold the first attempt's outcome.
 */
export async function driveAsync(run: Run, input: unknown): Promise<unknown> {
  for (;;) {
    const effect = run.step(input);
    if (effect instanceof Ended) return effect.value;
    if (effect === ATTEMPT && run.plan.blockForm) return ATTEMPT;
    try {
      input = perform(run, effect, false);
      // Stryker disable next-line ConditionalExpression: awaiting a plain value gives it back; the check only saves a tick
      if (isThenable(input)) input = await input;
    } catch (error) {
      // A callback's error ends the call (with the attempt's permit let go, if it holds one);
      // what an attempt or a sleep threw, the loop judges.
      if (effect instanceof Call) throw released(run, error);
      input = new Thrown(error);
    }
  }
}

/** The same for the sync twins: blocks for sleeps, refuses thenables. */
export function driveSync(run: Run, input: unknown): unknown {
  for (;;) {
    const effect = run.step(input);
    if (effect instanceof Ended) return effect.value;
    if (effect === ATTEMPT && run.plan.blockForm) return ATTEMPT;
    try {
      input = perform(run, effect, true);
    } catch (error) {
      if (effect instanceof Call) throw released(run, error);
      input = new Thrown(error);
    }
    // Outside the try: a thenable is a usage error for the caller, not a failed attempt.
    if (isThenable(input)) {
      throw released(run, thenableError(performer(effect), input, ASYNC_HINT));
    }
  }
}

/** Lets go of the run's breaker permit, if any, as the call ends with `error`; returns it. */
function released(run: Run, error: unknown): unknown {
  release(run);
  return error;
}

/** Who performed an effect, for the error that a thenable is where a value was due. */
function performer(effect: Performed): string {
  if (effect === ATTEMPT) return 'The target';
  return effect instanceof Call ? effect.fn.name || 'A callback' : 'clock.sleepSync';
}

/** Outside the attempt's try: a thenable is a usage error for the caller, not a failed attempt. */
function checkNotThenable(value: unknown): void {
  if (isThenable(value)) throw thenableError('The target', value, ASYNC_HINT);
}

/**
 * Makes one call of `target` through the whole loop, with the call's context: the decorators' path
 * for every call but a fast one, and the seam the add-ons call (`retryFetch` gives each request's
 * signal). Under the `call` tracing channel while it is observed, so that the stores bound to it
 * span every attempt. Never throws: what goes wrong before the loop starts is a rejection.
 *
 * @internal
 */
export function callAsync(
  plan: Plan,
  target: Target,
  self: unknown,
  args: unknown[],
  context: CallContext | undefined,
): Promise<unknown> {
  try {
    const signal = callSignal(plan.signal, context);
    // Stryker disable next-line ConditionalExpression,OptionalChaining: in Node there is always a tracer, and tracing with nobody subscribed runs the call as it is
    if (plan.around?.active()) {
      return plan.around.async(
        async () => driveAsync(begin(plan, target, self, args, signal), undefined),
        plan,
        target,
        args,
      );
    }
    return driveAsync(begin(plan, target, self, args, signal), undefined);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * The loop of a call whose breaker the fast path asked and that gave no permit at once (a
 * refusal, a Promise, an answer to check): the loop takes the answer from there.
 */
function admittedAsync(
  plan: Plan,
  target: Target,
  self: unknown,
  args: unknown[],
  admission: unknown,
): Promise<unknown> {
  try {
    const run = begin(plan, target, self, args, undefined);
    run.admission = admission;
    return driveAsync(run, undefined);
    // Stryker disable next-line BlockStatement: begin() reads what the fast path read just before, which would have thrown there first
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The same for the sync twins, which take no context. */
function callSync(plan: Plan, target: Target, self: unknown, args: unknown[]): unknown {
  const run = () => driveSync(begin(plan, target, self, args, undefined), undefined);
  // Stryker disable next-line ConditionalExpression,OptionalChaining: in Node there is always a tracer, and tracing with nobody subscribed runs the call as it is
  return plan.around?.active() ? plan.around.sync(run, plan, target, args) : run();
}

/** A blocking twin's call refuses a context's signal: its waits cannot be aborted. */
function refuseSignal(context: CallContext): void {
  if (context.signal === undefined) return;
  throw new TypeError(
    'callWith({ signal }) reached a function decorated by a blocking twin (onExceptionSync, onPredicateSync): a blocking wait cannot be aborted; use the async twin',
  );
}

/** Ends a first attempt that succeeded outside the loop, for the publishers that listen. */
function endFirst(
  plan: Plan,
  limits: Limits,
  start: number,
  target: Target,
  self: unknown,
  args: unknown[],
  value: unknown,
): void {
  endFirstSuccess(new Run(plan, limits, start, target, self, args, undefined), value);
}

/**
 * May this call's first attempt be made outside the loop? Not while the call is traced, nor while
 * a publisher before the attempt (telemetry's note of its start) has work: the loop runs those.
 * A plan with a breaker object (`inlineFirstAttempt`) asks it here too.
 */
function inline(plan: Plan): boolean {
  return plan.inlineFirstAttempt && !plan.around?.active() && !active(plan.on.beforeAttempt);
}

/**
 * Wraps `target` with the async twin of the loop. For a plan with `inlineFirstAttempt` the first
 * attempt is made here, outside the loop, and a success settles through one `then`: a call whose
 * first attempt succeeds costs one closure and one promise more than a bare `await target()`.
 */
export function wrapAsync(plan: Plan, target: Target): (...args: unknown[]) => Promise<unknown> {
  return function (this: unknown, ...args: unknown[]): Promise<unknown> {
    if (contextPending()) return callAsync(plan, target, this, args, takeContext());
    // Stryker disable next-line ConditionalExpression: the loop makes the first attempt the same way; this is a fast path
    if (!inline(plan)) return callAsync(plan, target, this, args, undefined);
    let start: number;
    let limits: Limits;
    let value: unknown;
    let retry: (error: unknown) => Promise<unknown>;
    let guard: AttemptGuard | undefined;
    let permit: BreakerPermit | undefined;
    try {
      start = startTime(plan);
      limits = plan.limits ?? plan.resolve();
      if (plan.breaker !== undefined) {
        // Asked here as the loop would ask it: a permit at once goes on here; anything else (a
        // refusal, a Promise, an answer to check) the loop takes over. A first success with a
        // circuitBreaker() cost 1,160 ns through the loop, 450 ns here (without a breaker 210 ns;
        // cockatiel 4's retry around its breaker 690 ns; Node 24, one process, median of 7).
        const admission = (plan.breaker as Breaker).acquire();
        permit = permitOf(admission);
        // Stryker disable next-line ConditionalExpression: the loop takes any answer the same way; this is a fast path
        if (permit === undefined) return admittedAsync(plan, target, this, args, admission);
      }
      // One closure on the success path: the rejection handler.
      retry = (error) =>
        driveAsync(afterFirst(plan, limits, start, target, this, args, permit), new Thrown(error));
      // A plan with a `timeout` and nothing else before the attempt: its first attempt is timed
      // here. Through the loop it cost 475 ns against 240 ns (npm run build && node
      // bench/success-path.js, Node 24, timeout 10).
      guard = plan.guarded ? new AttemptGuard(plan, 1, undefined) : undefined;
      try {
        value = makeAttempt(target, this, args, guard);
      } catch (error) {
        // A sync throw is a failed attempt, as a rejection is; no rejected promise is made for it.
        return retry(error);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    // Stryker disable next-line ConditionalExpression: the loop ends a success the same way; this is a fast path
    if (plan.inlineSuccess) {
      // Only a subscriber that came during the attempt makes an announcement: one there before
      // keeps the call off this path (`inline`).
      const announce = active(plan.on.attemptEnd);
      // Stryker disable next-line ConditionalExpression,LogicalOperator,BlockStatement: the branch below ends a plain success the same way; this is a faster one
      if (!announce && guard === undefined && permit === undefined) {
        return Promise.resolve(value).then(undefined, retry);
      }
      return Promise.resolve(value).then((result) => {
        // An attempt that timed out is a failure: the loop takes it from here.
        // Stryker disable next-line ConditionalExpression: the loop ends a success the same way; this is a fast path
        if (result instanceof TimedOut) {
          return driveAsync(afterFirst(plan, limits, start, target, this, args, permit), result);
        }
        // Stryker disable next-line ConditionalExpression: announcing to no active publisher does nothing
        if (announce) endFirst(plan, limits, start, target, this, args, result);
        return permit === undefined ? result : succeeded(permit, result);
      }, retry);
    }
    return Promise.resolve(value).then(
      (result) => driveAsync(afterFirst(plan, limits, start, target, this, args, permit), result),
      retry,
    );
  };
}

/** Wraps `target` with the sync twin of the loop, with the same first-attempt fast path. */
export function wrapSync(plan: Plan, target: Target): (...args: unknown[]) => unknown {
  return function (this: unknown, ...args: unknown[]): unknown {
    if (contextPending()) refuseSignal(takeContext() as CallContext);
    // Stryker disable next-line ConditionalExpression: the loop makes the first attempt the same way; this is a fast path
    if (!inline(plan) || plan.breaker !== undefined) return callSync(plan, target, this, args);
    const start = startTime(plan);
    const limits = plan.limits ?? plan.resolve();
    let value: unknown;
    try {
      value = makeAttempt(target, this, args, undefined);
    } catch (error) {
      return driveSync(
        afterFirst(plan, limits, start, target, this, args, undefined),
        new Thrown(error),
      );
    }
    checkNotThenable(value);
    // Stryker disable next-line ConditionalExpression: the loop ends a success the same way; this is a fast path
    if (plan.inlineSuccess) {
      if (active(plan.on.attemptEnd)) endFirst(plan, limits, start, target, this, args, value);
      return value;
    }
    return driveSync(afterFirst(plan, limits, start, target, this, args, undefined), value);
  };
}
