/**
 * The built-in circuit breaker: closed, open, half-open (one probe) and isolated, tripped by a
 * policy (`consecutive`, `failureRatio`), on the library's clock so that the test kit drives it. It has
 * the shape the retry loop asks before every attempt (`Breaker`): `acquire()` grants a permit or
 * refuses with `retryAfter`.
 *
 * @module
 */

import { type Clock, readClock, systemClock } from '../base/clock.js';
import { checkNumber, show, typeError } from '../base/validate.js';
import { breakerChannel } from '../listeners/telemetry.js';
import type { Admission, Breaker, BreakerPermit } from '../types.js';
import { expo } from '../waits/wait-gen.js';

/** A breaker's state, as `state()` and snapshots say it. */
export type BreakerState = 'closed' | 'open' | 'halfOpen' | 'isolated';

/**
 * What trips a breaker: counts the outcomes of attempts made while it is closed, and says when to
 * open. Made by {@link consecutive} or {@link failureRatio}; each breaker keeps its own counts.
 *
 * @example
 * ```ts
 * const trip: TripPolicy = backoff.consecutive(3);
 * ```
 */
export interface TripPolicy {
  /** Makes the counts of one breaker. */
  readonly counter: () => TripCounter;
}

/** One breaker's counts, as a {@link TripPolicy} keeps them (times in seconds, on its clock). */
export interface TripCounter {
  /** An attempt succeeded. */
  success(now: number): void;
  /** An attempt failed: `true` opens the breaker. */
  failure(now: number): boolean;
  /** Forgets every count (the breaker closed, or was reset). */
  reset(): void;
  /** Failures it still counts: a keyed registry evicts only breakers with none. */
  readonly recentFailures: number;
}

/**
 * Trips after `threshold` failures in a row; a success starts the count again. Cockatiel's
 * `ConsecutiveBreaker`, and failsafe-go's `WithFailureThreshold`.
 *
 * @param threshold - failures in a row that open the breaker (a positive integer; default 5)
 * @returns the policy
 * @example
 * ```ts
 * const breaker = backoff.circuitBreaker({ trip: backoff.consecutive(3) });
 * ```
 */
export function consecutive(threshold = 5): TripPolicy {
  checkNumber('threshold', threshold, 'a positive integer', (v) => Number.isInteger(v) && v >= 1);
  return {
    counter: () => {
      let failures = 0;
      return {
        success: () => {
          failures = 0;
        },
        failure: () => {
          failures += 1;
          return failures >= threshold;
        },
        reset: () => {
          failures = 0;
        },
        get recentFailures() {
          return failures;
        },
      };
    },
  };
}

/** Options of {@link failureRatio}. */
export interface FailureRatioOptions {
  /** The failure ratio that opens the breaker, in (0, 1]. @defaultValue 0.5 */
  readonly threshold?: number | undefined;
  /** Attempts the window must hold before the ratio counts. @defaultValue 20 */
  readonly minThroughput?: number | undefined;
  /** The window's length, in seconds; counted in 10 slices. @defaultValue 30 */
  readonly window?: number | undefined;
}

/** The slices a ratio window is counted in (failsafe-go and Polly count 10 too). */
const SLICES = 10;

/**
 * Trips when failures reach `threshold` of the attempts of the last `window` seconds, once there
 * are at least `minThroughput` of them. The window slides by tenths: a slice's counts leave it
 * whole. Polly's advanced breaker and cockatiel's `SamplingBreaker`.
 *
 * @param options - threshold, minimum throughput and window (seconds)
 * @returns the policy
 * @example
 * ```ts
 * const breaker = backoff.circuitBreaker({
 *   trip: backoff.failureRatio({ threshold: 0.5, minThroughput: 20, window: 30 }),
 * });
 * ```
 */
