/**
 * Retry budgets: one object shared by any number of wrapped functions that caps how many retries
 * they may add, so that a failing dependency is not buried under retries (a retry storm).
 *
 * @module
 */

import { type Clock, systemClock } from '../base/clock.js';
import { checkNumber } from '../base/validate.js';
import type { BudgetCall, RetryBudget } from '../types.js';

/**
 * Options of {@link tokenBucket} (the AWS SDK retry quota).
 *
 * @example
 * ```ts
 * const options: TokenBucketOptions = { capacity: 500, retryCost: 5 };
 * ```
 */
export interface TokenBucketOptions {
  /** Tokens when full, and at the start. @defaultValue 500 */
  readonly capacity?: number | undefined;
  /** Tokens a retry takes. @defaultValue 5 */
  readonly retryCost?: number | undefined;
  /** Tokens a retry after a timeout takes. @defaultValue 10 */
  readonly timeoutCost?: number | undefined;
  /**
   * Tokens a free retry (the `free` option), or one after a throttling error, takes (checked
   * before `isTimeout`). The AWS SDK's current quota (`@smithy/core` 3.40+) is
   * `{ retryCost: 14, timeoutCost: 14, throttlingCost: 5 }`.
   * @defaultValue `retryCost`
   */
  readonly throttlingCost?: number | undefined;
  /**
   * Is this failure a throttling error? @defaultValue an HTTP 429 (`status`, `statusCode`,
   * `response.status` or `$metadata.httpStatusCode`) or an error named as AWS names throttling
   * (`ThrottlingException`, `TooManyRequestsException`, `SlowDown` …)
   */
  readonly isThrottling?: ((outcome: unknown) => boolean) | undefined;
  /** Tokens a success without retries returns. @defaultValue 1 */
  readonly successIncrement?: number | undefined;
  /** Is this failure a timeout? @defaultValue an error named `TimeoutError` or `AttemptTimeoutError`, or with code `ETIMEDOUT` */
  readonly isTimeout?: ((outcome: unknown) => boolean) | undefined;
}

/**
 * A {@link tokenBucket} budget.
 *
 * @example
 * ```ts
 * const budget: TokenBucket = backoff.tokenBucket();
 * ```
 */
export interface TokenBucket extends RetryBudget {
  /** The tokens left, for metrics. */
  state(): TokenBucketState;
}

/** The state of a {@link tokenBucket}, for metrics. */
export interface TokenBucketState {
  /** Tokens left. */
  readonly tokens: number;
  /** Tokens when full. */
  readonly capacity: number;
}

/** A timeout: the platform's `TimeoutError`, this library's own `AttemptTimeoutError`, `ETIMEDOUT`. */
const isTimeoutError = (outcome: unknown): boolean => {
  const error = outcome as { name?: unknown; code?: unknown } | null;
  return (
    error?.name === 'TimeoutError' ||
    error?.name === 'AttemptTimeoutError' ||
    error?.code === 'ETIMEDOUT'
  );
};

/** The error names the AWS SDK counts as throttling (`@smithy/core`'s THROTTLING_ERROR_CODES). */
const THROTTLING_NAMES = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

const isThrottlingError = (outcome: unknown): boolean => {
  const error = outcome as {
    name?: unknown;
    status?: unknown;
    statusCode?: unknown;
    response?: { status?: unknown };
    $metadata?: { httpStatusCode?: unknown };
    $retryable?: { throttling?: unknown };
  } | null;
  // Optional chaining throughout: a thrown null, undefined or primitive is no throttling error.
  const status =
    error?.status ??
    error?.statusCode ??
    error?.response?.status ??
    error?.$metadata?.httpStatusCode;
  return (
    status === 429 ||
    error?.$retryable?.throttling === true ||
    THROTTLING_NAMES.has(error?.name as string)
  );
};

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  return checkNumber(name, value, 'a finite number >= 0', (v) => Number.isFinite(v) && v >= 0);
}

