/**
 * Public types of backoff-ts: details objects, handlers, options and decorators.
 * This file holds no runtime code.
 *
 * @module
 */

import type { Clock } from './base/clock.js';
import type { WaitContext } from './waits/wait-gen.js';

/**
 * What a budget sees of one call. The loop keeps one record per call and passes it to every hook;
 * `memo` is the budget's own note about the call (the token bucket keeps the cost it withdrew).
 *
 * @example
 * ```ts
 * const budget: RetryBudget = { tryRetry: (call) => call.tries < 3 };
 * ```
 */
export interface BudgetCall {
  /** Attempts made so far. */
  tries: number;
  /** The last attempt's error (exception twins) or value (predicate twins). */
  outcome: unknown;
  /** Free for the budget to note something about this call. */
  memo: unknown;
  /**
   * Was the last retry asked for (`tryRetry`) a free one, which the `free` option accepted? It uses
   * up no try, but the budget still pays for it: `tokenBucket` at `throttlingCost`. Absent before
   * the loop first asks.
   */
  free?: boolean;
}

/**
 * A retry budget. Only `tryRetry` is required; the loop asks it before each retry (never before a
 * first attempt), and a refusal gives up with reason `'budget'`. Hooks may return a Promise (a
 * budget kept in Redis): the async twins await it; in the sync twins that is a `TypeError`.
 *
 * @example
 * ```ts
 * const shared = backoff.tokenBucket();
 * const getUser = backoff.onException(backoff.expo, TypeError, { budget: shared })(fetchUser);
 * const getOrder = backoff.onException(backoff.expo, TypeError, { budget: shared })(fetchOrder);
 * ```
 */
export interface RetryBudget {
  /** A call starts, before its first attempt. */
  onRequest?(call: BudgetCall): unknown;
  /**
   * An attempt failed in a way the decorator retries: not after an abort, nor when `giveup` said
   * stop; the last try's failure (past `maxTries` or `maxTime`) is told too.
   */
  onFailure?(call: BudgetCall): unknown;
  /** The call's last attempt succeeded (`call.tries` attempts in all). */
  onSuccess?(call: BudgetCall): unknown;
  /** May the call retry now? `true` (or a Promise of it) lets the retry go ahead. */
  tryRetry(call: BudgetCall): boolean | PromiseLike<boolean>;
  /**
   * `true` when the hooks return Promises (a budget kept in Redis): the sync twins refuse such a
   * budget when the decorator is made, before any call runs.
   */
  readonly async?: boolean;
}

/**
 * What a breaker gives the loop for one attempt: the attempt may go ahead, and its outcome is
 * reported on the permit exactly once.
 *
 * @example
 * ```ts
 * const permit: BreakerPermit = { success() {}, failure() {}, ignore() {} };
 * ```
 */
export interface BreakerPermit {
  /** The attempt succeeded (or its value passed the predicate). */
  success(): unknown;
  /** The attempt failed in a way the loop retries (a timeout too); `error` is the error or value. */
  failure(error: unknown): unknown;
  /** The outcome says nothing of the service: the caller's abort, an error the loop does not retry, or one `giveup` accepted. */
  ignore(): unknown;
}

/**
 * A breaker's answer before an attempt: a permit, or a refusal with the seconds after which it
 * may grant one (`retryAfter`, unknown if absent).
 *
 * @example
 * ```ts
 * const refused: Admission = { ok: false, retryAfter: 5 };
 * ```
 */
export type Admission = Granted | Refused;

/**
 * A breaker's permit for one attempt.
 *
 * @example
 * ```ts
 * const granted: Granted = { ok: true, permit: { success() {}, failure() {}, ignore() {} } };
 * ```
 */
export interface Granted {
  /** Always `true`: the attempt may go ahead. */
  readonly ok: true;
  /** Where the attempt's outcome is reported, once. */
  readonly permit: BreakerPermit;
}

/**
 * A breaker's refusal of one attempt: none is made.
 *
 * @example
 * ```ts
 * const refused: Refused = { ok: false, retryAfter: 5 };
 * ```
 */