export function failureRatio(options: FailureRatioOptions = {}): TripPolicy {
  if (typeof options !== 'object' || options === null)
    throw typeError('options', 'an object', options);
  const threshold = options.threshold ?? 0.5;
  checkNumber('threshold', threshold, 'a ratio in (0, 1]', (v) => v > 0 && v <= 1);
  const minThroughput = options.minThroughput ?? 20;
  checkNumber(
    'minThroughput',
    minThroughput,
    'a positive integer',
    (v) => Number.isInteger(v) && v >= 1,
  );
  const window = options.window ?? 30;
  checkNumber(
    'window',
    window,
    'a finite number of seconds > 0',
    (v) => Number.isFinite(v) && v > 0,
  );
  const slice = window / SLICES;
  return {
    counter: () => {
      // A ring of slices: the successes and failures of each, and which slice of time it counts
      // (none yet: -Infinity, older than any).
      const successes = new Array<number>(SLICES).fill(0);
      const failures = new Array<number>(SLICES).fill(0);
      // Stryker disable next-line ArrayDeclaration: an empty array's holes compare as no slice either
      const numbers = new Array<number>(SLICES).fill(Number.NEGATIVE_INFINITY);
      let total = 0;
      let failed = 0;
      const clear = (i: number): void => {
        total -= (successes[i] as number) + (failures[i] as number);
        failed -= failures[i] as number;
        successes[i] = 0;
        failures[i] = 0;
      };
      /** The index of `now`'s slice, once the slices that left the window are counted out. */
      const at = (now: number): number => {
        const number = Math.floor(now / slice);
        const index = ((number % SLICES) + SLICES) % SLICES;
        if (numbers[index] !== number) {
          // Stryker disable next-line EqualityOperator: the slice exactly SLICES old is in this slot, cleared below
          for (let i = 0; i < SLICES; i++) if ((numbers[i] as number) <= number - SLICES) clear(i);
          // Its slot held an older slice, counted out above, or a later one (a clock that went back).
          clear(index);
          numbers[index] = number;
        }
        return index;
      };
      const reset = (): void => {
        for (let i = 0; i < SLICES; i++) clear(i);
      };
      return {
        success: (now) => {
          const index = at(now);
          successes[index] = (successes[index] as number) + 1;
          total += 1;
        },
        failure: (now) => {
          const index = at(now);
          failures[index] = (failures[index] as number) + 1;
          total += 1;
          failed += 1;
          return total >= minThroughput && failed >= threshold * total;
        },
        reset,
        get recentFailures() {
          return failed;
        },
      };
    },
  };
}

/** A serialisable record of a breaker: what {@link CircuitBreaker.snapshot} returns and `initialState` takes. */
export interface BreakerSnapshot {
  /** The state. A half-open one restarts as open with no time left: its next attempt probes. */
  readonly state: BreakerState;
  /** Open: the seconds left before it lets a probe through. */
  readonly openFor?: number | undefined;
  /** How many times it opened in a row without closing: the step of `halfOpenAfter` it is at. */
  readonly opened?: number | undefined;
}

/** Options of {@link circuitBreaker}. */
export interface CircuitBreakerOptions {
  /** What opens it. @defaultValue `consecutive(5)` */
  readonly trip?: TripPolicy | undefined;
  /**
   * Seconds it stays open before it lets one probe through: a number, or a function making an
   * iterator of them (a wait generator), whose next value each opening in a row takes; closing
   * starts it again. @defaultValue 5, 10, 20, 40, 60, 60 … s: `() => expo({ factor: 5, maxValue: 60 })`
   */
  readonly halfOpenAfter?: number | (() => Iterator<number, unknown, unknown>) | undefined;
  /** Seconds a probe may take to report: past it, the breaker opens again. @defaultValue 60 */
  readonly probeTimeout?: number | undefined;
  /** Its name: `BreakerOpenError.key`, channel messages and telemetry. */
  readonly key?: string | undefined;
  /** The source of time (seconds): pass the test kit's `VirtualClock` to drive it. @defaultValue `systemClock` */
  readonly clock?: Pick<Clock, 'now'> | undefined;
  /** The state to start in (a {@link BreakerSnapshot}, such as one saved at shutdown). @defaultValue closed */
  readonly initialState?: BreakerSnapshot | undefined;
}

/**
 * A circuit breaker: a {@link Breaker} the retry loop asks before every attempt, with controls.
 *
 * @example
 * ```ts
 * const breaker = backoff.circuitBreaker({ key: 'payments' });
 * if (breaker.state() === 'open') console.log('payments are down');
 * ```
 */
export interface CircuitBreaker extends Breaker {
  /** Its name, if given. */
  readonly key: string | undefined;
  /** Asks for an attempt: a permit, or a refusal with the seconds until a probe may go (open). */
  acquire(): Admission;
  /** Its state now (an open breaker whose time is up says `'halfOpen'`). */
  state(): BreakerState;
  /** Holds it open until {@link CircuitBreaker.reset}: every attempt is refused. */
  isolate(): void;
  /** Closes it and forgets its counts. */
  reset(): void;
  /** A serialisable record of it, to start another from (`initialState`). */
  snapshot(): BreakerSnapshot;
  /** Failures it still counts while closed (Infinity in any other state); a keyed registry evicts only breakers with none. @internal */
  readonly recentFailures: number;
  /** When it was last asked, on its clock. @internal */
  readonly lastUsed: number;
}

