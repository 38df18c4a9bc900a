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

export { type Clock, systemClock } from './clock.js';
export { onException, onExceptionSync, onPredicate, onPredicateSync } from './decorator.js';
export { fullJitter, randomJitter } from './jitter.js';
export {
  type Attempt,
  type AttemptSync,
  retryContext,
  retryContextSync,
} from './retry-context.js';
export type {
  AnyFunction,
  AsyncDecorator,
  CallDetails,
  CommonOptions,
  ContextDetails,
  ContextOptions,
  ContextOptionsParameter,
  ErrorClass,
  ExceptionOptions,
  ExceptionOptionsParameter,
  Handler,
  Handlers,
  InstanceOf,
  Jitter,
  Lazy,
  LegacyMethodDecorator,
  Logger,
  LogLevel,
  Predicate,
  PredicateOptions,
  PredicateOptionsParameter,
  QuietExceptionOptions,
  RaisingExceptionOptionsParameter,
  SyncDecorator,
  WaitGenerator,
  WithException,
  WithValue,
  WithWait,
} from './types.js';
export {
  type ConstantOptions,
  constant,
  type DecayOptions,
  decay,
  type ExpoOptions,
  expo,
  type FiboOptions,
  fibo,
  type RuntimeOptions,
  runtime,
} from './wait-gen.js';
