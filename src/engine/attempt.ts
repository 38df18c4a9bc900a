/**
 * The one place where an attempt is made: by the loop's drivers, both fast paths of the decorators,
 * and the block form's `attempt.run`. What an attempt needs around it — its time limit and its own
 * signal — is added here, once.
 *
 * @module
 */

import { type AbortTarget, unwatch, watch } from '../base/signal-watch.js';
import { ignoreRejection, isThenable } from '../base/validate.js';
import type { Plan } from '../plan/plan.js';

type Target = (...args: never[]) => unknown;

/**
 * The error of an attempt that was still running `timeout` seconds after it started. The retry
 * loop treats it as a retryable failure of every async twin, whatever `exception` or the predicate
 * say; on giving up it is what the call rejects with. It is also the `reason` of the attempt's
 * signal, which aborts when the time is up.
 *
 * @example
 * ```ts
 * const getJson = backoff.onException(backoff.expo, TypeError, { timeout: 2, maxTries: 3 })(
 *   async (url: string) => (await fetch(url, { signal: backoff.attemptSignal() })).json(),
 * );
 * try {
 *   await getJson(url);
 * } catch (error) {
 *   if (error instanceof backoff.AttemptTimeoutError) console.log(`try ${error.tries} took over ${error.timeout} s`);
 * }
 * ```
 */
export class AttemptTimeoutError extends Error {
  /** Always `'AttemptTimeoutError'`. */
  override name = 'AttemptTimeoutError';
  /** The time limit of the attempt, in seconds. */
  readonly timeout: number;
  /** The 1-based number of the attempt that timed out. */
  readonly tries: number;

  /**
   * @param timeout - the attempt's time limit, in seconds
   * @param tries - the number of the attempt
   */
  constructor(timeout: number, tries: number) {
    super(`Attempt ${tries} timed out after ${timeout} s`);
    this.timeout = timeout;
    this.tries = tries;
  }
}

/**
 * The outcome of an attempt that timed out, as the loop takes it: a failure that every async twin
 * retries, told apart from an `AttemptTimeoutError` the target itself threw (a nested call's).
 *
 * @internal
 */
export class TimedOut {
  readonly error: AttemptTimeoutError;
  constructor(error: AttemptTimeoutError) {
    this.error = error;
  }
}

/** The guard of the attempt whose target is running synchronously right now, if any. */
let current: AttemptGuard | undefined;

/**
 * One attempt's time limit and signal, for the plans that have them (a `timeout` or a `signal`,
 * and the async block form). The signal's `AbortController` is made only when someone asks for the
 * signal; a finished attempt's signal is left alone, so what the attempt returned or threw (a
 * `Response` whose body is still streaming, an error carrying one) stays readable.
 *
 * @internal
 */
export class AttemptGuard implements AbortTarget {
  readonly #plan: Plan;
  readonly #tries: number;
  /** The call's signal, which aborts this attempt's signal too while the attempt runs. */
  readonly #callSignal: AbortSignal | undefined;
  #controller: AbortController | undefined = undefined;
  /** Why the attempt's signal is aborted (or is to be, once it is made). */
  #abortedWith: unknown = undefined;
  #aborted = false;
  /** Between the start of the attempt and its end: only then can its signal still abort. */
  #running = false;
  /** Is this guard told of the call's signal aborting? Only while its signal exists and it runs. */
  #watching = false;
  #cancelTimer: (() => void) | undefined = undefined;
  /** Settles the attempt's outcome as timed out; until the outcome exists, `expired` records it. */
  #timedOut: ((outcome: TimedOut) => void) | undefined = undefined;
  #expired: TimedOut | undefined = undefined;

  constructor(plan: Plan, tries: number, callSignal: AbortSignal | undefined) {
    this.#plan = plan;
    this.#tries = tries;
    this.#callSignal = callSignal;
  }

  /** The attempt's signal: made on the first read, aborted already if the attempt was abandoned. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#abortedWith);
      else if (this.#running) this.#followCallSignal();
    }
    return this.#controller.signal;
  }

  /** Aborts the attempt's signal (the call's signal aborted, or the time is up). */
  abort(reason: unknown): void {
    this.#watching = false;
    // Stryker disable next-line ConditionalExpression: a second abort of a controller does nothing
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortedWith = reason;
    this.#controller?.abort(reason);
  }