const STATES: readonly BreakerState[] = ['closed', 'open', 'halfOpen', 'isolated'];

/** The message of a transition on `backoff-ts:breaker`. */
export interface BreakerTransition {
  /** The breaker's `key`. */
  readonly key: string | undefined;
  /** The state it leaves. */
  readonly from: BreakerState;
  /** The state it enters. */
  readonly to: BreakerState;
}

/** The message of a refusal on `backoff-ts:breaker`. */
export interface BreakerRefusal {
  /** The breaker's `key`. */
  readonly key: string | undefined;
  /** Always `'refused'`. */
  readonly refused: true;
  /** The state that refused. */
  readonly state: BreakerState;
  /** Seconds until it may grant a permit, if known. */
  readonly retryAfter: number | undefined;
}

function checkSeconds(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  return checkNumber(
    name,
    value,
    'a finite number of seconds >= 0',
    (v) => Number.isFinite(v) && v >= 0,
  );
}

/** The default `halfOpenAfter`: 5, 10, 20, 40, 60 s, then 60 s. */
const defaultHalfOpenAfter = (): Iterator<number, unknown, unknown> =>
  expo({ factor: 5, maxValue: 60 });

/**
 * The `halfOpenAfter` option as a maker of the open times' iterator (each opening in a row takes the
 * next), once checked.
 *
 * @internal
 */
export function openTimes(
  halfOpenAfter: CircuitBreakerOptions['halfOpenAfter'],
): () => Iterator<number, unknown, unknown> {
  if (halfOpenAfter === undefined) return defaultHalfOpenAfter;
  if (typeof halfOpenAfter === 'function') return halfOpenAfter;
  const seconds = checkSeconds('halfOpenAfter', halfOpenAfter, 0);
  return () => ({ next: () => ({ done: false, value: seconds }) });
}

/**
 * The next open time of `halfOpenAfter`'s iterator, in seconds (0 once it has ended).
 *
 * @internal
 */
export function nextOpenTime(waits: Iterator<number, unknown, unknown>): number {
  const step = waits.next();
  const wait = step.done ? 0 : step.value;
  if (!Number.isFinite(wait) || wait < 0) {
    throw new RangeError(
      `Expected halfOpenAfter to give a finite number of seconds >= 0, got ${show(wait)}`,
    );
  }
  return wait;
}

/**
 * Makes a circuit breaker. Closed, it grants every attempt and counts outcomes; tripped, it opens
 * and refuses with `retryAfter` until `halfOpenAfter` has passed; then it lets one probe through
 * (refusing the others, no queue), closes if the probe succeeds, opens again for the next
 * `halfOpenAfter` if it fails or does not report within `probeTimeout`. Outcomes the loop
 * reports as ignored (the caller's abort, an error it does not retry) count for nothing.
 *
 * @param options - trip policy, open time, probe timeout, key, clock, initial state
 * @returns the breaker
 * @example
 * ```ts
 * const breaker = backoff.circuitBreaker({ trip: backoff.consecutive(5), halfOpenAfter: 10 });
 * const getUser = backoff.onException(backoff.expo, Error, { breaker, maxTries: 3 })(fetchUser);
 * ```
 */
export function circuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  return makeCircuitBreaker(options);
}

/**
 * Publishes a breaker's message on `backoff-ts:breaker`, made only when someone subscribes.
 *
 * @internal
 */
export function publishBreaker(message: () => object): void {
  const channel = breakerChannel();
  // Stryker disable next-line ConditionalExpression,OptionalChaining: publishing to nobody does nothing; the check saves the message
  if (channel?.hasSubscribers) channel.publish(message());
}

/**
 * {@link circuitBreaker}, whose transitions go to `moved` instead of the channel when given: the
 * fleet breaker of `backoff-ts/redis` holds one as its local breaker and publishes its own state.
 *
 * @internal
 */
