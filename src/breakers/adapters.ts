/**
 * Adapters for the circuit breakers people already run — cockatiel's and opossum's — as the
 * `Breaker` the retry loop asks before every attempt. Structural: no dependency on either. Both
 * libraries decide inside a call they make (`execute`, `fire`); the adapter hands them a call
 * that waits for the attempt's outcome, which the permit then settles. Both call it at once when
 * they let it through, so `acquire` answers synchronously and the blocking twins can use them.
 *
 * @module
 */

import { typeError } from '../base/validate.js';
import type { Admission, Breaker, BreakerPermit } from '../types.js';

/**
 * What an adapted breaker is told of an outcome the loop ignores (the caller's abort, an error it
 * does not retry, one `giveup` accepted): neither library has a neutral outcome, so the adapter
 * fails the call with this, and the library's own filter decides. To count it as nothing, filter
 * it out: cockatiel `handleWhen((e) => !(e instanceof IgnoredOutcome))`, opossum
 * `errorFilter: (e) => e instanceof IgnoredOutcome` (opossum then counts it as a success).
 *
 * @example
 * ```ts
 * const policy = circuitBreaker(handleWhen((error) => !(error instanceof backoff.IgnoredOutcome)), {
 *   halfOpenAfter: 10_000,
 *   breaker: new ConsecutiveBreaker(5),
 * });
 * ```
 */
export class IgnoredOutcome extends Error {
  /** Always `'IgnoredOutcome'`. */
  override name = 'IgnoredOutcome';
  constructor() {
    super('backoff-ts: this attempt’s outcome says nothing of the service');
  }
}

/** The part of cockatiel's `CircuitBreakerPolicy` the adapter uses (cockatiel 3 and 4). */
export interface CockatielCircuitBreaker {
  /** Runs `fn` if the breaker lets it through; rejects at once when it does not. */
  execute(fn: () => PromiseLike<unknown>, signal?: AbortSignal): Promise<unknown>;
}

/** The part of opossum's `CircuitBreaker` the adapter uses (opossum 8 and 9). */
export interface OpossumCircuitBreaker {
  /** Runs the breaker's action with `args` if it lets the call through. */
  fire(...args: never[]): Promise<unknown>;
  /** Is it open? */
  readonly opened: boolean;
  /** Its options: `resetTimeout` (milliseconds) is how long it stays open. */
  readonly options?: OpossumOptions | undefined;
}

/** The part of opossum's options the adapter reads. */
export interface OpossumOptions {
  /** Milliseconds it stays open before it lets a call through. */
  readonly resetTimeout?: number | undefined;
}

/** An adapted breaker: its `acquire` answers synchronously. */
export interface AdaptedBreaker extends Breaker {
  /** The name given to the adapter. */
  readonly key: string | undefined;
  /** Asks the adapted breaker for an attempt, at once. */
  acquire(): Admission;
}

/** The one call each library makes per attempt: it settles as the permit reports. */
function pending(): { call: () => Promise<unknown>; admitted: () => BreakerPermit | undefined } {
  let permit: BreakerPermit | undefined;
  let refused = false;
  const call = () => {
    // Let through after the adapter said no (cockatiel's queued half-open calls): nothing to run.
    if (refused) return Promise.reject(new IgnoredOutcome());
    return new Promise((resolve, reject) => {
      permit = {
        success: () => resolve(undefined),
        failure: (error: unknown) => reject(error),
        ignore: () => reject(new IgnoredOutcome()),
      };
    });
  };
  return {
    call,
    admitted: () => {
      refused = permit === undefined;
      return permit;
    },
  };
}

/** The library's own promise echoes what the permit reported: nobody waits on it. */
const NOTHING = () => {};

/**
 * A cockatiel circuit breaker policy as the retry loop's `breaker`. A refusal (`BrokenCircuitError`,
 * `IsolatedCircuitError`, a half-open policy's other calls) has no `retryAfter`: cockatiel does not
 * say when it half-opens, so the call waits its `freeWait`. Cockatiel's half-open calls past its
 * sampling are refused here rather than queued.
 *
 * @param policy - from cockatiel's `circuitBreaker(handleAll, { … })`
 * @param key - the breaker's name, for `BreakerOpenError.key` and telemetry
 * @returns the breaker
 * @example
 * ```ts
 * import { circuitBreaker, ConsecutiveBreaker, handleAll } from 'cockatiel';
 * const policy = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
 * const getUser = backoff.onException(backoff.expo, Error, { breaker: backoff.fromCockatiel(policy) })(fetchUser);
 * ```
 */
export function fromCockatiel(policy: CockatielCircuitBreaker, key?: string): AdaptedBreaker {
  if (typeof policy?.execute !== 'function') {
    throw typeError(
      'policy',
      "a cockatiel circuit breaker policy (cockatiel's circuitBreaker())",
      policy,
    );
  }
  return {
    key,
    acquire(): Admission {
      const attempt = pending();
      // A signal aborted on refusal: a call cockatiel queued (half-open) is then never run.
      const controller = new AbortController();
      policy.execute(attempt.call, controller.signal).then(NOTHING, NOTHING);
      const permit = attempt.admitted();
      if (permit !== undefined) return { ok: true, permit };
      controller.abort();
      return { ok: false };
    },
  };
}

/**
 * An opossum circuit breaker as the retry loop's `breaker`. Opossum runs the action it was made
 * with, so make it with one that runs what it is given: `new CircuitBreaker((attempt) =>
 * attempt())`. A refusal (open, or its `capacity` full) has `retryAfter` = its `resetTimeout`
 * while it is open, an upper bound: opossum does not say when it opened. Opossum times each call
 * (`timeout`, 10 s by default): a longer attempt counts there as a failure.
 *
 * @param breaker - `new CircuitBreaker((attempt) => attempt(), { … })`
 * @param key - the breaker's name, for `BreakerOpenError.key` and telemetry
 * @returns the breaker
 * @example
 * ```ts
 * import CircuitBreaker from 'opossum';
 * const opossum = new CircuitBreaker((attempt: () => Promise<unknown>) => attempt(), { resetTimeout: 30_000 });
 * const getUser = backoff.onException(backoff.expo, Error, { breaker: backoff.fromOpossum(opossum) })(fetchUser);
 * ```
 */
export function fromOpossum(breaker: OpossumCircuitBreaker, key?: string): AdaptedBreaker {
  if (typeof breaker?.fire !== 'function') {
    throw typeError(
      'breaker',
      'an opossum CircuitBreaker (new CircuitBreaker((attempt) => attempt()))',
      breaker,
    );
  }
  return {
    key,
    acquire(): Admission {
      const attempt = pending();
      (breaker.fire as (call: () => Promise<unknown>) => Promise<unknown>)(attempt.call).then(
        NOTHING,
        NOTHING,
      );
      const permit = attempt.admitted();
      if (permit !== undefined) return { ok: true, permit };
      const reset = breaker.opened ? breaker.options?.resetTimeout : undefined;
      return { ok: false, retryAfter: reset === undefined ? undefined : reset / 1000 };
    },
  };
}