  /**
   * Makes the attempt: starts its timer, calls the target with this guard current, and returns its
   * outcome — what it returned, or for a thenable one that settles as it does or, when the time is
   * up first, with a `TimedOut`.
   */
  run(target: Target, self: unknown, args: readonly unknown[]): unknown {
    const { timeout, clock } = this.#plan;
    const signal = this.#callSignal;
    this.#running = true;
    // Stryker disable next-line ConditionalExpression: following without a signal to abort only costs a registry entry
    if (this.#controller !== undefined) this.#followCallSignal();
    // Started before the call: the target's synchronous part counts towards its time.
    if (timeout !== undefined && timeout !== Number.POSITIVE_INFINITY) {
      this.#cancelTimer = (clock.timer as NonNullable<typeof clock.timer>)(timeout, () =>
        this.#timeUp(timeout),
      );
    }
    const previous = current;
    current = this;
    let value: unknown;
    try {
      value = invoke(target, self, args);
    } catch (error) {
      this.#end();
      throw error;
    } finally {
      current = previous;
    }
    // A clock that fired the timer during the call (a test's, moving time synchronously).
    if (this.#expired !== undefined) {
      // Stryker disable next-line ConditionalExpression: ignoreRejection of a plain value does nothing
      if (isThenable(value)) ignoreRejection(value);
      return this.#expired;
    }
    // Nothing to race and nothing to unwatch at the end: the outcome is the target's own.
    // Stryker disable next-line ConditionalExpression: the race below settles the same way, one promise later
    if (!isThenable(value) || (this.#cancelTimer === undefined && signal === undefined)) {
      this.#end();
      return value;
    }
    return new Promise((resolve, reject) => {
      this.#timedOut = resolve;
      value.then(
        (result) => {
          this.#end();
          resolve(result);
        },
        (error: unknown) => {
          this.#end();
          reject(error);
        },
      );
    });
  }

  /** Has the call's signal abort this attempt's signal too, from now until the attempt ends. */
  #followCallSignal(): void {
    const callSignal = this.#callSignal;
    if (callSignal === undefined || this.#watching) return;
    if (callSignal.aborted) this.abort(callSignal.reason);
    else {
      watch(callSignal, this);
      this.#watching = true;
    }
  }

  #timeUp(timeout: number): void {
    this.#cancelTimer = undefined;
    const error = new AttemptTimeoutError(timeout, this.#tries);
    this.#end();
    this.abort(error);
    const outcome = new TimedOut(error);
    if (this.#timedOut === undefined) this.#expired = outcome;
    else this.#timedOut(outcome);
  }

  /** The attempt is over: its timer is cleared and the call's signal no longer watched for it. */
  #end(): void {
    this.#running = false;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    if (this.#watching) {
      // Stryker disable next-line BooleanLiteral: the one later call, after a timeout, comes after abort() has reset it
      this.#watching = false;
      unwatch(this.#callSignal as AbortSignal, this);
    }
  }
}

/**
 * The signal of the attempt being made: pass it to `fetch`, a database query or anything else that
 * can stop work, so that an attempt that timed out (or whose call was aborted) does not go on
 * running. It aborts when the attempt's `timeout` is up (reason: the {@link AttemptTimeoutError})
 * and when the call's `signal` aborts (reason: `signal.reason`); a finished attempt's signal is left
 * alone, so a `Response` it returned stays readable.
 *
 * Call it synchronously at the start of a function decorated by {@link onException} or
 * {@link onPredicate} with a `timeout` or a `signal` option, before its first `await`: that is when
 * the library knows which attempt is running. Anywhere else it throws a `TypeError`. In
 * {@link retryContext}, use `attempt.signal`.
 *
 * @returns the running attempt's `AbortSignal`
 * @throws `TypeError` when no attempt of such a function is running synchronously
 * @example
 * ```ts
 * const getUser = backoff.onException(backoff.expo, TypeError, { timeout: 2, maxTries: 4 })(
 *   async (id: string) => {
 *     const signal = backoff.attemptSignal(); // before the first await
 *     const response = await fetch(`https://api.example.com/users/${id}`, { signal });
 *     return response.json();
 *   },
 * );
 * ```
 */
export function attemptSignal(): AbortSignal {
  if (current === undefined) {
    throw new TypeError(
      'attemptSignal() was called outside an attempt: call it synchronously at the start of a function decorated by onException or onPredicate with a `timeout` or a `signal` option, before its first await (in retryContext, use attempt.signal)',
    );
  }
  return current.signal;
}

/** Calls `target` with `self` as `this` and `args`. */
function invoke(target: Target, self: unknown, args: readonly unknown[]): unknown {
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

/**
 * Makes an attempt of a call: calls `target` with `self` as `this` and `args`, and returns what it
 * returned (a thenable is passed on as it is; a sync throw propagates). With a `guard` (the plans
 * with a `timeout` or a `signal`) the guard makes it; without one, no attempt is current while the
 * target runs, so that a call nested in another's attempt never sees the outer attempt's signal.
 *
 * @internal
 */
export function makeAttempt(
  target: Target,
  self: unknown,
  args: readonly unknown[],
  guard: AttemptGuard | undefined,
): unknown {
  if (guard !== undefined) return guard.run(target, self, args);
  // The common case, no attempt around this one, costs one comparison.
  // Stryker disable next-line ConditionalExpression: a fast path; the general one below gives the same result
  if (current === undefined) return invoke(target, self, args);
  const outer = current;
  current = undefined;
  try {
    return invoke(target, self, args);
  } finally {
    current = outer;
  }
}
