/**
 * The block form: a retry loop written as `for await … of` / `for … of` around a block of code.
 *
 * @module
 */

import { blockingClock, type Clock, waitingClock } from '../base/clock.js';
import { isThenable, thenableError, typeError } from '../base/validate.js';
import { type AttemptGuard, makeAttempt, TimedOut } from '../engine/attempt.js';
import { driveAsync, driveSync } from '../engine/drivers.js';
import { ATTEMPT, begin, type Run, Thrown } from '../engine/loop.js';
import { catcher, makePlan } from '../plan/options.js';
import type { Plan } from '../plan/plan.js';
import type {
  AsyncOptions,
  ContextOptionsParameter,
  ErrorClass,
  InstanceOf,
  WaitGenerator,
} from '../types.js';
import { expo } from '../waits/wait-gen.js';

/**
 * One attempt of {@link retryContext}: run the block with {@link Attempt.run}.
 *
 * @example
 * ```ts
 * for await (const attempt of backoff.retryContext(TypeError)) {
 *   const data = await attempt.run(() => fetchData());
 * }
 * ```
 */
export interface Attempt {
  /** The 1-based number of this attempt. */
  readonly tries: number;
  /**
   * This attempt's signal: pass it to `fetch` or a query so that the work stops when the attempt
   * is abandoned. It aborts when the `timeout` is up (reason: the {@link AttemptTimeoutError}) or
   * the loop's `signal` aborts (reason: `signal.reason`) while the attempt runs; it never aborts
   * without either option, nor once the attempt has ended.
   */
  readonly signal: AbortSignal;
  /**
   * Runs `fn` as this attempt and resolves to its value. An error matching `exception` is
   * recorded and swallowed (resolves to `undefined`), so the loop goes on or gives up; any other
   * error rejects. With `timeout`, an `fn` still running after it is recorded as an
   * {@link AttemptTimeoutError} (resolves to `undefined` then). Calling `run` twice on one attempt
   * rejects with a `TypeError`.
   */
  run<T>(fn: () => T): Promise<Awaited<T> | undefined>;
}

/**
 * One attempt of {@link retryContextSync}: run the block with {@link AttemptSync.run}.
 *
 * @example
 * ```ts
 * for (const attempt of backoff.retryContextSync(RangeError)) {
 *   attempt.run(() => parse(input));
 * }
 * ```
 */
export interface AttemptSync {
  /** The 1-based number of this attempt. */
  readonly tries: number;
  /**
   * Runs `fn` as this attempt and returns its value. An error matching `exception` is recorded
   * and swallowed (returns `undefined`); any other error propagates. Calling `run` twice on one
   * attempt, or an `fn` that returns a Promise, is a `TypeError`.
   */
  run<T>(fn: () => T): T | undefined;
}

const NO_ARGS: readonly unknown[] = [];

/** What both attempt kinds share: one use, the attempt itself, and the record of a matched failure. */
class Recorder {
  readonly tries: number;
  /** What the loop is told of this attempt: `undefined` (it did not fail), a `Thrown` error or `TimedOut`. */
  outcome: Thrown | TimedOut | undefined = undefined;
  readonly #plan: Plan;
  /** The attempt's timer and signal (the async form's). */
  readonly guard: AttemptGuard | undefined;
  #used = false;

  constructor(plan: Plan, tries: number, guard: AttemptGuard | undefined) {
    this.tries = tries;
    this.#plan = plan;
    this.guard = guard;
  }

