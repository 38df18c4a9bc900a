/**
 * The retry loop, written once: generators that decide and describe the work (attempt, call a
 * user callback, sleep) as effects, which a sync or an async driver performs (see `drivers.ts`).
 * They hold every decision of the contract's section 5, so the twins cannot drift apart; what only
 * observes the call — handlers, log lines, the budget's bookkeeping, telemetry — listens on the
 * stages the loop announces (`lifecycle.ts`).
 *
 * @module
 */

import { readClock } from '../base/clock.js';
import { ignoreRejection, isThenable, show } from '../base/validate.js';
import type { ServerDirected } from '../http/retry-after.js';
import type { Limits, Plan } from '../plan/plan.js';
import type { BreakerPermit, BudgetCall, GiveupReason, RetryBudget } from '../types.js';
import { AttemptGuard, TimedOut } from './attempt.js';
import {
  backoffDetails,
  details,
  ERRED,
  emit,
  FAILED,
  giveupDetails,
  heard,
  outcomeDetails,
  SUCCEEDED,
  successDetails,
  tryDetails,
} from './events.js';
import { admit, type BreakerOpenError, report } from './gate.js';
import { Call } from './lifecycle.js';

type Callback = (...args: never[]) => unknown;

/** The state of one call of a wrapped function (or one block-form loop). */
export class Run {
  readonly plan: Plan;
  readonly limits: Limits;
  readonly start: number;
  readonly target: Callback | undefined;
  readonly self: unknown;
  /** The call's arguments; `undefined` in the block form, which has none. */
  readonly args: readonly unknown[] | undefined;
  /** The call's signal: the plan's, or the one given to this call ({@link callWith}). */
  readonly signal: AbortSignal | undefined;
  tries = 0;
  elapsed = 0;
  /** The last attempt's outcome: a thrown error (`threw`) or a returned value. */
  // Stryker disable next-line BooleanLiteral: settle() sets it before anything reads it
  threw = false;
  result: unknown = undefined;
  waits: Iterator<number, unknown, unknown> | undefined = undefined;
  /** What the budget sees of this call; made when a budget is first told of it. */
  budgetCall: BudgetCall | undefined = undefined;
  /** The round in progress; none during a wait, so that a pending retry holds no generator. */
  round: Round | undefined = undefined;
  /** The guard of the attempt about to be made or being made (guarded plans); none during a wait. */
  guard: AttemptGuard | undefined = undefined;
  /**
   * What observers note of this call (telemetry: when it and its attempt started); the loop never
   * reads it. A field rather than a WeakMap beside the call: WeakMap.set cost the success path
   * with a subscriber about 500 ns (17% of 3.3 µs, Node 24 CPU profile).
   */
  notes: unknown = undefined;
  /** The free failures of this call (`free`, breaker refusals); made at the first. */
  free: FreeTries | undefined = undefined;
  /** The breaker's permit for the attempt about to be made or being made; none during a wait. */
  permit: BreakerPermit | undefined = undefined;
  /**
   * The breaker's answer for the first attempt, when the driver asked for it outside the loop (the
   * fast path) and got no permit at once: the loop takes it from there instead of asking again.
   */
  admission: unknown = undefined;

  constructor(
    plan: Plan,
    limits: Limits,
    start: number,
    target: Callback | undefined,
    self: unknown,
    args: readonly unknown[] | undefined,
    signal: AbortSignal | undefined,
  ) {
    this.plan = plan;
    this.limits = limits;
    this.start = start;
    this.target = target;
    this.self = self;
    this.args = args;
    this.signal = signal;
  }

  /** Records an attempt's outcome and reads the clock, as the loop does after every attempt. */
  settle(threw: boolean, result: unknown): void {
    this.threw = threw;
    this.result = result;
    if (this.plan.timed) this.elapsed = readClock(this.plan.clock) - this.start;
  }

  /**
   * Lets go of the last outcome before a wait, unless a give-up after the wait with no attempt —
   * an abort during it, a breaker's refusal — can still report it (`plan.keepsOutcome`): a bare
   * loop holds no failed attempt's error (with its stack, or a whole response) while it waits, and
   * neither does this.
   */
  forgetOutcome(): void {
    const { plan } = this;
    if ((this.signal !== undefined || plan.breaker !== undefined) && plan.keepsOutcome) return;
    this.result = undefined;
    if (this.budgetCall !== undefined) this.budgetCall.outcome = undefined;
  }

