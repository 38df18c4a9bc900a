/**
 * The plan: everything decided when a decorator is made, shared read-only by all its calls — what
 * the options compile to (`options.ts`) and what the loop (`loop.ts`), the attempt (`attempt.ts`)
 * and the drivers read. Types only.
 *
 * @module
 */

import type { Stages } from '../engine/lifecycle.js';
import type { KeptOptions } from './options.js';

type Callback = (...args: never[]) => unknown;

/** The limits and wait options of one call: the plan's own, or resolved from lazy options. */
export interface Limits {
  readonly maxTries: number;
  readonly maxTime: number;
  readonly waitOptions: Readonly<Record<string, unknown>>;
}

/**
 * Everything decided when the decorator is made; shared, read-only, by all its calls: the options
 * the plan keeps as checked (`jitter`, `random`, `signal`, `timeout`, `budget`, `raiseOnGiveup`,
 * `name`, `giveup`, `clock`: see the option table) and what `makePlan` compiles.
 */
export interface Plan extends KeptOptions {
  readonly wait: (
    options: never,
    context: { readonly random: () => number },
  ) => Iterator<number, unknown, unknown>;
  /** The limits when no option is lazy; otherwise `undefined` and `resolve` makes them per call. */
  readonly limits: Limits | undefined;
  readonly resolve: () => Limits;
  /**
   * Does each attempt get an `AttemptGuard` (its timer and its signal)? The plans with a `timeout`
   * or a `signal`, and the async block form, whose `attempt.signal` always exists.
   */
  readonly guarded: boolean;
  /** Does a thrown value count as a retryable failure? (Predicate twins: never.) */
  readonly catches: (error: unknown) => boolean;
  /** Predicate twins: a truthy result means "retry". Exception twins: undefined. */
  readonly predicate: Callback | undefined;
  /** The listeners of each stage of the lifecycle: handlers, log lines, budget hooks, telemetry. */
  readonly on: Stages;
  /**
   * The attributes an add-on gives each call's telemetry messages, from its arguments (`retryFetch`:
   * `http.request.method`, `server.address`, `server.port`); read only while someone subscribes.
   */
  readonly attributes:
    | ((args: readonly unknown[]) => Readonly<Record<string, string | number>>)
    | undefined;
  /** Wraps each call, while it says it is active: the `call` tracing channel. */
  readonly around: Around | undefined;
  /**
   * Does a pending retry of a call with a signal or a breaker keep its last outcome? Only where an
   * abort during the wait (or a breaker's refusal after it) still reports it to a handler: a
   * predicate twin with a give-up listener that is not a publisher.
   */
  readonly keepsOutcome: boolean;
  /** The block form (`retryContext`): its details have no target or args. */
  readonly blockForm: boolean;
  /**
   * Nothing runs before an attempt but its timer (no listener on `request`, none but publishers on
   * `beforeAttempt`, no signal, not the async block form): the driver may make the first attempt
   * itself, outside the loop, with its guard when the plan is `guarded` (a `timeout`) and the
   * permit of its breaker (a breaker object, not a function picking one), while no publisher of
   * `beforeAttempt` is active.
   */
  readonly inlineFirstAttempt: boolean;
  /**
   * Nothing but publishers runs after a successful attempt (no predicate, no listener on
   * `success`): a first attempt that succeeds ends the call without the loop.
   */
  readonly inlineSuccess: boolean;
  /**
   * Does anything use elapsed time (a `maxTime`, `giveup`, a listener that reads it)? If not, the
   * clock is never read: a read whose value nothing uses is skipped (contract §5 step 2).
   */
  readonly timed: boolean;
}

/**
 * What wraps a whole call (every attempt and wait in it), while `active()` says so: the `call`
 * tracing channel, whose bound stores then span the call.
 */
export interface Around {
  readonly active: () => boolean;
  readonly async: (
    call: () => Promise<unknown>,
    plan: Plan,
    target: Callback,
    args: readonly unknown[],
  ) => Promise<unknown>;
  readonly sync: (
    call: () => unknown,
    plan: Plan,
    target: Callback,
    args: readonly unknown[],
  ) => unknown;
}
