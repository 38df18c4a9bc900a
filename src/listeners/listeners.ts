/**
 * Where the observers of a call are wired to the lifecycle's stages, once per decorator: the
 * budget's bookkeeping, the user's handlers, the default log lines and the telemetry publishers.
 * A new observer is one listener and one line in {@link listen}; the loop does not change.
 *
 * @module
 */

import { Call, type Listener, type Stages } from '../engine/lifecycle.js';
import { budgetCall } from '../engine/loop.js';
import type { RetryBudget } from '../types.js';
import { publishers } from './telemetry.js';

type Callback = (...args: never[]) => unknown;

/** The observers a decorator's options name. */
export interface Observers {
  readonly budget: RetryBudget | undefined;
  readonly onTry: readonly Callback[] | undefined;
  readonly onSuccess: readonly Callback[] | undefined;
  readonly onBackoff: readonly Callback[] | undefined;
  readonly onGiveup: readonly Callback[] | undefined;
  /** The default "Backing off" line, unless logging is off. */
  readonly backoffLine: Callback | undefined;
  /** The default "Giving up" line, unless logging is off. */
  readonly giveupLine: Callback | undefined;
}

/**
 * A user's handler (`timed`: its details show `elapsed`), or a default log line (which shows no
 * elapsed time): called with the event's details.
 */
function handler(fn: Callback, timed = true): Listener {
  return { timed, on: (_run, event) => new Call(fn, [event]) };
}

/** The default log line, unless logging is off. */
const logLine = (line: Callback | undefined): Listener | undefined => line && handler(line, false);

/** The budget's bookkeeping hook `hook`, if it has one: called with what it sees of the call. */
function budgetHook(
  budget: RetryBudget | undefined,
  hook: 'onRequest' | 'onFailure' | 'onSuccess',
): Listener | undefined {
  const method = budget?.[hook];
  return method && { on: (run) => new Call(method as Callback, [budgetCall(run)], budget) };
}

/** The listeners given, in order; `undefined` when there are none. */
function stage(...listeners: readonly (Listener | undefined)[]): readonly Listener[] | undefined {
  const present = listeners.filter((listener) => listener !== undefined);
  return present.length === 0 ? undefined : present;
}

/**
 * The listeners of each stage, in the order they run. Publishers come first (but for the note of
 * an attempt's start, which comes last), so that a handler that changes its details changes no
 * message; the default log line comes before the user's handlers of its stage, as in Python.
 */
export function listen(observers: Observers): Stages {
  const { budget } = observers;
  const handlers = (list: readonly Callback[] | undefined) => (list ?? []).map((fn) => handler(fn));
  return {
    request: stage(budgetHook(budget, 'onRequest')),
    // The attempt's start is noted last, so that its duration leaves out the onTry handlers.
    beforeAttempt: stage(...handlers(observers.onTry), publishers?.beforeAttempt),
    attemptEnd: stage(publishers?.attemptEnd),
    failure: stage(budgetHook(budget, 'onFailure')),
    success: stage(budgetHook(budget, 'onSuccess'), ...handlers(observers.onSuccess)),
    backoff: stage(
      publishers?.backoff,
      logLine(observers.backoffLine),
      ...handlers(observers.onBackoff),
    ),
    giveup: stage(
      publishers?.giveup,
      logLine(observers.giveupLine),
      ...handlers(observers.onGiveup),
    ),
  };
}