export interface Refused {
  /** Always `false`: no attempt. */
  readonly ok: false;
  /** Seconds after which the breaker may grant a permit; absent when it does not know. */
  readonly retryAfter?: number | undefined;
}

/**
 * A circuit breaker, as the retry loop uses one: asked before every attempt, the first included.
 * A refusal makes no attempt and is a free failure; a permit reports the attempt's outcome. The
 * built-in `circuitBreaker()` is one; so is any object of this shape (the adapters of
 * cockatiel's and opossum's). `acquire` may return a Promise in the async twins.
 *
 * @example
 * ```ts
 * const alwaysOpen: Breaker = { key: 'demo', acquire: () => ({ ok: false, retryAfter: 30 }) };
 * ```
 */
export interface Breaker {
  /** Asks for an attempt. */
  acquire(): Admission | PromiseLike<Admission>;
  /** The breaker's name, as `BreakerOpenError.key` and telemetry show it. */
  readonly key?: string | undefined;
}

/**
 * Why a call gave up: `details.reason` of `onGiveup`.
 *
 * @example
 * ```ts
 * const onGiveup = ({ reason }: { reason: GiveupReason }) => metrics.increment(`giveup.${reason}`);
 * ```
 */
export type GiveupReason =
  | 'maxTries'
  | 'maxTime'
  | 'giveup'
  | 'exhausted'
  | 'aborted'
  | 'budget'
  | 'serverWait'
  | 'maxFreeTries'
  | 'breakerOpen';

/**
 * Any function: the type of `details.target`.
 */
export type AnyFunction = (...args: never) => unknown;

/**
 * A class that `exception` matches with `instanceof` (a class with a static `Symbol.hasInstance`
 * works as a custom matcher).
 */
export type ErrorClass = abstract new (...args: never) => unknown;

/**
 * The instance type of one error class, or the union of them for a union of classes.
 *
 * @example
 * ```ts
 * type Caught = InstanceOf<typeof TypeError | typeof RangeError>; // TypeError | RangeError
 * ```
 */
export type InstanceOf<E> = E extends abstract new (...args: never) => infer I ? I : never;

/**
 * A value, or a zero-argument function that returns it, called once per call of the wrapped
 * function (Python backoff's lazy runtime configuration).
 *
 * @example
 * ```ts
 * const maxTries: Lazy<number> = () => Number(process.env.MAX_TRIES ?? 5);
 * ```
 */
export type Lazy<T> = T | (() => T);

/**
 * What every details object has when a decorator made it.
 */
export interface CallDetails {
  /** The function as passed to the decorator. */
  readonly target: AnyFunction;
  /** The arguments of this call. */
  readonly args: readonly unknown[];
  /** The 1-based number of the attempt that just ended (for `onTry`: that is about to start). */
  readonly tries: number;
  /** Seconds since the call started, measured after the attempt that just ended (0 before the first). */
  readonly elapsed: number;
  /** `onTry` of a decorator with a `timeout` only: the signal of the attempt about to start. */
  readonly signal?: AbortSignal;
  /** Decorators with `free` or a `breaker` only: the free failures so far (breaker refusals included). */
  readonly freeTries?: number;
}

/**
 * What every details object of the block form ({@link retryContext}) has: no target, no args.
 */
export interface ContextDetails {
  /** The 1-based number of the attempt that just ended (for `onTry`: that is about to start). */
  readonly tries: number;
  /** Seconds since the loop started, measured after the attempt that just ended (0 before the first). */
  readonly elapsed: number;
  /** `onTry` of a loop with a `timeout` only: the signal of the attempt about to start. */
  readonly signal?: AbortSignal;
  /** Loops with `free` or a `breaker` only: the free failures so far (breaker refusals included). */
  readonly freeTries?: number;
}

/**
 * The extra field of a details object about a failed attempt of an exception twin.
 */
export interface WithException<E> {
  /** The caught error: the very object the target threw. */
  readonly exception: E;
}

/**
 * The extra field of a details object of a predicate twin.
 */
export interface WithValue {
  /** The value the target returned. */
  readonly value: unknown;
}

/**
 * The extra field of an `onBackoff` details object.
 */