/**
 * A token bucket's checked options with their defaults; `costOf` is what a call's retry costs
 * (`throttlingCost` for a free retry or after a throttling error, `timeoutCost` after a timeout,
 * else `retryCost`). Shared with the Redis version.
 *
 * @internal
 */
export function tokenBucketSettings(options: TokenBucketOptions) {
  const retryCost = nonNegative('retryCost', options.retryCost, 5);
  const timeoutCost = nonNegative('timeoutCost', options.timeoutCost, 10);
  const throttlingCost = nonNegative('throttlingCost', options.throttlingCost, retryCost);
  const isTimeout = options.isTimeout ?? isTimeoutError;
  const isThrottling = options.isThrottling ?? isThrottlingError;
  return {
    capacity: nonNegative('capacity', options.capacity, 500),
    successIncrement: nonNegative('successIncrement', options.successIncrement, 1),
    // As the SDK classifies a failure: throttling first, then transient (a timeout).
    // A free retry (`free`) is one the caller deems a throttling: cheaper, never free of the bucket.
    costOf: ({ outcome, free }: BudgetCall): number =>
      free === true || isThrottling(outcome)
        ? throttlingCost
        : isTimeout(outcome)
          ? timeoutCost
          : retryCost,
  };
}

/**
 * A throttle's checked options with their defaults. Shared with the Redis version.
 *
 * @internal
 */
export function throttleSettings(options: ThrottleOptions) {
  return {
    maxTokens: nonNegative('maxTokens', options.maxTokens, 10),
    tokenRatio: nonNegative('tokenRatio', options.tokenRatio, 0.1),
  };
}

/**
 * A ratio budget's checked options with their defaults. Shared with the Redis version.
 *
 * @internal
 */
export function ratioSettings(options: RatioOptions) {
  const ttl =
    options.ttl === undefined
      ? 10
      : checkNumber(
          'ttl',
          options.ttl,
          'a number of seconds from 1 to 60',
          (v) => v >= 1 && v <= 60,
        );
  const minRetriesPerSecond = nonNegative('minRetriesPerSecond', options.minRetriesPerSecond, 10);
  const percentCanRetry =
    options.percentCanRetry === undefined
      ? 0.2
      : checkNumber(
          'percentCanRetry',
          options.percentCanRetry,
          'a number from 0 to 1000',
          (v) => v >= 0 && v <= 1000,
        );
  // Finagle's integer arithmetic: a request deposits 1000 tokens, a retry withdraws 1000 / percent
  // (truncated); with percent 0 a request deposits nothing and a retry costs 1 from the reserve.
  const deposit = percentCanRetry === 0 ? 0 : 1000;
  const withdrawal = percentCanRetry === 0 ? 1 : Math.trunc(1000 / percentCanRetry);
  return {
    rangeMs: Math.floor(ttl * 1000),
    deposit,
    withdrawal,
    reserve: minRetriesPerSecond * Math.trunc(ttl) * withdrawal,
  };
}

/**
 * The AWS SDK retry quota: a bucket of 500 tokens; a retry takes 5 (10 after a timeout); a success
 * returns 1, or, when the call's last retry succeeded, that retry's cost; no tokens, no retry. The
 * defaults are the original quota (`@smithy/core` up to 3.39, and the legacy retry middleware); the
 * SDK's current one (3.40+) is `tokenBucket({ retryCost: 14, timeoutCost: 14, throttlingCost: 5 })`. At
 * worst it lets 100 retries through and then only as many as successes pay for: under a full
 * outage the traffic stays close to one attempt per request.
 *
 * @param options - {@link TokenBucketOptions}
 * @returns a budget whose `state()` reports the tokens left
 * @example
 * ```ts
 * const budget = backoff.tokenBucket();
 * backoff.onException(backoff.expo, TypeError, { budget, maxTries: 5 });
 * metrics.gauge('retry_tokens', budget.state().tokens);
 * ```
 */