export function makeCircuitBreaker(
  options: CircuitBreakerOptions,
  moved?: (from: BreakerState, to: BreakerState, failures: number) => void,
): CircuitBreaker {
  if (typeof options !== 'object' || options === null)
    throw typeError('options', 'an object', options);
  const trip = options.trip ?? consecutive();
  if (typeof trip.counter !== 'function') {
    throw typeError('trip', 'a trip policy (consecutive(n) or failureRatio(options))', trip);
  }
  const makeWaits = openTimes(options.halfOpenAfter);
  const probeTimeout = checkSeconds('probeTimeout', options.probeTimeout, 60);
  const key = options.key;
  if (key !== undefined && typeof key !== 'string') throw typeError('key', 'a string', key);
  const clock = options.clock ?? systemClock;
  if (typeof clock.now !== 'function')
    throw typeError('clock', 'an object with a now method', clock);
  const counter = trip.counter();

  let state: BreakerState = 'closed';
  /** Bumped at every transition: a permit of an earlier epoch reports nothing. */
  let epoch = 0;
  /** Open: when a probe may go. Half-open with a probe out: when the probe times out. */
  let until = 0;
  // Stryker disable next-line BooleanLiteral: every move() sets it before anything reads it
  let probing = false;
  let opened = 0;
  let waits: Iterator<number, unknown, unknown> | undefined;
  /** The admission every attempt gets while closed, one per closed epoch: no allocation per attempt. */
  let granted: Admission | undefined;

  const now = (): number => readClock(clock);
  let lastUsed = now();

  const move = (to: BreakerState): void => {
    const from = state;
    state = to;
    // Stryker disable next-line AssignmentOperator: only that it changes matters
    epoch += 1;
    granted = undefined;
    probing = false;
    if (moved !== undefined) moved(from, to, counter.recentFailures);
    else publishBreaker(() => ({ key, from, to }) satisfies BreakerTransition);
  };

  const open = (at: number): void => {
    waits ??= makeWaits();
    const wait = nextOpenTime(waits);
    opened += 1;
    until = at + wait;
    move('open');
  };

  const close = (): void => {
    counter.reset();
    opened = 0;
    waits = undefined;
    move('closed');
  };

  /** Brings the state up to `at`: an open breaker whose time is up is half-open; a lost probe re-opens. */
  const catchUp = (at: number): void => {
    // A probe is only ever out in half-open.
    if (probing && at >= until) open(at);
    if (state === 'open' && at >= until) move('halfOpen');
  };

  /** A permit of the current epoch; `probe`: the half-open state's one. */
  const permit = (probe: boolean): BreakerPermit => {
    const mine = epoch;
    const current = () => mine === epoch;
    return {
      success: () => {
        if (!current()) return;
        // The probe that closes it is the first success of its new counts, as in cockatiel 4.
        if (probe) close();
        counter.success(now());
      },
      failure: () => {
        if (!current()) return;
        const at = now();
        if (probe || counter.failure(at)) open(at);
      },
      ignore: () => {
        // A probe that says nothing frees the slot: the next attempt probes.
        if (probe && current()) probing = false;
      },
    };
  };

  const refuse = (retryAfter: number | undefined): Admission => {
    publishBreaker(() => ({ key, refused: true, state, retryAfter }) satisfies BreakerRefusal);
    return { ok: false, retryAfter };
  };

  if (options.initialState !== undefined) restore(options.initialState);

  function restore(snapshot: BreakerSnapshot): void {
    if (!STATES.includes((snapshot as Partial<BreakerSnapshot> | null)?.state as BreakerState)) {
      throw typeError('initialState', 'a snapshot ({ state, openFor?, opened? })', snapshot);
    }
    const at = now();
    opened = snapshot.opened ?? 0;
    checkNumber(
      'initialState.opened',
      opened,
      'an integer >= 0',
      (v) => Number.isInteger(v) && v >= 0,
    );
    // halfOpenAfter resumes at the step it was at.
    waits = makeWaits();
    for (let i = 0; i < opened; i++) waits.next();
    if (snapshot.state === 'closed') return;
    state = snapshot.state === 'isolated' ? 'isolated' : 'open';
    until = at + checkSeconds('initialState.openFor', snapshot.openFor ?? 0, 0);
  }

  return {
    key,
    acquire(): Admission {
      const at = now();
      lastUsed = at;
      catchUp(at);
      if (state === 'closed') {
        granted ??= { ok: true, permit: permit(false) };
        return granted;
      }
      if (state === 'halfOpen' && !probing) {
        probing = true;
        until = at + probeTimeout;
        return { ok: true, permit: permit(true) };
      }
      // Half-open with its probe out: when it will decide is unknown, so no retryAfter.
      return refuse(state === 'open' ? until - at : undefined);
    },
    state(): BreakerState {
      catchUp(now());
      return state;
    },
    isolate(): void {
      if (state !== 'isolated') move('isolated');
    },
    reset(): void {
      close();
    },
    snapshot(): BreakerSnapshot {
      const at = now();
      catchUp(at);
      if (state === 'closed') return { state, opened };
      if (state === 'isolated') return { state, opened };
      return { state, openFor: state === 'open' ? until - at : 0, opened };
    },
    get recentFailures() {
      return state === 'closed' ? counter.recentFailures : Number.POSITIVE_INFINITY;
    },
    get lastUsed() {
      return lastUsed;
    },
  };
}

