/**
 * The breaker gate: how the loop asks a `breaker` before every attempt and reports the attempt's
 * outcome on the permit it got. The loop decides what a refusal means (a free failure, `loop.ts`);
 * this module only talks to the breaker.
 *
 * @module
 */

import { ignoreRejection, isThenable, show, typeError } from '../base/validate.js';
import type { Admission, Breaker, BreakerPermit, Granted } from '../types.js';
import { tryDetails } from './events.js';
import { Call } from './lifecycle.js';
import type { Run } from './loop.js';

/**
 * The error a call rejects with when its `breaker` refused an attempt and no wait for it fits
 * (`maxTime`, `maxFreeTries`): give-up reason `'breakerOpen'`. The target was not called for
 * that attempt.
 *
 * @example
 * ```ts
 * try {
 *   await getUser(id);
 * } catch (error) {
 *   if (error instanceof backoff.BreakerOpenError) return cached(id); // retry in error.retryAfter s
 * }
 * ```
 */
export class BreakerOpenError extends Error {
  /** Always `'BreakerOpenError'`. */
  override name = 'BreakerOpenError';
  /** Seconds after which the breaker said it may let an attempt through; `undefined` if it did not say. */
  readonly retryAfter: number | undefined;
  /** The breaker's `key`, if it has one. */
  readonly key: string | undefined;

  /**
   * @param retryAfter - seconds until the breaker may grant a permit, if known
   * @param key - the breaker's name
   */
  constructor(retryAfter: number | undefined, key: string | undefined) {
    const which = key === undefined ? 'The circuit breaker' : `The circuit breaker "${key}"`;
    const when = retryAfter === undefined ? '' : `; it may let one through in ${retryAfter} s`;
    super(`${which} refused the attempt${when}`);
    this.retryAfter = retryAfter;
    this.key = key;
  }
}

type Request = Call;

/** Is `value` a breaker (it has an `acquire` method)? */
const isBreaker = (value: unknown): value is Breaker =>
  typeof (value as { acquire?: unknown } | null | undefined)?.acquire === 'function';

/** Checks the `breaker` option: a breaker, or a function that picks one per attempt. @internal */
export function checkBreaker(value: unknown): Breaker | ((details: never) => unknown) | undefined {
  if (value === undefined || value === null) return undefined;
  // A function is always taken as the picker of a breaker per attempt.
  if (typeof value === 'function' || isBreaker(value)) return value as Breaker;
  throw typeError(
    'breaker',
    'a circuit breaker (an object with an acquire method) or a function returning one',
    value,
  );
}

/**
 * Asks the breaker for the coming attempt: keeps the permit on the run, or returns the refusal as
 * the error the call would end with.
 *
 * @internal
 */
export function* admit(run: Run): Generator<Request, BreakerOpenError | undefined, unknown> {
  const option = run.plan.breaker as Breaker | ((details: never) => unknown);
  let breaker: unknown = option;
  if (typeof option === 'function') {
    // The async twins' driver awaits what it returns: it may pick its breaker asynchronously.
    breaker = yield new Call(option, [tryDetails(run)]);
    if (!isBreaker(breaker)) {
      throw new TypeError(
        `Expected the \`breaker\` function to return a circuit breaker, got ${show(breaker)}`,
      );
    }
  }
  const { acquire, key } = breaker as Breaker;
  // The first attempt's answer, if the driver asked for it already (the fast path); a Promise is
  // awaited as the driver awaits a callback's.
  const early = run.admission;
  run.admission = undefined;
  const admission = (yield early === undefined
    ? new Call(acquire as () => unknown, [], breaker)
    : new Call(same, [early])) as Admission | null;
  if (isGranted(admission)) {
    run.permit = admission.permit;
    return undefined;
  }
  if (admission?.ok !== false) {
    throw new TypeError(
      `Expected breaker.acquire() to return { ok: true, permit } or { ok: false }, got ${show(admission)}`,
    );
  }
  // A `retryAfter` that is no number of seconds is as if the breaker did not say.
  const { retryAfter } = admission;
  const seconds =
    Number.isFinite(retryAfter) && (retryAfter as number) >= 0 ? retryAfter : undefined;
  return new BreakerOpenError(seconds, typeof key === 'string' ? key : undefined);
}

/** Gives back what it is given: the effect that hands the loop an answer the driver already has. */
const same = (value: unknown): unknown => value;

/**
 * The permit of an answer that grants one at once, as the drivers' fast path asks the breaker
 * for the first attempt; `undefined` for anything else, which the loop then takes over.
 *
 * @internal
 */
// Stryker disable next-line BlockStatement: without it the loop takes every first answer, the same way; this is a fast path
export function permitOf(admission: unknown): BreakerPermit | undefined {
  return isGranted(admission as Admission | null) ? (admission as Granted).permit : undefined;
}

/**
 * Reports a success outside the loop (the fast path) and gives `value` back, once the report has
 * settled if it returned a Promise (as the loop awaits it).
 *
 * @internal
 */
export function succeeded(permit: BreakerPermit, value: unknown): unknown {
  const reported = permit.success();
  return isThenable(reported) ? Promise.resolve(reported).then(() => value) : value;
}

/** A grant whose permit has the three methods. */
function isGranted(admission: Admission | null): admission is Granted {
  if (admission?.ok !== true) return false;
  const permit = admission.permit as Partial<BreakerPermit> | undefined;
  return (
    typeof permit?.success === 'function' &&
    typeof permit.failure === 'function' &&
    typeof permit.ignore === 'function'
  );
}

/** What an attempt's outcome tells the breaker. @internal */
export type Report = 'success' | 'failure' | 'ignore';

/** Reports the attempt's outcome on its permit, if it has one (and only once). @internal */
export function* report(run: Run, kind: Report): Generator<Request, void, unknown> {
  const permit = run.permit;
  if (permit === undefined) return;
  run.permit = undefined;
  const method = permit[kind] as (error?: unknown) => unknown;
  yield new Call(method, kind === 'failure' ? [run.result] : [], permit);
}

/**
 * Lets go of a permit whose attempt's outcome can no longer be reported: a callback failed (a
 * handler, the predicate, `giveup`) and the call ends with its error. The outcome says nothing
 * of the service: `ignore`. A breaker that fails at it is not heard — the call's own error is
 * what the caller gets back.
 *
 * @internal
 */
export function release(run: Run): void {
  const permit: BreakerPermit | undefined = run.permit;
  // Stryker disable next-line ConditionalExpression: without a permit, ignore() below throws, and the catch swallows it the same
  if (permit === undefined) return;
  run.permit = undefined;
  try {
    const result = permit.ignore();
    // Stryker disable next-line ConditionalExpression: ignoreRejection of a plain value does nothing either
    if (isThenable(result)) ignoreRejection(result);
  } catch {
    // The caller gets its own error back, not the breaker's.
  }
}
