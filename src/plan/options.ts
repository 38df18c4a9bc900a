/**
 * Options: checked once, when a decorator is made, and compiled into the loop's read-only `Plan`.
 *
 * @module
 */

import type { Clock } from '../base/clock.js';
import {
  checkNumber,
  checkSignal,
  ignoreRejection,
  isThenable,
  show,
  typeError,
} from '../base/validate.js';
import { checkBreaker } from '../engine/gate.js';
import type { Listener } from '../engine/lifecycle.js';
import { listen } from '../listeners/listeners.js';
import { backoffLine, defaultLogger, giveupLine, LEVELS } from '../listeners/logging.js';
import { tracer } from '../listeners/telemetry.js';
import type { AsyncOptions, ExceptionOptions, RetryBudget } from '../types.js';
import { fullJitter } from '../waits/jitter.js';
import { checkWaitOptions, defaultJitterOf, expo, type WaitContext } from '../waits/wait-gen.js';
import type { Limits, Plan } from './plan.js';

type Callback = (...args: never[]) => unknown;

/** How a decorator maker calls `makePlan`. */
export interface PlanRequest {
  /** The public name, for error messages. */
  readonly api: string;
  readonly wait: unknown;
  readonly catches: (error: unknown) => boolean;
  readonly predicate: Callback | undefined;
  readonly options: unknown;
  readonly sync: boolean;
  readonly blockForm: boolean;
  /** The twin's default clock: the system's, with only what the twin uses. */
  readonly clock: Clock;
  /** An add-on's attributes of a call, for telemetry (`retryFetch`: the method and the server). */
  readonly attributes?: Plan['attributes'];
}

/** A lazy option is a function without parameters (`fn.length === 0`). */
const isLazy = (value: unknown): value is () => unknown =>
  typeof value === 'function' && value.length === 0;

function callLazy(name: string, lazy: () => unknown): unknown {
  const value = lazy();
  if (isThenable(value)) {
    ignoreRejection(value);
    throw new TypeError(
      `The lazy option \`${name}\` returned a Promise: it must return its value synchronously`,
    );
  }
  return value;
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

/**
 * Resolves the lazy options of one call (contract §5 step 1) in Python's order — `maxTries`,
 * `maxTime`, then the wait generator's options — and checks what they returned.
 */
function lazyResolver(
  maxTries: unknown,
  maxTime: unknown,
  waitOptions: Readonly<Record<string, unknown>>,
  wait: object,
): () => Limits {
  return () => {
    const tries = checkMaxTries(isLazy(maxTries) ? callLazy('maxTries', maxTries) : maxTries);
    const time = checkMaxTime(isLazy(maxTime) ? callLazy('maxTime', maxTime) : maxTime);
    const resolved: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(waitOptions)) {
      resolved[key] = isLazy(value) ? callLazy(key, value) : value;
    }
    checkWaitOptions(wait, resolved);
    return { maxTries: tries, maxTime: time, waitOptions: resolved };
  };
}

/** A limit: a number, or a lazy option returning one (checked per call). */
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

/**
 * A jitter takes the wait: `(seconds, random) => seconds`. One without parameters is refused:
 * Python backoff still runs its deprecated nullary form as `wait + jitter()`, and taking its result
 * as the whole wait would silently collapse ported waits.
 */
function checkJitter(value: unknown): Callback | undefined {
  const jitter = optionalFunction('jitter', value);
  if (jitter !== undefined && jitter.length === 0) {
    throw new TypeError(
      `Expected \`jitter\` to take the wait in seconds, (seconds) => seconds, got ${show(jitter)} of no parameters; Python backoff's deprecated nullary jitter (wait + jitter()) is not supported: write (seconds) => seconds + jitter()`,
    );
  }
  return jitter;
}