  /**
   * The loop's next effect, given the outcome of the last one (`input`: what it gave, or, for an
   * attempt or a sleep, a `Thrown`). Without a round in progress — at the start, after a wait — it
   * starts one. A method of its own, so that the driver's frame holds no iterator result.
   */
  step(input: unknown): Effect {
    if (this.round === undefined) {
      // A wait that ends early because the signal aborted is no error: the round stops before its
      // attempt.
      if (input instanceof Thrown && !this.signal?.aborted) throw input.error;
      this.round = playRound(this, false);
      input = undefined;
    }
    const { done, value } = this.round.next(input);
    if (done) this.round = undefined;
    return value;
  }
}

/**
 * The free failures of one call: those `free` accepted and the breaker's refusals. One object
 * made at the first, so that a call without any holds two fields less (heap per pending retry is
 * gated).
 */
class FreeTries {
  /** Free failures so far, refusals included: `details.freeTries`, bounded by `maxFreeTries`. */
  count = 0;
  /** The attempts among them: they do not count towards `maxTries`. */
  attempts = 0;
  /** The waits of free retries (`freeWait`); made at the first that needs one. */
  waits: Iterator<number, unknown, unknown> | undefined = undefined;
}

/** The outcome of an attempt or a sleep that threw (or rejected), as `Run.step` takes it. */
export class Thrown {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

/** The effect that asks the driver for an attempt; the next step takes its outcome. */
export const ATTEMPT: unique symbol = Symbol('attempt');

/** The call's end: the value it returns. */
export class Ended {
  readonly value: unknown;
  constructor(value: unknown) {
    this.value = value;
  }
}

/**
 * One round of the loop: it yields attempts and callback calls, and returns the wait before the
 * next round — a bare number of seconds, so that a pending wait holds no object — or the call's end.
 */
export type Round = Generator<Request, number | Ended, unknown>;

/** What a round yields: a request for an attempt or for a callback call. */
type Request = typeof ATTEMPT | Call;

/**
 * What a driver performs, each told apart by its own tag: an attempt (`ATTEMPT`), a callback call
 * (a `Call`), a sleep (a number of seconds), or the call's end (an `Ended`).
 */
export type Effect = typeof ATTEMPT | Call | number | Ended;

/** Starts one call's state: reads the clock and resolves lazy options (contract §5 step 1). */
export function begin(
  plan: Plan,
  target: Callback | undefined,
  self: unknown,
  args: readonly unknown[] | undefined,
  signal: AbortSignal | undefined,
): Run {
  const start = startTime(plan);
  return new Run(plan, plan.limits ?? plan.resolve(), start, target, self, args, signal);
}

/**
 * The `Run` of a call whose first attempt the driver made itself, outside the loop (the fast path
 * of a plan with `inlineFirstAttempt`): built only when that attempt did not simply succeed, and stepped to the
 * point where its loop asks for that attempt. The driver's next step hands it the outcome.
 */
export function afterFirst(
  plan: Plan,
  limits: Limits,
  start: number,
  target: Callback,
  self: unknown,
  args: readonly unknown[],
  permit: BreakerPermit | undefined,
): Run {
  // The fast path is only taken without a signal.
  const run = new Run(plan, limits, start, target, self, args, undefined);
  // The breaker's permit for that attempt, asked for by the driver.
  run.permit = permit;
  // Its round starts at the attempt: what comes before one (on this path, publishers only) was
  // not run for it, and must not be now that it is made.
  run.round = playRound(run, true);
  run.round.next();
  return run;
}

/** When the call starts: the clock, if anything uses elapsed time. */
export function startTime(plan: Plan): number {
  return plan.timed ? readClock(plan.clock) : 0;
}

/** What the budget sees of this call, up to date: made when it is first asked for. */
export function budgetCall(run: Run): BudgetCall {
  // Stryker disable next-line ObjectLiteral: the fields are set right below; memo starts undefined
  run.budgetCall ??= { tries: 0, outcome: undefined, memo: undefined };
  run.budgetCall.tries = run.tries;
  run.budgetCall.outcome = run.result;
  return run.budgetCall;
}

/**
 * Ends a call whose first attempt the driver made outside the loop and that simply succeeded (the
 * fast path): announces the attempt's end, whose listeners are publishers by then, as the loop
 * would have.
 */
export function endFirstSuccess(run: Run, value: unknown): void {
  run.tries = 1;
  run.settle(false, value);
  // Only called when a publisher is active; publishers never yield: one step runs the stage.
  emit(run, 'attemptEnd', SUCCEEDED, undefined).next();
}

/** Runs the give-up listeners with the last outcome and `reason`. */
function* notifyGiveup(run: Run, reason: GiveupReason): Generator<Request, void, unknown> {
  // Stryker disable next-line ConditionalExpression: in Node this stage always has its publisher; an event built for it while inactive goes nowhere
  if (heard(run, 'giveup')) yield* emit(run, 'giveup', giveupDetails, reason);
}

/** Ends the call because its signal aborted: `onGiveup` (reason `'aborted'`), then `signal.reason`. */
function* abort(run: Run): Generator<Request, never, unknown> {
  yield* report(run, 'ignore');
  const reason = (run.signal as AbortSignal).reason;
  if (run.plan.predicate === undefined) {
    // Exception twins report the abort reason as the exception; predicate twins, the last value.
    run.threw = true;
    run.result = reason;
  }
  yield* notifyGiveup(run, 'aborted');
  throw reason;
}

/**
 * What comes before an attempt: the abort check, the breaker's permit (of plans with a breaker),
 * the attempt's guard (of guarded plans), made first so that `onTry` sees its signal, and `onTry`
 * (of plans that need it). Returns the breaker's refusal, if it refused: then none of the rest.
 */
function* beforeAttempt(run: Run): Generator<Request, BreakerOpenError | undefined, unknown> {
  const { plan, signal } = run;
  if (signal?.aborted) yield* abort(run);
  if (plan.breaker !== undefined) {
    const refusal = yield* admit(run);
    if (refusal !== undefined) return refusal;
  }
  if (plan.guarded || signal !== undefined) {
    run.guard = new AttemptGuard(plan, run.tries + 1, signal);
  }
  if (heard(run, 'beforeAttempt')) {
    yield* emit(run, 'beforeAttempt', tryDetails, undefined);
    // No attempt ever starts after an abort, also one during an async onTry handler.
    if (signal?.aborted) yield* abort(run);
  }
  return undefined;
}

/** A wait from the generator or the jitter must be a finite number of seconds >= 0. */
function checkWait(value: unknown, source: string, run: Run): number {
  // Number.isFinite is false for anything but a finite number: no coercion.
  if (Number.isFinite(value) && (value as number) >= 0) return value as number;
  if (isThenable(value)) {
    ignoreRejection(value);
    throw new TypeError(`The ${source} returned a Promise: it must return seconds synchronously`);
  }
  const error = new RangeError(
    `Expected the ${source} to give a finite number of seconds >= 0, got ${show(value)}`,
  );
  error.cause = run.result;
  throw error;
}

/** Checks a wait iterator's step: a sync `next()`. */
function checkStep(step: unknown): IteratorResult<number, unknown> & ServerDirected {
  if (isThenable(step)) {
    ignoreRejection(step);
    throw new TypeError(
      'The wait generator returned an async iterator (next() gave a Promise): wait generators must be sync — a function* or an object with a sync next(), not an async function*',
    );
  }
  return step as IteratorResult<number, unknown> & ServerDirected;
}

/** The call's wait generator; made at the first retryable failure. */
function mainWaits(run: Run): Iterator<number, unknown, unknown> & Partial<DirectsWaits> {
  if (run.waits === undefined) {
    // Made here, so that a first attempt that succeeds costs nothing.
    const waits = run.plan.wait(run.limits.waitOptions as never, { random: run.plan.random });
    if (typeof waits?.next !== 'function') {
      throw new TypeError(`Expected the wait generator to return an iterator, got ${show(waits)}`);
    }
    run.waits = waits;
  }
  return run.waits;
}

/**
 * What a wait generator that reads the server's waits has (`retryAfter`'s): the server's wait for
 * an outcome, without advancing. A free retry waits it by the main generator's own rules — a
 * decorator that ignores `Retry-After` on its retries ignores it on free ones too.
 */
interface DirectsWaits {
  directed(outcome: unknown): (IteratorResult<number, unknown> & ServerDirected) | undefined;
}

/** The next step of the wait generator. */
function nextStep(run: Run): IteratorResult<number, unknown> & ServerDirected {
  return checkStep(mainWaits(run).next(run.result));
}

/**
 * The next step of a free retry's waits: the breaker's `retryAfter`, or the server's wait when the
 * main generator reads one (`retryAfter`), else `freeWait`'s next. The main generator does not
 * advance.
 */
function nextFreeStep(
  run: Run,
  free: FreeTries,
  refusal: BreakerOpenError | undefined,
): IteratorResult<number, unknown> & ServerDirected {
  if (refusal !== undefined) {
    if (refusal.retryAfter !== undefined) {
      return { done: false, value: refusal.retryAfter, fromServer: true };
    }
  } else {
    const waits = mainWaits(run);
    const directed = typeof waits.directed === 'function' ? waits.directed(run.result) : undefined;
    if (directed !== undefined) return directed;
  }
  if (free.waits === undefined) {
    const waits = run.plan.freeWait({ random: run.plan.random });
    if (typeof waits?.next !== 'function') {
      throw new TypeError(`Expected \`freeWait\` to return an iterator, got ${show(waits)}`);
    }
    free.waits = waits;
  }
  return checkStep(free.waits.next(run.result));
}

/**
 * The wait before the next attempt: the step's value, jittered and cut to fit `maxTime`; or why
 * no attempt can follow (the generator is exhausted, or the server asks for a wait past
 * `maxTime` or past what the generator accepts). A function of its own, so that a pending wait
 * holds none of its temporaries.
 */
function plannedWait(
  run: Run,
  step: IteratorResult<number, unknown> & ServerDirected,
): number | 'exhausted' | 'maxTime' | 'serverWait' {
  if (step.done) return 'exhausted';
  if (step.tooLong === true) return 'serverWait';
  const { plan, limits } = run;
  const value = checkWait(step.value, 'wait generator', run);
  const left = limits.maxTime - run.elapsed;
  if (step.fromServer === true) {
    // A wait past maxTime: no attempt could follow it.
    return value > left ? 'maxTime' : value;
  }
  const wait =
    plan.jitter === null ? value : checkWait(plan.jitter(value, plan.random), 'jitter', run);
  return Math.min(wait, left);
}

/** The end of a call that gave up: its last value, or its last error thrown (`raise`) or not. */
function givenUp(run: Run, raise: boolean): Ended {
  if (!run.threw) return new Ended(run.result);
  if (raise) throw run.result;
  return new Ended(undefined);
}

/**
 * One round of the retry loop of a call (contract §5): an attempt and its outcome, then either the
 * call's end or the wait before the next round. It throws the error the call ends with.
 * `attemptMade`: the driver made this round's attempt already (the first, on the fast path).
 */
function* playRound(run: Run, attemptMade: boolean): Round {
  const { plan, limits } = run;
  if (!attemptMade) {
    if (run.tries === 0 && heard(run, 'request')) yield* emit(run, 'request', details, undefined);
    // A call given a signal of its own needs its guard even where the plan needs none.
    // Stryker disable ConditionalExpression: without a listener, a guard, a signal or a breaker, beforeAttempt does nothing
    if (
      plan.guarded ||
      run.signal !== undefined ||
      plan.breaker !== undefined ||
      heard(run, 'beforeAttempt')
    ) {
      // Stryker restore ConditionalExpression
      const refusal = yield* beforeAttempt(run);
      if (refusal !== undefined) return yield* refused(run, refusal);
    }
  }
  run.tries += 1;
  const outcome = yield ATTEMPT;
  run.guard = undefined;
  const timedOut = outcome instanceof TimedOut;
  if (timedOut || outcome instanceof Thrown) run.settle(true, outcome.error);
  else run.settle(false, outcome);
  if (run.threw) {
    // An error the decorator does not catch propagates at once, untouched, with no handler; an
    // attempt that timed out is a failure every async twin retries; and once the signal has
    // aborted, any failure ends the call as aborted (below), so that an abort always gives up.
    if (!timedOut && !plan.catches(run.result) && !run.signal?.aborted) {
      yield* report(run, 'ignore');
      // Stryker disable next-line ConditionalExpression: in Node this stage always has its publisher; an event built for it while inactive goes nowhere
      if (heard(run, 'attemptEnd')) yield* emit(run, 'attemptEnd', ERRED, undefined);
      throw run.result;
    }
  } else if (plan.predicate === undefined || !(yield new Call(plan.predicate, [run.result]))) {
    yield* report(run, 'success');
    // Stryker disable next-line ConditionalExpression: in Node this stage always has its publisher; an event built for it while inactive goes nowhere
    if (heard(run, 'attemptEnd')) yield* emit(run, 'attemptEnd', SUCCEEDED, undefined);
    if (heard(run, 'success')) yield* emit(run, 'success', successDetails, undefined);
    return new Ended(run.result);
  }
  // Stryker disable next-line ConditionalExpression: in Node this stage always has its publisher; an event built for it while inactive goes nowhere
  if (heard(run, 'attemptEnd')) yield* emit(run, 'attemptEnd', FAILED, undefined);
  // A failure once the signal has aborted (the abort reason itself, say) is never retried.
  if (run.signal?.aborted) yield* abort(run);
  const gaveUp =
    plan.giveup !== undefined && (yield new Call(plan.giveup, [run.result, outcomeDetails(run)]));
  // The breaker hears of what the loop would retry; what `giveup` accepted says nothing of the service.
  yield* report(run, gaveUp ? 'ignore' : 'failure');
  // The budget is told of retryable failures only: not of an aborted call's, nor of one `giveup`
  // refused (gRFC A6 counts neither); but of the last try's, past maxTries or maxTime (so does gRPC).
  if (!gaveUp && heard(run, 'failure')) yield* emit(run, 'failure', outcomeDetails, undefined);
  if (!gaveUp && plan.free !== undefined && (yield new Call(plan.free, [outcomeDetails(run)]))) {
    return yield* freeRetry(run, undefined);
  }
  const charged = run.tries - (run.free?.attempts ?? 0);
  const reason: GiveupReason | undefined = gaveUp
    ? 'giveup'
    : charged >= limits.maxTries
      ? 'maxTries'
      : run.elapsed >= limits.maxTime
        ? 'maxTime'
        : undefined;
  if (reason !== undefined) {
    yield* notifyGiveup(run, reason);
    return givenUp(run, plan.raiseOnGiveup);
  }

  const wait = plannedWait(run, nextStep(run));
  if (typeof wait !== 'number') {
    yield* notifyGiveup(run, wait);
    // An exhausted wait generator always rethrows an error, even with raiseOnGiveup false.
    return givenUp(run, wait === 'exhausted' || plan.raiseOnGiveup);
  }
  return yield* retryAfterWait(run, wait, false);
}

/**
 * A round the breaker refused: no attempt, a free failure. The exception twins report the
 * `BreakerOpenError` as the failure (the predicate twins keep the last value); giving up rejects
 * with it.
 */
function* refused(run: Run, refusal: BreakerOpenError): Round {
  // The clock is read as after an attempt: refusals in a row must not outlast maxTime.
  if (run.plan.predicate === undefined) run.settle(true, refusal);
  else run.settle(false, run.result);
  return yield* freeRetry(run, refusal);
}

/**
 * A free retry: it uses up no try, but is bounded by `maxFreeTries` and `maxTime`, always waits
 * (the server's or the breaker's wait, else `freeWait`'s) and still asks the budget. `refusal`:
 * the breaker's, when no attempt was made; any reason not to wait for it gives up as
 * `'breakerOpen'`.
 */
function* freeRetry(run: Run, refusal: BreakerOpenError | undefined): Round {
  const { plan, limits } = run;
  run.free ??= new FreeTries();
  const free = run.free;
  free.count += 1;
  if (refusal === undefined) free.attempts += 1;
  let wait: number | GiveupReason;
  if (free.count > plan.maxFreeTries) wait = 'maxFreeTries';
  else if (run.elapsed >= limits.maxTime) wait = 'maxTime';
  else wait = plannedWait(run, nextFreeStep(run, free, refusal));
  if (typeof wait !== 'number') {
    const reason = refusal === undefined ? wait : 'breakerOpen';
    yield* notifyGiveup(run, reason);
    if (refusal === undefined) return givenUp(run, wait === 'exhausted' || plan.raiseOnGiveup);
    if (plan.raiseOnGiveup) throw refusal;
    return new Ended(undefined);
  }
  // A refusal sent nothing to the service: the budget, which guards it from retries, is not asked.
  if (refusal !== undefined) return yield* announceWait(run, wait);
  return yield* retryAfterWait(run, wait, true);
}

/**
 * The end of a round that retries: the budget's say (asked last, so that a refusal is the only
 * reason this retry does not happen; a free retry at its own cost), then the wait.
 */
function* retryAfterWait(run: Run, wait: number, free: boolean): Round {
  if (run.plan.budget !== undefined && !(yield* askBudget(run, free))) {
    yield* notifyGiveup(run, 'budget');
    return givenUp(run, run.plan.raiseOnGiveup);
  }
  return yield* announceWait(run, wait);
}

/** A wait about to start: `onBackoff`, and the last outcome let go of. */
function* announceWait(run: Run, wait: number): Round {
  if (heard(run, 'backoff')) yield* emit(run, 'backoff', backoffDetails, wait);
  run.forgetOutcome();
  return wait;
}

/** Asks the budget whether this retry (a `free` one or not) may happen: its `tryRetry`. */
function* askBudget(run: Run, free: boolean): Generator<Request, unknown, unknown> {
  const budget = run.plan.budget as RetryBudget;
  const call = budgetCall(run);
  call.free = free;
  return yield new Call(budget.tryRetry as Callback, [call], budget);
}
