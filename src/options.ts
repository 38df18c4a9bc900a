/**
 * Options: checked once, when a decorator is made, and compiled into the loop's read-only `Plan`.
 *
 * @internal
 * @module
 */

import type { RetryBudget } from './budget.js';
import { type Clock, systemClock } from './clock.js';
import { fullJitter } from './jitter.js';
import { backoffLine, defaultLogger, giveupLine, LEVELS } from './logging.js';
import type { Limits, Plan } from './loop.js';
import { checkNumber, isThenable, show, typeError } from './validate.js';
import { checkWaitOptions, defaultJitterOf } from './wait-gen.js';

type Callback = (...args: never[]) => unknown;

/** The options the retry loop reads; every other option goes to the wait generator. */
const RETRY_OPTIONS = new Set([
  'maxTries',
  'maxTime',
  'jitter',
  'giveup',
  'raiseOnGiveup',
  'onTry',
  'onSuccess',
  'onBackoff',
  'onGiveup',
  'logger',
  'backoffLogLevel',
  'giveupLogLevel',
  'clock',
  'signal',
  'random',
  'budget',
]);

/** How a decorator maker calls `makePlan`. */
export interface PlanRequest {
  /** The public name, for error messages. */
  readonly api: string;
  readonly wait: unknown;
  readonly catches: (error: unknown) => boolean;
  readonly predicate: Callback | undefined;
  readonly options: unknown;
  readonly sync: boolean;
  readonly block: boolean;
}

/** A lazy option is a function without parameters (`fn.length === 0`). */
const isLazy = (value: unknown): value is () => unknown =>
  typeof value === 'function' && value.length === 0;

function callLazy(name: string, lazy: () => unknown): unknown {
  const value = lazy();
  if (isThenable(value)) {
    throw new TypeError(
      `The lazy option \`${name}\` returned a Promise: it must return its value synchronously`,
    );
  }
  return value;
}

/** Resolves the lazy options of one call (contract §5 step 1) and checks what they returned. */
function lazyResolver(
  maxTries: unknown,
  maxTime: unknown,
  waitOptions: Readonly<Record<string, unknown>>,
  wait: object,
): () => Limits {
  return () => {
    const resolved: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(waitOptions)) {
      resolved[key] = isLazy(value) ? callLazy(key, value) : value;
    }
    checkWaitOptions(wait, resolved);
    return {
      maxTries: checkMaxTries(isLazy(maxTries) ? callLazy('maxTries', maxTries) : maxTries),
      maxTime: checkMaxTime(isLazy(maxTime) ? callLazy('maxTime', maxTime) : maxTime),
      waitOptions: resolved,
    };
  };
}

function checkMaxTries(value: unknown): number {
  if (value === null || value === undefined) return Number.POSITIVE_INFINITY;
  return checkNumber(
    'maxTries',
    value,
    'a positive integer or Infinity',
    (v) => v === Number.POSITIVE_INFINITY || (Number.isInteger(v) && v >= 1),
  );
}

function checkMaxTime(value: unknown): number {
  if (value === null || value === undefined) return Number.POSITIVE_INFINITY;
  return checkNumber('maxTime', value, 'a number of seconds >= 0 or Infinity', (v) => v >= 0);
}

function checkLimit(name: string, value: unknown, check: (value: unknown) => number): unknown {
  if (typeof value !== 'function') return check(value);
  if (value.length !== 0) {
    throw typeError(name, `a number or a zero-argument function returning one`, value);
  }
  return value;
}

function optionalFunction(name: string, value: unknown): Callback | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'function') throw typeError(name, 'a function', value);
  return value as Callback;
}

/** Default log handlers run before user handlers. */
function withLogLine(
  line: Callback | undefined,
  handlers: readonly Callback[] | undefined,
): readonly Callback[] | undefined {
  if (line === undefined) return handlers;
  return handlers === undefined ? [line] : [line, ...handlers];
}