export interface WithWait {
  /** Seconds about to be slept, after jitter and after clipping to `maxTime`. */
  readonly wait: number;
}

/**
 * The extra field of an `onGiveup` details object: why the call gave up.
 *
 * @example
 * ```ts
 * const onGiveup = (details: CallDetails & WithReason) => metrics.increment(`giveup.${details.reason}`);
 * ```
 */
export interface WithReason {
  /**
   * `'maxTries'`, `'maxTime'` (also a server-directed wait past it), `'giveup'` (the predicate said
   * so), `'exhausted'` (the wait generator is done), `'aborted'` (the signal aborted),
   * `'budget'` (the retry budget refused the retry), `'serverWait'` (the server asked for a wait
   * past `retryAfter`'s `maxServerWait`), `'maxFreeTries'` (a free failure past `maxFreeTries`) or
   * `'breakerOpen'` (the `breaker` refused an attempt, and no wait for it fits).
   */
  readonly reason: GiveupReason;
}

/**
 * A handler: called with the event's details; its result is ignored, but a returned Promise is
 * awaited (async twins) before the loop goes on.
 *
 * @example
 * ```ts
 * const onBackoff: Handler<CallDetails & WithWait> = ({ wait }) => console.log(`waiting ${wait}s`);
 * ```
 */
export type Handler<D> = (details: D) => unknown;

/**
 * One handler or an iterable of handlers, run in order (read once, when the decorator is made).
 */
export type Handlers<D> = Handler<D> | Iterable<Handler<D>>;

/**
 * A predicate of the predicate twins: a truthy result (or a Promise of one, in the async twins)
 * means "retry". Annotate its parameter with the target's result type.
 *
 * @example
 * ```ts
 * const stillRunning: Predicate = (job: { state: string }) => job.state === 'running';
 * ```
 */
export type Predicate = {
  /** Called with the target's value; a truthy result means "retry". */
  bivariant(value: unknown): unknown;
}['bivariant'];

/**
 * A jitter function: takes the wait generator's value and the random source (the `random`
 * option) and returns the seconds to wait.
 *
 * @example
 * ```ts
 * const halfJitter: Jitter = (seconds) => seconds / 2 + (Math.random() * seconds) / 2;
 * ```
 */
export type Jitter = (seconds: number, random: () => number) => number;

/**
 * The shape of a logger: any object with the level methods used, such as `console`, pino or
 * winston. Only the methods named by `backoffLogLevel` and `giveupLogLevel` are called, with one
 * string argument.
 */
export interface Logger {
  /** Called for the level `'trace'`. */
  trace?(message: string): unknown;
  /** Called for the level `'debug'`. */
  debug?(message: string): unknown;
  /** Called for the level `'info'` (the default `backoffLogLevel`). */
  info?(message: string): unknown;
  /** Called for the level `'warn'`. */
  warn?(message: string): unknown;
  /** Called for the level `'error'` (the default `giveupLogLevel`). */
  error?(message: string): unknown;
  /** Called for the level `'fatal'`. */
  fatal?(message: string): unknown;
}

/**
 * A log level: the name of the logger method to call.
 */
export type LogLevel = keyof Logger | (string & {});

/**
 * A wait generator: called with its options once per call of the wrapped function; before each
 * wait the loop calls `next(x)` on the iterator, `x` being the failed attempt's error (exception
 * twins) or value (predicate twins). Values are seconds; `done` means "no more waits: give up".
 * There is no priming call: a `function*` that yields numbers works as written.
 *
 * @example
 * ```ts
 * const steps: WaitGenerator = function* () {
 *   yield 0.5;
 *   yield 2;
 * };
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: the options type is the generator's own; any accepts every generator.
export type WaitGenerator<Options = any> = (
  options: Options,
  context: WaitContext,
) => Iterator<number, unknown, unknown>;

/**
 * The options a wait generator takes, each of them possibly lazy.
 *
 * @example
 * ```ts
 * type O = WaitOptionsOf<typeof expo>; // { base?: …; factor?: …; maxValue?: … }, each maybe lazy
 * ```
 */