/** Options of {@link keyedBreakers}: each breaker's, and the registry's bound. */
export interface KeyedBreakersOptions extends Omit<CircuitBreakerOptions, 'key' | 'initialState'> {
  /** The most breakers it keeps; past it, the least recently asked evictable one goes. @defaultValue 1000 */
  readonly maxKeys?: number | undefined;
  /** Seconds after which a breaker nobody asked is evictable, if closed with no recent failure. @defaultValue 600 */
  readonly idleTtl?: number | undefined;
}

/**
 * Breakers by key (one per origin, tenant, shard), made on first use and bounded: past `maxKeys`,
 * and after `idleTtl` seconds unused, it evicts only closed breakers with no recent failures,
 * least recently asked first. An open or half-open breaker, or one counting failures, is never
 * evicted: forgetting it would forget the outage (OmniRoute#4114).
 *
 * @example
 * ```ts
 * const breakers = backoff.keyedBreakers({ trip: backoff.consecutive(5), maxKeys: 500 });
 * const get = backoff.onException(backoff.expo, Error, {
 *   breaker: ({ args }) => breakers.get(new URL(String(args[0])).origin),
 * })(fetchJson);
 * ```
 */
export interface KeyedBreakers {
  /** The breaker of `key`, made now if there is none. */
  get(key: string): CircuitBreaker;
  /** How many breakers it holds. */
  readonly size: number;
  /** The keys it holds, least recently asked first. */
  keys(): string[];
}

/**
 * Makes a keyed registry of circuit breakers, all with the same options.
 *
 * @param options - each breaker's options, `maxKeys` and `idleTtl` (seconds)
 * @returns the registry
 * @example
 * ```ts
 * const breakers = backoff.keyedBreakers({ maxKeys: 100, idleTtl: 300 });
 * breakers.get('https://api.example.com').state(); // 'closed'
 * ```
 */
export function keyedBreakers(options: KeyedBreakersOptions = {}): KeyedBreakers {
  if (typeof options !== 'object' || options === null)
    throw typeError('options', 'an object', options);
  const { maxKeys = 1000, idleTtl = 600, ...breakerOptions } = options;
  checkNumber('maxKeys', maxKeys, 'a positive integer', (v) => Number.isInteger(v) && v >= 1);
  checkSeconds('idleTtl', idleTtl, 600);
  // Checks the breakers' options now, not at the first key.
  circuitBreaker(breakerOptions);
  const clock = breakerOptions.clock ?? systemClock;
  /** In order of last use: a Map iterates in insertion order, and each get moves its key last. */
  const breakers = new Map<string, CircuitBreaker>();
  // Closed with no failure counted: any other state counts as failures (Infinity).
  const evictable = (breaker: CircuitBreaker) => breaker.recentFailures === 0;

  const sweep = (now: number, room: boolean): void => {
    for (const [key, breaker] of breakers) {
      const idle = now - breaker.lastUsed >= idleTtl;
      // Oldest first: once one is not idle, none after it is.
      if (!idle && !(room && breakers.size >= maxKeys)) break;
      if (evictable(breaker)) breakers.delete(key);
    }
  };

  return {
    get(key: string): CircuitBreaker {
      let breaker = breakers.get(key);
      if (breaker !== undefined) {
        breakers.delete(key);
        breakers.set(key, breaker);
        return breaker;
      }
      sweep(clock.now(), true);
      // A key that is no string is refused here, by circuitBreaker, before the registry holds it.
      breaker = circuitBreaker({ ...breakerOptions, key });
      breakers.set(key, breaker);
      return breaker;
    },
    get size() {
      return breakers.size;
    },
    keys: () => [...breakers.keys()],
  };
}