/** One handler or an iterable of them, read once; `undefined` when there is none. */
function handlerList(name: string, value: unknown): readonly Callback[] | undefined {
  const list: Callback[] = [];
  if (typeof value === 'function') {
    list.push(value as Callback);
  } else if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function'
  ) {
    let index = 0;
    for (const handler of value as Iterable<unknown>) {
      if (typeof handler !== 'function') {
        throw typeError(`${name}[${index}]`, 'a function', handler);
      }
      list.push(handler as Callback);
      index += 1;
    }
  } else if (value !== undefined && value !== null) {
    throw typeError(name, 'a function or an iterable of functions', value);
  }
  return list.length === 0 ? undefined : list;
}

/** A log level: a method of `logger`, or one the default logger has when it is silent (`undefined`). */
function checkLevel(
  name: string,
  level: unknown,
  fallback: string,
  logger: Record<string, unknown> | undefined,
): string {
  if (level === undefined) level = fallback;
  if (typeof level !== 'string') throw typeError(name, 'a logger method name', level);
  const method = logger?.[level];
  if (logger === undefined ? !LEVELS.includes(level) : typeof method !== 'function') {
    throw new TypeError(
      `Expected the logger to have a method \`${level}\` (the \`${name}\`), got ${show(method)}`,
    );
  }
  return level;
}

function checkSignal(api: string, value: unknown, sync: boolean): AbortSignal | undefined {
  if (value === undefined || value === null) return undefined;
  if (sync) {
    throw new TypeError(
      `\`signal\` is an option of the async twins (onException, onPredicate, retryContext), not of ${api}: a blocking wait cannot be aborted`,
    );
  }
  // Duck-typed, so that a signal of another realm (an iframe, a polyfill) is accepted too.
  const signal = value as AbortSignal;
  if (typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function') {
    throw typeError('signal', 'an AbortSignal', value);
  }
  return signal;
}

function checkBudget(value: unknown): RetryBudget | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof (value as RetryBudget).tryRetry !== 'function') {
    throw typeError('budget', 'a retry budget (an object with a tryRetry method)', value);
  }
  for (const hook of ['onRequest', 'onFailure', 'onSuccess'] as const) {
    const method = (value as RetryBudget)[hook];
    if (method !== undefined && typeof method !== 'function') {
      throw typeError(`budget.${hook}`, 'a function', method);
    }
  }
  return value as RetryBudget;
}

function checkClock(value: unknown, sync: boolean): Clock {
  if (value === undefined) return systemClock;
  const needed = ['now', sync ? 'sleepSync' : 'sleep'];
  if (typeof value !== 'object' || value === null) {
    throw typeError('clock', `an object with methods ${needed.join(' and ')}`, value);
  }
  for (const method of needed) {
    if (typeof (value as Record<string, unknown>)[method] !== 'function') {
      throw typeError(`clock.${method}`, 'a function', (value as Record<string, unknown>)[method]);
    }
  }
  return value as Clock;
}