export type WaitOptionsOf<W> = W extends (...args: infer P) => unknown
  ? [Exclude<P[0], undefined>] extends [never]
    ? {}
    : LazyOptions<Exclude<P[0], undefined>>
  : {};

/**
 * Options each of which may be given as a zero-argument function.
 */
export type LazyOptions<O> = { [K in keyof O]: O[K] | (() => O[K]) };

/**
 * A decorator's options parameter: optional unless the wait generator has required options.
 */
export type OptionsParameter<O> = {} extends O ? [options?: O] : [options: O];

/**
 * Options every decorator takes (section 4 of the contract); `Try`, `Success`, `Backoff` and
 * `Giveup` are the details types of the four events.
 */
export interface CommonOptions<Try, Success, Backoff, Giveup> {
  /** Total calls of the target, counting the first: a positive integer or `Infinity`. @defaultValue unlimited */
  readonly maxTries?: Lazy<number> | null | undefined;
  /** Seconds from the start of the call after which no new attempt starts: ≥ 0 or `Infinity`. @defaultValue unlimited */
  readonly maxTime?: Lazy<number> | null | undefined;
  /** Applied to each wait generator value (seconds); `null` = no jitter. @defaultValue `fullJitter` */
  readonly jitter?: Jitter | null | undefined;
  /** Run before each attempt. */
  readonly onTry?: Handlers<Try> | null | undefined;
  /** Run after the attempt that succeeded. */
  readonly onSuccess?: Handlers<Success> | null | undefined;
  /** Run before each wait, with the seconds about to be slept. */
  readonly onBackoff?: Handlers<Backoff> | null | undefined;
  /** Run when the call gives up. */
  readonly onGiveup?: Handlers<Giveup> | null | undefined;
  /** Where the default "Backing off" / "Giving up" lines go; `null` = no default log handlers. @defaultValue the silent default logger (`NODE_DEBUG=backoff` enables it) */
  readonly logger?: Logger | null | undefined;
  /** Logger method called for "Backing off" lines. @defaultValue `'info'` */
  readonly backoffLogLevel?: LogLevel | undefined;
  /** Logger method called for "Giving up" lines. @defaultValue `'error'` */
  readonly giveupLogLevel?: LogLevel | undefined;
  /** Source of time and sleep. @defaultValue `systemClock` */
  readonly clock?: Clock | undefined;
  /** Random source of the built-in jitters and generators, uniform in [0, 1). @defaultValue `Math.random` */
  readonly random?: (() => number) | undefined;
  /** A retry budget shared with other calls: asked before each retry; a refusal gives up (reason `'budget'`). */
  readonly budget?: RetryBudget | null | undefined;
  /** The operation's name in log lines and telemetry (channels, OpenTelemetry). @defaultValue the target's name */
  readonly name?: string | null | undefined;
  /**
   * How many free failures (those `free` accepts, and breaker refusals) a call may have: past it the
   * call gives up, reason `'maxFreeTries'`. A positive integer, or `Infinity` with a finite `maxTime`.
   * @defaultValue 10
   */
  readonly maxFreeTries?: number | null | undefined;
  /**
   * The waits of free retries, in seconds, when the server directs none: a function that makes an
   * iterator of them (called at a call's first free retry), jittered as the decorator's waits are.
   * The main wait generator does not advance on a free retry.
   * @defaultValue `(context) => expo({ factor: 1, maxValue: 20 }, context)`: 1, 2, 4 … 20 s, full jitter
   */
  readonly freeWait?:
    | ((context: WaitContext) => Iterator<number, unknown, unknown>)
    | null
    | undefined;
  /**
   * A circuit breaker asked before every attempt, or a function of the coming attempt's details
   * that picks one (per key; async in the async twins). A refusal is a free failure: the call
   * waits the breaker's `retryAfter` (a floor) when it fits in `maxTime` and `maxFreeTries`, else
   * gives up with reason `'breakerOpen'` and a `BreakerOpenError`.
   */
  readonly breaker?:
    | Breaker
    | ((details: Try) => Breaker | PromiseLike<Breaker>)
    | null
    | undefined;
}