/** One handler or an iterable of them, read once; `undefined` when there is none. @internal */
export function handlerList(name: string, value: unknown): readonly Callback[] | undefined {
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

/**
 * The logger: the user's, the default one (`undefined` when it is silent), or `null` when the user
 * turned logging off.
 */
function checkLogger(value: unknown): Record<string, unknown> | null | undefined {
  if (value === null) return null;
  if (value !== undefined && typeof value !== 'object') {
    throw typeError(
      'logger',
      'an object with log level methods (console, pino, winston …) or null',
      value,
    );
  }
  return (value ?? defaultLogger()) as Record<string, unknown> | undefined;
}

/**
 * A log level: a method of the logger, or one the default logger has when it is silent. Not
 * checked when logging is off (`logger: null`).
 */
function checkLevel(
  name: string,
  level: unknown,
  fallback: string,
  logger: Record<string, unknown> | null | undefined,
): string {
  if (logger === null) return fallback;
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

function checkBudget(value: unknown, sync: boolean, api: string): RetryBudget | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof (value as RetryBudget).tryRetry !== 'function') {
    throw typeError('budget', 'a retry budget (an object with a tryRetry method)', value);
  }
  if (sync && (value as RetryBudget).async === true) {
    throw new TypeError(
      `\`budget\` is a budget whose hooks return Promises (kept in Redis, say): ${api} cannot wait for it; use the async twin`,
    );
  }
  for (const hook of ['onRequest', 'onFailure', 'onSuccess'] as const) {
    const method = (value as RetryBudget)[hook];
    if (method !== undefined && typeof method !== 'function') {
      throw typeError(`budget.${hook}`, 'a function', method);
    }
  }
  return value as RetryBudget;
}

function checkName(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') throw typeError('name', 'a string', value);
  return value;
}

function checkTimeout(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  return checkNumber('timeout', value, 'a number of seconds > 0 or Infinity', (v) => v > 0);
}

function checkClock(value: unknown, sync: boolean, timeout: number | undefined): Clock | undefined {
  if (value === undefined) return undefined;
  const needed = ['now', sync ? 'sleepSync' : 'sleep'];
  // A clock made before `timeout` existed has no timer: refused only with a timeout.
  if (timeout !== undefined && timeout !== Number.POSITIVE_INFINITY) needed.push('timer');
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

/**
 * `free`: error classes (exception forms), or a function of the failure's details (every form),
 * compiled to one function of the details.
 */
function checkFree(value: unknown, request: PlanRequest): Callback | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'function' && !isClass(value)) return value as Callback;
  if (request.predicate !== undefined) {
    throw typeError('free', 'a function of the details (with the value)', value);
  }
  let matches: (error: unknown) => boolean;
  try {
    matches = catcher(value);
  } catch {
    throw typeError(
      'free',
      'an error class, a non-empty array of them, or a function of the details',
      value,
    );
  }
  return ((details: { exception: unknown }) => matches(details.exception)) as Callback;
}

/** An error class rather than a function of the details: `Error`, a subclass, or `class` syntax. */
const isClass = (fn: Function): boolean =>
  fn === Error ||
  fn.prototype instanceof Error ||
  /^class\b/.test(Function.prototype.toString.call(fn));

function checkMaxFreeTries(value: unknown): number {
  if (value === null || value === undefined) return DEFAULT_MAX_FREE_TRIES;
  return checkNumber(
    'maxFreeTries',
    value,
    'a positive integer or Infinity (with a finite maxTime)',
    (v) => v === Number.POSITIVE_INFINITY || (Number.isInteger(v) && v >= 1),
  );
}

/** The default `maxFreeTries`: ten free failures a call. */
const DEFAULT_MAX_FREE_TRIES = 10;

/**
 * The default `freeWait`: 1, 2, 4 … 20 s, jittered as the decorator's waits are. AWS's throttling
 * retries start at 1 s (`THROTTLING_RETRY_DELAY_BASE`) and cap at 20 s (`MAXIMUM_RETRY_DELAY`).
 */
const defaultFreeWait = (): Iterator<number, unknown, unknown> => expo({ factor: 1, maxValue: 20 });

/** What an option's check may read besides the option's own value. */
interface CheckContext {
  readonly request: PlanRequest;
  /**
   * The options checked before this one that its check reads: only those its row names in `reads`,
   * which come earlier in the table (a test holds the order).
   */
  readonly checked: {
    readonly logger?: ReturnType<typeof checkLogger>;
    readonly timeout?: number | undefined;
  };
}