/** Checks a decorator's arguments and compiles them into a `Plan` (contract §4 and §12). */
export function makePlan(request: PlanRequest): Plan {
  const { api, wait, sync, block, predicate } = request;
  if (typeof wait !== 'function') {
    throw typeError('wait', 'a wait generator function such as expo', wait);
  }
  const raw = request.options ?? {};
  if (typeof raw !== 'object') throw typeError('options', 'an object', raw);
  const options = raw as Record<string, unknown>;

  const waitOptions: Record<string, unknown> = {};
  const lazyWaitOptions = new Set<string>();
  for (const key of Object.keys(options)) {
    const value = options[key];
    if (RETRY_OPTIONS.has(key)) {
      if (
        predicate !== undefined &&
        (key === 'giveup' || key === 'raiseOnGiveup') &&
        value !== undefined
      ) {
        throw new TypeError(
          `\`${key}\` is an option of onException and retryContext, not of ${api}`,
        );
      }
    } else if (value !== undefined) {
      waitOptions[key] = value;
      if (isLazy(value)) lazyWaitOptions.add(key);
    }
  }
  checkWaitOptions(wait, waitOptions, lazyWaitOptions);

  const maxTries = checkLimit('maxTries', options.maxTries, checkMaxTries);
  const maxTime = checkLimit('maxTime', options.maxTime, checkMaxTime);
  const lazy =
    // Stryker disable next-line ConditionalExpression,EqualityOperator: resolving plain options per call gives the same limits
    typeof maxTries === 'function' || typeof maxTime === 'function' || lazyWaitOptions.size > 0;
  const limits: Limits | undefined = lazy
    ? undefined
    : { maxTries: maxTries as number, maxTime: maxTime as number, waitOptions };

  const jitter = (
    options.jitter === undefined
      ? defaultJitterOf(wait, fullJitter)
      : optionalFunction('jitter', options.jitter)
  ) as Plan['jitter'] | undefined;
  const random = (optionalFunction('random', options.random) ?? Math.random) as Plan['random'];
  const signal = checkSignal(api, options.signal, sync);
  const budget = checkBudget(options.budget);
  const raiseOnGiveup = options.raiseOnGiveup ?? true;
  if (typeof raiseOnGiveup !== 'boolean')
    throw typeError('raiseOnGiveup', 'a boolean', raiseOnGiveup);

  let logBackoff: Callback | undefined;
  let logGiveup: Callback | undefined;
  if (options.logger !== null) {
    const given = options.logger;
    if (given !== undefined && typeof given !== 'object') {
      throw typeError(
        'logger',
        'an object with log level methods (console, pino, winston …) or null',
        given,
      );
    }
    const logger = (given ?? defaultLogger()) as Record<string, unknown> | undefined;
    const backoffLevel = checkLevel('backoffLogLevel', options.backoffLogLevel, 'info', logger);
    const giveupLevel = checkLevel('giveupLogLevel', options.giveupLogLevel, 'error', logger);
    if (logger !== undefined) {
      logBackoff = backoffLine(logger, backoffLevel);
      logGiveup = giveupLine(logger, giveupLevel, backoffLevel);
    }
  }

  const onTry = handlerList('onTry', options.onTry);
  const onSuccess = handlerList('onSuccess', options.onSuccess);
  const onBackoff = handlerList('onBackoff', options.onBackoff);
  const onGiveup = handlerList('onGiveup', options.onGiveup);
  const giveup = optionalFunction('giveup', options.giveup);
  return {
    wait: wait as Plan['wait'],
    random,
    signal,
    budget,
    // Stryker disable next-line ConditionalExpression: `false` only turns the fast paths off
    direct: onTry === undefined && signal === undefined && budget === undefined,
    limits,
    resolve: lazyResolver(maxTries, maxTime, waitOptions, wait),
    jitter: jitter ?? null,
    catches: request.catches,
    predicate,
    giveup,
    raiseOnGiveup,
    onTry,
    onSuccess,
    onBackoff: withLogLine(logBackoff, onBackoff),
    onGiveup: withLogLine(logGiveup, onGiveup),
    clock: checkClock(options.clock, sync),
    block,
    // Stryker disable next-line ConditionalExpression,EqualityOperator: `false` only turns the fast path off; with onTry, `direct` is false
    fastSuccess: predicate === undefined && onTry === undefined && onSuccess === undefined,
    // The default log lines show no elapsed time, so they alone never need the clock.
    timed:
      maxTime !== Number.POSITIVE_INFINITY ||
      [onTry, onSuccess, onBackoff, onGiveup, giveup].some((used) => used !== undefined),
  };
}

/** Compiles `exception` (one class or a non-empty array of classes) into an `instanceof` test. */
export function catcher(exception: unknown): (error: unknown) => boolean {
  const classes = Array.isArray(exception) ? exception : [exception];
  if (classes.length === 0) {
    throw typeError('exception', 'an error class or a non-empty array of them', exception);
  }
  for (const [index, cls] of classes.entries()) {
    if (
      typeof cls !== 'function' ||
      (typeof cls.prototype !== 'object' && !Object.hasOwn(cls, Symbol.hasInstance))
    ) {
      const name = Array.isArray(exception) ? `exception[${index}]` : 'exception';
      throw typeError(name, 'an error class (a constructor such as TypeError)', cls);
    }
  }
  // Stryker disable next-line ConditionalExpression,BlockStatement: a fast path for one class
  if (classes.length === 1) {
    const [cls] = classes as [new () => unknown];
    return (error) => error instanceof cls;
  }
  return (error) => classes.some((cls) => error instanceof cls);
}