/**
 * Options of the async twins and {@link retryContext} only.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const options: AsyncOptions = { signal: controller.signal };
 * ```
 */
export interface AsyncOptions {
  /**
   * Aborting ends a wait at once and the call rejects with `signal.reason`; no attempt starts after
   * an abort (an already aborted signal means no attempt at all); `onGiveup` runs with reason
   * `'aborted'`.
   */
  readonly signal?: AbortSignal | null | undefined;
  /**
   * Seconds an attempt may run: one still running then fails with an `AttemptTimeoutError`,
   * which every async twin retries, and its signal (`attemptSignal()`, `attempt.signal`)
   * aborts. `maxTime` does not cut a running attempt short (as in Python); for a deadline on the
   * whole call, pass a `signal` (`AbortSignal.timeout(ms)`), which aborts the attempt's signal too.
   * `> 0` or `Infinity`. @defaultValue no limit
   */
  readonly timeout?: number | null | undefined;
}

/**
 * Options of the exception twins (on top of {@link CommonOptions}).
 *
 * @example
 * ```ts
 * const options: ExceptionOptions<TypeError> = { giveup: (error) => error.message === 'fatal' };
 * ```
 */
export interface ExceptionOptions<E>
  extends CommonOptions<
    CallDetails,
    CallDetails,
    CallDetails & WithWait & WithException<E>,
    CallDetails & WithException<E> & WithReason
  > {
  /** Called on every matched failure; `true` gives up now. May be async. @defaultValue never give up early */
  readonly giveup?:
    | ((error: E, details: CallDetails & WithException<E>) => unknown)
    | null
    | undefined;
  /** `false`: giving up returns `undefined` instead of rethrowing. @defaultValue `true` */
  readonly raiseOnGiveup?: boolean | undefined;
  /**
   * Failures that do not use up a try: an error class, a list of them, or a function of the
   * failure's details (may be async); asked after `giveup`, before `maxTries`. A free retry still
   * waits (the server's wait, else `freeWait`) and still asks the budget. @defaultValue none
   */
  readonly free?:
    | ErrorClass
    | readonly ErrorClass[]
    | ((details: CallDetails & WithException<E>) => unknown)
    | null
    | undefined;
}

/**
 * Options of the predicate twins.
 *
 * @example
 * ```ts
 * const options: PredicateOptions = { maxTime: 30, onGiveup: ({ value }) => console.log(value) };
 * ```
 */
export type PredicateOptions = CommonOptions<
  CallDetails,
  CallDetails & WithValue,
  CallDetails & WithValue & WithWait,
  CallDetails & WithValue & WithReason
> & {
  /**
   * Values that do not use up a try: a function of the details with the `value` the predicate
   * asked to retry (may be async). @defaultValue none
   */
  readonly free?: ((details: CallDetails & WithValue) => unknown) | null | undefined;
};

/**
 * Options of the block form ({@link retryContext}): like {@link ExceptionOptions}, with details
 * that have no target or args.
 *
 * @example
 * ```ts
 * const options: ContextOptions<TypeError> = { maxTries: 3 };
 * ```
 */
export interface ContextOptions<E>
  extends CommonOptions<
    ContextDetails,
    ContextDetails,
    ContextDetails & WithWait & WithException<E>,
    ContextDetails & WithException<E> & WithReason
  > {
  /** Called on every matched failure; `true` gives up now. May be async (in {@link retryContext}). */
  readonly giveup?:
    | ((error: E, details: ContextDetails & WithException<E>) => unknown)
    | null
    | undefined;
  /** `false`: giving up ends the loop quietly instead of rethrowing. @defaultValue `true` */
  readonly raiseOnGiveup?: boolean | undefined;
  /** Failures that do not use up a try, as {@link ExceptionOptions.free}. @defaultValue none */
  readonly free?:
    | ErrorClass
    | readonly ErrorClass[]
    | ((details: ContextDetails & WithException<E>) => unknown)
    | null
    | undefined;
}

/**
 * The options parameter of the exception twins for the wait generator `W` and error type `E`.
 */