/** One row of the option table: how the option is checked, and who takes it. */
interface OptionRow<V> {
  /** Checks the value when the decorator is made; returns what the plan keeps of it. */
  readonly check: (value: unknown, context: CheckContext) => V;
  /**
   * Which decorators take it: all, the exception forms only (not the predicate twins), or the
   * async forms only (with why a blocking one cannot).
   */
  readonly takenBy: 'all' | 'exceptionForms' | { readonly asyncOnly: string };
  /** Does `preview()` keep it? It leaves out what would act outside the preview or spend a budget. */
  readonly inPreview: boolean;
  /** The rows whose checked values this row's check reads: its dependencies, checked before it. */
  readonly reads?: readonly (keyof CheckContext['checked'])[];
}

/** A row taken by every decorator and kept by previews: the option only shapes the waits. */
const plain = { takenBy: 'all', inPreview: true } as const;

/** A row of a handler option: a user callback, left out of previews. */
const handler = { ...plain, inPreview: false } as const;

/** A wait's jitter, as the plan keeps it: `null` for none. */
type Jitter = ((seconds: number, random: () => number) => number) | null;

/** The options of the retry loop, every one of them: the option types of `types.ts`. */
type RetryOptionName = keyof (ExceptionOptions<unknown> & AsyncOptions);

/**
 * The option table: every retry-loop option, in the order they are checked. Every other key of the
 * options goes to the wait generator. The compiler checks that the table names exactly the
 * options of the public option types. @internal
 */
export const OPTIONS = {
  maxTries: {
    ...plain,
    check: (value: unknown) => checkLimit('maxTries', value, checkMaxTries),
  },
  maxTime: {
    ...plain,
    check: (value: unknown) => checkLimit('maxTime', value, checkMaxTime),
  },
  jitter: {
    ...plain,
    check: (value: unknown, { request }: CheckContext): Jitter =>
      ((value === undefined
        ? defaultJitterOf(request.wait as object, fullJitter)
        : checkJitter(value)) ?? null) as Jitter,
  },
  random: {
    ...plain,
    check: (value: unknown) => (optionalFunction('random', value) ?? Math.random) as () => number,
  },
  signal: {
    ...plain,
    check: (value: unknown) => checkSignal(value),
    takenBy: { asyncOnly: 'a blocking wait cannot be aborted' },
    inPreview: false,
  },
  timeout: {
    ...plain,
    check: checkTimeout,
    takenBy: { asyncOnly: 'a blocking call cannot be interrupted' },
    inPreview: false,
  },
  budget: {
    ...plain,
    check: (value: unknown, { request }: CheckContext) =>
      checkBudget(value, request.sync, request.api),
    inPreview: false,
  },
  raiseOnGiveup: {
    ...plain,
    check: (value: unknown) => {
      const raise = value ?? true;
      if (typeof raise !== 'boolean') throw typeError('raiseOnGiveup', 'a boolean', raise);
      return raise;
    },
    takenBy: 'exceptionForms',
    // Stryker disable next-line BooleanLiteral: a preview's waits are the same whether it raises or not
    inPreview: false,
  },
  name: { ...plain, check: checkName },
  // Stryker disable next-line BooleanLiteral: preview sets its own logger (null) and clock
  logger: { ...plain, check: checkLogger, inPreview: false },
  backoffLogLevel: {
    ...plain,
    check: (value: unknown, { checked }: CheckContext) =>
      checkLevel('backoffLogLevel', value, 'info', checked.logger),
    reads: ['logger'],
    // Stryker disable next-line BooleanLiteral: with preview's logger null, levels are not checked
    inPreview: false,
  },
  giveupLogLevel: {
    ...plain,
    check: (value: unknown, { checked }: CheckContext) =>
      checkLevel('giveupLogLevel', value, 'error', checked.logger),
    reads: ['logger'],
    // Stryker disable next-line BooleanLiteral: with preview's logger null, levels are not checked
    inPreview: false,
  },
  onTry: { ...handler, check: (value: unknown) => handlerList('onTry', value) },
  onSuccess: { ...handler, check: (value: unknown) => handlerList('onSuccess', value) },
  onBackoff: { ...handler, check: (value: unknown) => handlerList('onBackoff', value) },
  onGiveup: { ...handler, check: (value: unknown) => handlerList('onGiveup', value) },
  giveup: {
    ...handler,
    check: (value: unknown) => optionalFunction('giveup', value),
    takenBy: 'exceptionForms',
  },
  clock: {
    ...plain,
    check: (value: unknown, { request, checked }: CheckContext) =>
      checkClock(value, request.sync, checked.timeout) ?? request.clock,
    reads: ['timeout'],
    // Stryker disable next-line BooleanLiteral: preview sets its own clock
    inPreview: false,
  },
  free: {
    ...plain,
    check: (value: unknown, { request }: CheckContext) => checkFree(value, request),
    // A preview's failures are its own: which are free, it is told (`PreviewOptions.free`).
    inPreview: false,
  },
  maxFreeTries: { ...plain, check: checkMaxFreeTries },
  freeWait: {
    ...plain,
    check: (value: unknown) =>
      (optionalFunction('freeWait', value) ?? defaultFreeWait) as (
        context: WaitContext,
      ) => Iterator<number, unknown, unknown>,
  },
  breaker: { ...plain, check: checkBreaker, inPreview: false },
} satisfies { readonly [Name in RetryOptionName]-?: OptionRow<unknown> };

