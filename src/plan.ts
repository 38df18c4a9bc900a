/**
 * The plan: everything decided when a decorator is made, shared read-only by all its calls — what
 * the options compile to (`options.ts`) and what the loop (`loop.ts`), the attempt (`attempt.ts`)
 * and the drivers read. Types only.
 *
 * @module
 */

import type { Clock } from './clock.js';
import type { RetryBudget } from './types.js';

type Callback = (...args: never[]) => unknown;

/** The limits and wait options of one call: the plan's own, or resolved from lazy options. */
export interface Limits {
  readonly maxTries: number;
  readonly maxTime: number;
  readonly waitOptions: Readonly<Record<string, unknown>>;
}

/** Everything decided when the decorator is made; shared, read-only, by all its calls. */
export interface Plan {
  readonly wait: (
    options: never,
    context: { readonly random: () => number },
  ) => Iterator<number, unknown, unknown>;
  /** The limits when no option is lazy; otherwise `undefined` and `resolve` makes them per call. */
  readonly limits: Limits | undefined;
  readonly resolve: () => Limits;
  readonly jitter: ((seconds: number, random: () => number) => number) | null;
  /** The random source of the built-in jitters and generators, in [0, 1). */
  readonly random: () => number;
  /** Async twins: ends waits at once and stops further attempts when it aborts. */
  readonly signal: AbortSignal | undefined;
  /** The `name` option: the operation's name in log lines and telemetry (else the target's). */
  readonly name: string | undefined;
  /** Async twins: the time limit of each attempt, in seconds (`undefined`: none). */
  readonly timeout: number | undefined;
  /**
   * Does each attempt get an `AttemptGuard` (its timer and its signal)? The plans with a `timeout`
   * or a `signal`, and the async block form, whose `attempt.signal` always exists.
   */
  readonly guarded: boolean;
  /** Asked before each retry, told of each call, failure and success. */
  readonly budget: RetryBudget | undefined;
  /** Does a thrown value count as a retryable failure? (Predicate twins: never.) */
  readonly catches: (error: unknown) => boolean;
  /** Predicate twins: a truthy result means "retry". Exception twins: undefined. */
  readonly predicate: Callback | undefined;
  readonly giveup: Callback | undefined;
  readonly raiseOnGiveup: boolean;
  readonly onTry: readonly Callback[] | undefined;
  readonly onSuccess: readonly Callback[] | undefined;
  readonly onBackoff: readonly Callback[] | undefined;
  readonly onGiveup: readonly Callback[] | undefined;
  readonly clock: Clock;
  /** The block form (`retryContext`): its details have no target or args. */
  readonly blockForm: boolean;
  /**
   * Nothing runs before an attempt (no `onTry` handler, signal or budget; see the option table):
   * the driver may make the first attempt itself, outside the loop.
   */
  readonly inlineFirstAttempt: boolean;
  /**
   * Nothing runs after a successful attempt (no predicate, no `onTry`/`onSuccess` handler): a
   * first attempt that succeeds ends the call without the loop.
   */
  readonly inlineSuccess: boolean;
  /**
   * Does anything use elapsed time (a `maxTime`, a user handler, `giveup`)? If not, the clock is
   * never read: a read whose value nothing uses is skipped (contract §5 step 2).
   */
  readonly timed: boolean;
}