export type ExceptionOptionsParameter<W, E, X = {}> = OptionsParameter<
  ExceptionOptions<E> & WaitOptionsOf<W> & X
>;

/**
 * The options parameter of the predicate twins for the wait generator `W`.
 */
export type PredicateOptionsParameter<W, X = {}> = OptionsParameter<
  PredicateOptions & WaitOptionsOf<W> & X
>;

/**
 * The options parameter of the block form for the wait generator `W` and error type `E`.
 */
export type ContextOptionsParameter<W, E, X = {}> = OptionsParameter<
  ContextOptions<E> & WaitOptionsOf<W> & X
>;

/**
 * The exception twins' options when `raiseOnGiveup` may be `false`: giving up may then return
 * `undefined`.
 */
export type QuietExceptionOptions<W, E, X = {}> = ExceptionOptions<E> & WaitOptionsOf<W> & X;

/**
 * The exception twins' options with `raiseOnGiveup` left out or `true`.
 */
export type RaisingExceptionOptionsParameter<W, E, X = {}> = OptionsParameter<
  ExceptionOptions<E> &
    WaitOptionsOf<W> &
    X & {
      /** Left out or `true`: giving up rethrows. */
      readonly raiseOnGiveup?: true | undefined;
    }
>;

/**
 * What the decorators wrap: any function. Its parameters are `never[]` so that every function is
 * one, and so that TypeScript types an inline target's parameters from the target itself (with
 * `unknown[]`, a defaulted parameter would be `unknown`).
 */
export type AnyTarget = (...args: never[]) => unknown;

/**
 * A method decorator in its legacy (`experimentalDecorators`) form.
 */
export type LegacyMethodDecorator = (
  target: object,
  propertyKey: string | symbol,
  descriptor: PropertyDescriptor,
) => PropertyDescriptor;

/**
 * What the async twins return: wraps a function (or decorates a method) so that each call retries;
 * the wrapper always returns a Promise. `Extra` is `undefined` when giving up may return it.
 *
 * @example
 * ```ts
 * const retrying: AsyncDecorator = onException(expo, TypeError, { maxTries: 3 });
 * const getJson = retrying(async (url: string) => (await fetch(url)).json());
 * ```
 */
export interface AsyncDecorator<Extra = never> {
  /**
   * Wraps `target` (plain call), or replaces a method (TypeScript 5 standard decorator). Generic in
   * the whole function, so that an inline target's defaulted parameter keeps its type
   * (`(url: string, retries = 3) => …`: `retries` is a `number`).
   */
  <Target extends AnyTarget, This = ThisParameterType<Target>>(
    target: Target,
    context?: ClassMethodDecoratorContext<
      This,
      (this: This, ...args: Parameters<Target>) => ReturnType<Target>
    >,
  ): (this: This, ...args: Parameters<Target>) => Promise<Awaited<ReturnType<Target>> | Extra>;
  /** Replaces a method's descriptor (legacy `experimentalDecorators`). */
  (
    target: object,
    propertyKey: string | symbol,
    descriptor: PropertyDescriptor,
  ): PropertyDescriptor;
}

/**
 * What the sync twins return: wraps a function (or decorates a method) so that each call retries,
 * blocking the thread while it waits. `Extra` is `undefined` when giving up may return it.
 *
 * @example
 * ```ts
 * const retrying: SyncDecorator = onExceptionSync(constant, RangeError, { interval: 0.1 });
 * const parse = retrying((text: string) => JSON.parse(text));
 * ```
 */
export interface SyncDecorator<Extra = never> {
  /** Wraps `target` (plain call), or replaces a method (TypeScript 5 standard decorator). */
  <Target extends AnyTarget, This = ThisParameterType<Target>>(
    target: Target,
    context?: ClassMethodDecoratorContext<
      This,
      (this: This, ...args: Parameters<Target>) => ReturnType<Target>
    >,
  ): (this: This, ...args: Parameters<Target>) => ReturnType<Target> | Extra;
  /** Replaces a method's descriptor (legacy `experimentalDecorators`). */
  (
    target: object,
    propertyKey: string | symbol,
    descriptor: PropertyDescriptor,
  ): PropertyDescriptor;
}