/** What the table's checks return, by option. */
type Checked = {
  -readonly [Name in keyof typeof OPTIONS]: ReturnType<(typeof OPTIONS)[Name]['check']>;
};

/**
 * The options that the plan does not keep as they were checked: the limits (compiled into
 * `limits`/`resolve`), the logger and its levels (into log lines) and the handlers (into
 * listeners). Every other row lands in the plan as its check returned it.
 */
type Compiled =
  | 'maxTries'
  | 'maxTime'
  | 'logger'
  | 'backoffLogLevel'
  | 'giveupLogLevel'
  | 'onTry'
  | 'onSuccess'
  | 'onBackoff'
  | 'onGiveup';

/** The checked options the plan keeps as they are. @internal */
export type KeptOptions = Readonly<Omit<Checked, Compiled>>;

type Row = OptionRow<unknown>;
const ROWS = Object.entries(OPTIONS) as [RetryOptionName, Row][];

/** The names of the retry-loop options, in the table's order. */
export const RETRY_OPTIONS: readonly RetryOptionName[] = ROWS.map(([name]) => name);

/** Is `key` an option of the retry loop (and not of the wait generator)? */
const isRetryOption = (key: string): key is RetryOptionName => Object.hasOwn(OPTIONS, key);

/**
 * The options `preview()` keeps: the wait generator's and those of the table that only shape the
 * waits (limits, jitter, random).
 */
export function previewed(options: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const key of Object.keys(options)) {
    if (!isRetryOption(key) || OPTIONS[key].inPreview) kept[key] = options[key];
  }
  return kept;
}

/** Refuses an option the decorator does not take, naming it and the decorators that do. */
function checkTakenBy(name: string, row: Row, value: unknown, request: PlanRequest): void {
  if (row.takenBy === 'all' || value === undefined || value === null) return;
  if (row.takenBy === 'exceptionForms') {
    if (request.predicate === undefined) return;
    throw new TypeError(
      `\`${name}\` is an option of onException and retryContext, not of ${request.api}`,
    );
  }
  if (!request.sync) return;
  throw new TypeError(
    `\`${name}\` is an option of the async twins (onException, onPredicate, retryContext), not of ${request.api}: ${row.takenBy.asyncOnly}`,
  );
}