export function tokenBucket(options: TokenBucketOptions = {}): TokenBucket {
  const { capacity, successIncrement, costOf } = tokenBucketSettings(options);
  let tokens = capacity;
  return {
    tryRetry(call) {
      const cost = costOf(call);
      if (tokens < cost) return false;
      tokens -= cost;
      call.memo = cost;
      return true;
    },
    onSuccess(call) {
      const refund = typeof call.memo === 'number' ? call.memo : successIncrement;
      tokens = Math.min(capacity, tokens + refund);
    },
    state: () => ({ tokens, capacity }),
  };
}

/**
 * Options of {@link throttle} (gRPC retry throttling).
 *
 * @example
 * ```ts
 * const options: ThrottleOptions = { maxTokens: 100, tokenRatio: 0.1 };
 * ```
 */
export interface ThrottleOptions {
  /** Tokens when full, and at the start. @defaultValue 10 */
  readonly maxTokens?: number | undefined;
  /** Tokens a success adds back. @defaultValue 0.1 */
  readonly tokenRatio?: number | undefined;
}

/**
 * A {@link throttle} budget.
 *
 * @example
 * ```ts
 * const budget: Throttle = backoff.throttle();
 * ```
 */
export interface Throttle extends RetryBudget {
  /** The tokens left and whether retries flow, for metrics. */
  state(): ThrottleState;
}

/** The state of a {@link throttle}, for metrics. */
export interface ThrottleState {
  /** Tokens left. */
  readonly tokens: number;
  /** Tokens when full. */
  readonly maxTokens: number;
  /** Whether a retry would be allowed now. */
  readonly retrying: boolean;
}

/**
 * gRPC retry throttling: each failed attempt takes 1 token, each success adds `tokenRatio`;
 * retries are allowed only while tokens > `maxTokens` / 2. With a ratio of 0.1, retries stop once
 * failures outnumber successes about ten to one.
 *
 * @param options - {@link ThrottleOptions}
 * @returns a budget whose `state()` reports the tokens left and whether retries flow
 * @example
 * ```ts
 * const budget = backoff.throttle({ maxTokens: 100, tokenRatio: 0.1 });
 * ```
 */
export function throttle(options: ThrottleOptions = {}): Throttle {
  const { maxTokens, tokenRatio } = throttleSettings(options);
  let tokens = maxTokens;
  const retrying = (): boolean => tokens > maxTokens / 2;
  return {
    onFailure() {
      tokens = Math.max(0, tokens - 1);
    },
    onSuccess() {
      tokens = Math.min(maxTokens, tokens + tokenRatio);
    },
    tryRetry: retrying,
    state: () => ({ tokens, maxTokens, retrying: retrying() }),
  };
}

/**
 * Options of {@link ratio} (Finagle's RetryBudget).
 *
 * @example
 * ```ts
 * const options: RatioOptions = { percentCanRetry: 0.1, minRetriesPerSecond: 5 };
 * ```
 */
export interface RatioOptions {
  /** The window, in seconds (1 to 60, as Finagle takes it), over which requests and retries are counted. @defaultValue 10 */
  readonly ttl?: number | undefined;
  /** Retries allowed per second regardless of traffic. @defaultValue 10 */
  readonly minRetriesPerSecond?: number | undefined;
  /** Retries allowed as a share of requests (0.2 = 20%; at most 1000). @defaultValue 0.2 */
  readonly percentCanRetry?: number | undefined;
  /** Where the window reads time (a virtual clock in simulations). @defaultValue {@link systemClock} */
  readonly clock?: Pick<Clock, 'now'> | undefined;
}

/**
 * A {@link ratio} budget.
 *
 * @example
 * ```ts
 * const budget: Ratio = backoff.ratio();
 * ```
 */
export interface Ratio extends RetryBudget {
  /** The window's counts, for metrics. */
  state(): RatioState;
}

