/**
 * The events of the lifecycle's stages: the details object each one tells its listeners, built
 * from a call's `Run` only when a listener has something to do, and `emit`, which runs a stage's
 * listeners for the loop.
 *
 * @module
 */

import type { GiveupReason } from '../types.js';
import type { AttemptGuard } from './attempt.js';
import { active, type Call, type Details, type Listener, type Stage } from './lifecycle.js';
import type { Run } from './loop.js';

/**
 * The fields every details object has. `args` is a copy: a handler that redacts it (`args[0] =
 * '***'`) changes neither the target's next arguments nor another event's details.
 */
export function details(run: Run): Details {
  const { plan } = run;
  const event: Details = plan.blockForm
    ? { tries: run.tries, elapsed: run.elapsed }
    : {
        target: run.target,
        args: (run.args as readonly unknown[]).slice(),
        tries: run.tries,
        elapsed: run.elapsed,
      };
  // Only where failures can be free: the details of other plans stay as Python's are.
  if (plan.free !== undefined || plan.breaker !== undefined) event.freeTries = run.free?.count ?? 0;
  return event;
}

/** The details of an ended attempt: with `exception` (it threw) or `value` (it returned). */
export function outcomeDetails(run: Run): Details {
  const result = details(run);
  if (run.threw) result.exception = run.result;
  else result.value = run.result;
  return result;
}

/**
 * Does anyone listen on `stage` now? The loop asks before it announces a stage, so that a stage
 * nobody listens on costs neither a generator nor an event: four generators per attempt cost
 * onPredicate's success path 446 -> 702 ns (a bare call: 74 ns; old and new built side by side
 * and timed in one process, best of 7 rounds of 1,000,000 calls).
 */
export function heard(run: Run, stage: Stage): boolean {
  return active(run.plan.on[stage]);
}

/**
 * Announces a stage someone listens on (see {@link heard}): runs its listeners, in order, with the
 * stage's event, yielding the calls they ask for.
 */
export function* emit<X>(
  run: Run,
  stage: Stage,
  event: (run: Run, extra: X) => Details,
  extra: X,
): Generator<Call, void, unknown> {
  let payload: Details | undefined;
  for (const listener of run.plan.on[stage] as readonly Listener[]) {
    // Stryker disable next-line ConditionalExpression: an inactive publisher does nothing anyway
    if (listener.active !== undefined && !listener.active()) continue;
    // Built once, for the first listener that reads it: every listener sees the same event.
    // Stryker disable next-line BooleanLiteral,ConditionalExpression: an event built for a listener that ignores it changes nothing but the cost
    if (listener.eventless !== true) payload ??= event(run, extra);
    const call = listener.on(run, payload as Details);
    if (call !== undefined) yield call;
  }
}

/** The details of an attempt's end, with its `outcome`. */
const attemptEnd =
  (outcome: 'success' | 'failure' | 'error') =>
  (run: Run): Details => {
    const event = outcomeDetails(run);
    event.outcome = outcome;
    return event;
  };
type Event = (run: Run) => Details;
/** The details of a successful attempt's end. */
export const SUCCEEDED: Event = attemptEnd('success');
/** The details of a retryable failure's end. */
export const FAILED: Event = attemptEnd('failure');
/** The details of an attempt that threw what the decorator does not catch. */
export const ERRED: Event = attemptEnd('error');

/** The details of a give-up: the last outcome and the `reason`. */
export function giveupDetails(run: Run, reason: GiveupReason): Details {
  const event = outcomeDetails(run);
  event.reason = reason;
  return event;
}

/** The details of a success: with the value for the predicate twins, as Python's. */
export function successDetails(run: Run): Details {
  return run.plan.predicate ? outcomeDetails(run) : details(run);
}

/** The details of the coming attempt (`onTry`): its `tries`, and its signal with a timeout. */
export function tryDetails(run: Run): Details {
  const upcoming = details(run);
  upcoming.tries = run.tries + 1;
  // Only with a timeout: the details of other plans stay as Python's are.
  if (run.plan.timeout !== undefined) upcoming.signal = (run.guard as AttemptGuard).signal;
  return upcoming;
}

/** The details of a wait of `wait` seconds about to start, in Python's key order. */
export function backoffDetails(run: Run, wait: number): Details {
  const backoff = details(run);
  if (run.threw) {
    backoff.wait = wait;
    backoff.exception = run.result;
  } else {
    backoff.value = run.result;
    backoff.wait = wait;
  }
  return backoff;
}