/** Checks a decorator's arguments and compiles them into a `Plan` (contract §4 and §12). */
export function makePlan(request: PlanRequest): Plan {
  const { wait, predicate } = request;
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
    if (isRetryOption(key)) checkTakenBy(key, OPTIONS[key], value, request);
    else if (value !== undefined) {
      waitOptions[key] = value;
      if (isLazy(value)) lazyWaitOptions.add(key);
    }
  }
  checkWaitOptions(wait, waitOptions, lazyWaitOptions);

  // The table's checks, in its order.
  const checked: Partial<Checked> = {};
  const context: CheckContext = { request, checked };
  for (const [name, row] of ROWS) {
    (checked as Record<string, unknown>)[name] = row.check(options[name], context);
  }
  const {
    maxTries,
    maxTime,
    logger,
    backoffLogLevel,
    giveupLogLevel,
    onTry,
    onSuccess,
    onBackoff,
    onGiveup,
    ...kept
  } = checked as Checked;

  // Free failures need a bound: their own, or the call's time.
  if (kept.maxFreeTries === Number.POSITIVE_INFINITY && maxTime === Number.POSITIVE_INFINITY) {
    throw new RangeError(
      'Expected `maxFreeTries` to be finite without a finite `maxTime`, got Infinity',
    );
  }
  const lazy =
    // Stryker disable next-line ConditionalExpression,EqualityOperator: resolving plain options per call gives the same limits
    typeof maxTries === 'function' || typeof maxTime === 'function' || lazyWaitOptions.size > 0;
  const limits: Limits | undefined = lazy
    ? undefined
    : { maxTries: maxTries as number, maxTime: maxTime as number, waitOptions };
  const on = listen({
    budget: kept.budget,
    onTry,
    onSuccess,
    onBackoff,
    onGiveup,
    backoffLine: logger ? backoffLine(logger, backoffLogLevel, kept.name) : undefined,
    giveupLine: logger ? giveupLine(logger, giveupLogLevel, backoffLogLevel, kept.name) : undefined,
  });
  // The async block form always has one: its attempts' `signal` exists without the options.
  const guarded =
    kept.timeout !== undefined || kept.signal !== undefined || (request.blockForm && !request.sync);
  const isPublisher = (listener: Listener): boolean => listener.active !== undefined;
  return {
    ...kept,
    wait: wait as Plan['wait'],
    limits,
    resolve: lazyResolver(maxTries, maxTime, waitOptions, wait),
    catches: request.catches,
    predicate,
    on,
    around: tracer,
    attributes: request.attributes,
    keepsOutcome:
      predicate !== undefined &&
      // Stryker disable next-line OptionalChaining: in Node the give-up stage always has its publisher
      on.giveup?.some((listener) => !isPublisher(listener)) === true,
    guarded,
    blockForm: request.blockForm,
    // Stryker disable next-line BooleanLiteral,ConditionalExpression: `false` only turns the fast paths off
    inlineFirstAttempt:
      kept.signal === undefined &&
      // A breaker object is asked by the fast path too; a function picking one needs the details.
      typeof kept.breaker !== 'function' &&
      // Stryker disable next-line ConditionalExpression: the block form never takes the decorators' fast path
      !(request.blockForm && !request.sync) &&
      on.request === undefined &&
      // Stryker disable next-line ArrayDeclaration,MethodExpression: in Node the publisher is on this stage; the drivers skip the fast path while it is active
      (on.beforeAttempt ?? []).every(isPublisher),
    // Stryker disable next-line BooleanLiteral,ConditionalExpression: `false` only turns the fast path off
    inlineSuccess:
      predicate === undefined &&
      on.success === undefined &&
      // Stryker disable next-line ArrayDeclaration,MethodExpression: in Node the publisher is this stage's only listener
      (on.attemptEnd ?? []).every(isPublisher),
    timed:
      maxTime !== Number.POSITIVE_INFINITY ||
      kept.giveup !== undefined ||
      Object.values(on).some((list) => list?.some((listener) => listener.timed === true)),
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
    return (error) => isInstance(error, cls);
  }
  return (error) => classes.some((cls) => isInstance(error, cls));
}

/**
 * `instanceof` that never throws: a thrown revoked Proxy (whose prototype cannot be read) or a
 * class whose `Symbol.hasInstance` throws matches nothing, so the error propagates as itself.
 */
function isInstance(error: unknown, cls: new () => unknown): boolean {
  try {
    return error instanceof cls;
  } catch {
    // Not an instance of anything: the error goes on as itself.
  }
  return false;
}
