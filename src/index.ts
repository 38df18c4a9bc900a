/**
 * backoff-ts: retry with backoff, a TypeScript port of Python's `backoff`. Durations are seconds.
 *
 * @example
 * ```ts
 * import * as backoff from 'backoff-ts';
 *
 * const getJson = backoff.onException(backoff.expo, TypeError, { maxTime: 60 })(
 *   async (url: string) => (await fetch(url)).json(),
 * );
 * ```
 *
 * @module
 */

export { type Clock, systemClock } from './base/clock.js';
export {
  type AdaptedBreaker,
  type CockatielCircuitBreaker,
  fromCockatiel,
  fromOpossum,
  IgnoredOutcome,
  type OpossumCircuitBreaker,
  type OpossumOptions,
} from './breakers/adapters.js';
export {
  type BreakerRefusal,
  type BreakerSnapshot,
  type BreakerState,
  type BreakerTransition,
  type CircuitBreaker,
  type CircuitBreakerOptions,
  circuitBreaker,
  consecutive,
  type FailureRatioOptions,
  failureRatio,
  type KeyedBreakers,
  type KeyedBreakersOptions,
  keyedBreakers,
  type TripCounter,
  type TripPolicy,
} from './breakers/circuit-breaker.js';
export {
  type Ratio,
  type RatioOptions,
  type RatioState,
  ratio,
  type Throttle,
  type ThrottleOptions,
  type ThrottleState,
  type TokenBucket,
  type TokenBucketOptions,
  type TokenBucketState,
  throttle,
  tokenBucket,
} from './budgets/budget.js';
export { AttemptTimeoutError, attemptSignal } from './engine/attempt.js';
export { type CallContext, callWith } from './engine/call-context.js';
export { BreakerOpenError } from './engine/gate.js';
export { onException, onExceptionSync, onPredicate, onPredicateSync } from './forms/decorator.js';
export {
  type Attempt,
  type AttemptSync,
  retryContext,
  retryContextSync,
} from './forms/retry-context.js';
export { isNetworkError } from './http/network-error.js';
export { type RetryAfterOptions, retryAfter, type ServerDirected } from './http/retry-after.js';
export {
  type AttemptMessage,
  type CallMessage,
  CHANNELS,
  type GiveupMessage,
  type MessageBase,
  type WaitMessage,
} from './listeners/telemetry.js';
export type {
  Admission,
  AnyFunction,
  AnyTarget,
  AsyncDecorator,
  AsyncOptions,
  Breaker,
  BreakerPermit,
  BudgetCall,
  CallDetails,
  CommonOptions,
  ContextDetails,
  ContextOptions,
  ContextOptionsParameter,
  ErrorClass,
  ExceptionOptions,
  ExceptionOptionsParameter,
  GiveupReason,
  Granted,
  Handler,
  Handlers,
  InstanceOf,
  Jitter,
  Lazy,
  LazyOptions,
  LegacyMethodDecorator,
  Logger,
  LogLevel,
  OptionsParameter,
  Predicate,
  PredicateOptions,
  PredicateOptionsParameter,
  QuietExceptionOptions,
  RaisingExceptionOptionsParameter,
  Refused,
  RetryBudget,
  SyncDecorator,
  WaitGenerator,
  WaitOptionsOf,
  WithException,
  WithReason,
  WithValue,
  WithWait,
} from './types.js';
export { equalJitter, fullJitter, randomJitter } from './waits/jitter.js';
export {
  type ConstantOptions,
  constant,
  type DecayOptions,
  type DecorrelatedOptions,
  decay,
  decorrelated,
  type ExpoOptions,
  expo,
  type FiboOptions,
  fibo,
  type RuntimeOptions,
  runtime,
  type WaitContext,
  type WaitIterator,
} from './waits/wait-gen.js';