/** The state of a {@link ratio} budget, for metrics. */
export interface RatioState {
  /** Requests counted in the window. */
  readonly requests: number;
  /** Retries counted in the window. */
  readonly retries: number;
  /** Retries that would be allowed now. */
  readonly balance: number;
}

/**
 * Finagle's RetryBudget: over a sliding window of `ttl` seconds (10 slices of `ttl` / 10, as
 * Finagle keeps them), retries may be up to `percentCanRetry` of requests plus
 * `minRetriesPerSecond` × `ttl`, in Finagle's integer arithmetic. Defaults (20% plus 10 per
 * second over 10 s) keep a full outage at about 1.2 attempts per request, while a service with
 * scattered failures retries as freely as without a budget.
 *
 * @param options - {@link RatioOptions}
 * @returns a budget whose `state()` reports the window's counts
 * @example
 * ```ts
 * const budget = backoff.ratio({ percentCanRetry: 0.2 });
 * ```
 */
export function ratio(options: RatioOptions = {}): Ratio {
  const { rangeMs, deposit, withdrawal, reserve } = ratioSettings(options);
  const clock = options.clock ?? systemClock;
  const window = new SlidingWindow(rangeMs, () => Math.floor(clock.now() * 1000));
  const state = (): RatioState => {
    const [tokens, requests, retries] = window.sums();
    // Finagle's balance is a Scala Long division: truncated toward zero (-23.5 reads -23).
    return { requests, retries, balance: Math.trunc((tokens + reserve) / withdrawal) };
  };
  return {
    onRequest() {
      window.add(deposit, 1, 0);
    },
    tryRetry() {
      // Finagle's leaky bucket: the tokens in the window plus the reserve must pay a withdrawal.
      if (window.sums()[0] + reserve < withdrawal) return false;
      window.add(-withdrawal, 0, 1);
      return true;
    },
    state,
  };
}

/**
 * Finagle's WindowedAdder, for three counts at once (tokens, requests, retries): the last `range`
 * milliseconds in 10 slices — 9 closed ones and the open one, which closes `range / 10` ms after
 * the previous closed, counting the slices skipped meanwhile as empty. Times are whole
 * milliseconds.
 */
class SlidingWindow {
  readonly #slice: number;
  readonly #now: () => number;
  /** When the open slice opened. */
  #opened: number;
  /** The closed slices, as [tokens, requests, retries]; `#next` is the one the open slice replaces. */
  readonly #closed: [number, number, number][] = Array.from({ length: SLICES - 1 }, () => [
    0, 0, 0,
  ]);
  #next = 0;
  #open: [number, number, number] = [0, 0, 0];

  constructor(rangeMs: number, now: () => number) {
    this.#slice = Math.floor(rangeMs / SLICES);
    this.#now = now;
    this.#opened = now();
  }

  add(tokens: number, requests: number, retries: number): void {
    this.#roll();
    this.#open[0] += tokens;
    this.#open[1] += requests;
    this.#open[2] += retries;
  }

  sums(): [number, number, number] {
    this.#roll();
    const total: [number, number, number] = [...this.#open];
    for (const slice of this.#closed) {
      total[0] += slice[0];
      total[1] += slice[1];
      total[2] += slice[2];
    }
    return total;
  }

  #roll(): void {
    const now = this.#now();
    const elapsed = now - this.#opened;
    if (elapsed < this.#slice) return;
    const closed = this.#closed.length;
    this.#closed[this.#next] = this.#open;
    this.#open = [0, 0, 0];
    this.#next = (this.#next + 1) % closed;
    const skipped = Math.min(Math.floor(elapsed / this.#slice) - 1, closed);
    for (let k = 0; k < skipped; k++) {
      this.#closed[this.#next] = [0, 0, 0];
      this.#next = (this.#next + 1) % closed;
    }
    this.#opened = now;
  }
}

/** The slices of a ratio budget's window, as Finagle's leaky bucket has them. */
const SLICES = 10;