  /** Checks a call of `run`: once per attempt, with a function. */
  protected claim(fn: unknown): void {
    if (this.#used) throw new TypeError('attempt.run was already called for this attempt');
    if (typeof fn !== 'function') throw typeError('fn', 'a function', fn);
    this.#used = true;
  }

  /** Makes the attempt: `fn` is the block, called with no arguments. */
  protected attempt<T>(fn: () => T): T {
    return makeAttempt(fn, undefined, NO_ARGS, this.guard) as T;
  }

  /** Records an error that `exception` matches; rethrows any other. */
  protected fail(error: unknown): undefined {
    if (!this.#plan.catches(error)) throw error;
    this.outcome = new Thrown(error);
    return undefined;
  }
}

class AsyncAttempt extends Recorder implements Attempt {
  pending: Promise<unknown> | undefined = undefined;

  get signal(): AbortSignal {
    return (this.guard as AttemptGuard).signal;
  }

  run<T>(fn: () => T): Promise<Awaited<T> | undefined> {
    try {
      this.claim(fn);
    } catch (error) {
      return Promise.reject(error);
    }
    const pending = (async (): Promise<Awaited<T> | undefined> => {
      try {
        const value: unknown = await this.attempt(fn);
        if (!(value instanceof TimedOut)) return value as Awaited<T>;
        this.outcome = value;
      } catch (error) {
        return this.fail(error);
      }
      return undefined;
    })();
    this.pending = pending;
    return pending;
  }
}

class SyncAttempt extends Recorder implements AttemptSync {
  run<T>(fn: () => T): T | undefined {
    this.claim(fn);
    let value: T;
    try {
      value = this.attempt(fn);
    } catch (error) {
      return this.fail(error);
    }
    if (isThenable(value)) {
      throw thenableError(
        'The block passed to attempt.run',
        value,
        'use retryContext with for await',
      );
    }
    return value;
  }
}

/** The attempts of one block-form loop, stepped by the user's `for` loop. */
class Attempts<A extends Recorder> {
  readonly plan: Plan;
  run: Run | undefined = undefined;
  attempt: A | undefined = undefined;
  done = false;

  constructor(plan: Plan) {
    this.plan = plan;
  }

  /** The loop's run, begun at the first iteration (the clock, lazy options). */
  started(): Run {
    this.run ??= begin(this.plan, undefined, undefined, undefined, this.plan.signal);
    return this.run;
  }

  finish(): IteratorResult<never, undefined> {
    this.done = true;
    return { done: true, value: undefined };
  }
}

class AsyncAttempts extends Attempts<AsyncAttempt> implements AsyncIterableIterator<Attempt> {
  async next(): Promise<IteratorResult<Attempt, undefined>> {
    if (this.done) return this.finish();
    try {
      await this.attempt?.pending;
      const run = this.started();
      if ((await driveAsync(run, this.attempt?.outcome)) !== ATTEMPT) return this.finish();
      this.attempt = new AsyncAttempt(this.plan, run.tries, run.guard);
      return { done: false, value: this.attempt };
    } catch (error) {
      this.finish();
      throw error;
    }
  }

  async return(): Promise<IteratorResult<Attempt, undefined>> {
    return this.finish();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

class SyncAttempts extends Attempts<SyncAttempt> implements IterableIterator<AttemptSync> {
  next(): IteratorResult<AttemptSync, undefined> {
    if (this.done) return this.finish();
    try {
      const run = this.started();
      if (driveSync(run, this.attempt?.outcome) !== ATTEMPT) return this.finish();
      this.attempt = new SyncAttempt(this.plan, run.tries, undefined);
      return { done: false, value: this.attempt };
    } catch (error) {
      this.finish();
      throw error;
    }
  }

  return(): IteratorResult<AttemptSync, undefined> {
    return this.finish();
  }

  [Symbol.iterator](): this {
    return this;
  }
}

/**
 * The block form of {@link onException}: retries the body of a `for await … of` loop. Each
 * iteration is one attempt; run the block with `attempt.run(fn)`. An iteration that does not fail
 * ends the loop (also one that never calls `run`); `break` ends it silently; giving up rethrows
 * the last error out of the loop (or ends it quietly with `raiseOnGiveup: false`). Handlers get
 * details without `target` and `args`.
 *
 * @typeParam E - the error classes retried
 * @typeParam W - the wait generator, whose options the options parameter takes
 * @param exception - error class or array of them to retry on; @defaultValue `Error`
 * @param wait - the wait generator; @defaultValue {@link expo}
 * @param options - the same options as {@link onException} (durations in seconds)
 * @returns an async iterable of attempts
 * @throws `TypeError` / `RangeError` for bad arguments, naming the option and the value
 * @see {@link retryContextSync} for blocking code
 * @example
 * ```ts
 * for await (const attempt of backoff.retryContext(TypeError, backoff.expo, { maxTries: 5 })) {
 *   await attempt.run(async () => {
 *     const response = await fetch(url);
 *     await save(await response.json());
 *   });
 * }
 * ```
 */
export function retryContext<
  const E extends ErrorClass = ErrorConstructor,
  W extends WaitGenerator = typeof expo,
>(
  exception?: E | readonly E[],
  wait?: W,
  ...options: ContextOptionsParameter<W, InstanceOf<E>, AsyncOptions>
): AsyncIterableIterator<Attempt>;
export function retryContext(
  exception?: unknown,
  wait?: unknown,
  options?: unknown,
): AsyncIterableIterator<Attempt> {
  // Stryker disable next-line StringLiteral: no message of the async block form names its API
  return new AsyncAttempts(
    contextPlan('retryContext', exception, wait, options, false, waitingClock),
  );
}

/**
 * The blocking twin of {@link retryContext}: retries the body of a `for … of` loop, sleeping with
 * `Atomics.wait` between attempts (not on a browser's main thread).
 *
 * @typeParam E - the error classes retried
 * @typeParam W - the wait generator, whose options the options parameter takes
 * @param exception - error class or array of them to retry on; @defaultValue `Error`
 * @param wait - the wait generator; @defaultValue {@link expo}
 * @param options - the same options as {@link onExceptionSync} (durations in seconds)
 * @returns an iterable of attempts
 * @throws `TypeError` / `RangeError` for bad arguments, naming the option and the value
 * @see {@link retryContext} for async code
 * @example
 * ```ts
 * for (const attempt of backoff.retryContextSync(RangeError, backoff.constant, { interval: 0 })) {
 *   attempt.run(() => body());
 * }
 * ```
 */
export function retryContextSync<
  const E extends ErrorClass = ErrorConstructor,
  W extends WaitGenerator = typeof expo,
>(
  exception?: E | readonly E[],
  wait?: W,
  ...options: ContextOptionsParameter<W, InstanceOf<E>>
): IterableIterator<AttemptSync>;
export function retryContextSync(
  exception?: unknown,
  wait?: unknown,
  options?: unknown,
): IterableIterator<AttemptSync> {
  return new SyncAttempts(
    contextPlan('retryContextSync', exception, wait, options, true, blockingClock),
  );
}

function contextPlan(
  api: string,
  exception: unknown,
  wait: unknown,
  options: unknown,
  sync: boolean,
  clock: Clock,
): Plan {
  return makePlan({
    api,
    wait: wait ?? expo,
    catches: catcher(exception ?? Error),
    predicate: undefined,
    options,
    sync,
    clock,
    blockForm: true,
  });
}
