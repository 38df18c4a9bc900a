// Shared test helpers: a fake clock, flaky and returning targets, and the two twins to run each
// behaviour test against.

import { isThenable } from '../src/base/validate.js';
import {
  type Clock,
  onException,
  onExceptionSync,
  onPredicate,
  onPredicateSync,
  retryContext,
  retryContextSync,
} from '../src/index.js';

/** A clock under the test's control: counts reads, records sleeps, advances on sleep. */
export class FakeClock implements Clock {
  time = 0;
  reads = 0;
  readonly sleeps: number[] = [];

  now(): number {
    this.reads += 1;
    return this.time;
  }

  async sleep(seconds: number): Promise<void> {
    this.sleeps.push(seconds);
    this.time += seconds;
  }

  sleepSync(seconds: number): void {
    this.sleeps.push(seconds);
    this.time += seconds;
  }

  advance(seconds: number): void {
    this.time += seconds;
  }

  /** The `timeout` option's timer, in real time: sleeps are instant, attempts are timed for real. */
  timer(seconds: number, callback: () => void): () => void {
    const handle = setTimeout(callback, seconds * 1000);
    return () => clearTimeout(handle);
  }
}

/** A clock whose now() returns the given values in order, as Python's tests pop a list. */
export class ScriptedClock extends FakeClock {
  readonly #times: number[];
  constructor(times: number[]) {
    super();
    this.#times = [...times];
  }
  override now(): number {
    this.reads += 1;
    const next = this.#times.shift();
    if (next === undefined) throw new Error('ScriptedClock: read more often than scripted');
    return next;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the twins table erases the decorators' precise types.
type Loose = (...args: any[]) => any;

export interface Twin {
  readonly name: 'async' | 'sync';
  readonly onException: Loose;
  readonly onPredicate: Loose;
  readonly retryContext: Loose;
  /** Calls a wrapped function; a sync throw becomes a rejection so both twins read alike. */
  readonly call: (fn: Loose, ...args: unknown[]) => Promise<unknown>;
  /** Runs a block-form loop: `body(attempt)` is the loop body; returns when the loop ends. */
  readonly loop: (iterable: unknown, body: (attempt: Loose) => unknown) => Promise<void>;
}

/** Fails the test when a sync API hands back a thenable instead of a value. */
function refuseThenable(what: string, value: unknown): unknown {
  if (isThenable(value)) throw new Error(`Test failure: ${what} returned a thenable`);
  return value;
}

export const twins: readonly Twin[] = [
  {
    name: 'async',
    onException,
    onPredicate,
    retryContext,
    call: (fn, ...args) => fn(...args),
    loop: async (iterable, body) => {
      for await (const attempt of iterable as AsyncIterable<{ run: Loose }>) {
        await body(attempt.run.bind(attempt));
      }
    },
  },
  {
    name: 'sync',
    onException: onExceptionSync,
    onPredicate: onPredicateSync,
    retryContext: retryContextSync,
    // A sync wrapper never returns a thenable: one that did would pass every twin test if awaited.
    call: async (fn, ...args) => refuseThenable('the sync wrapper', fn(...args)),
    loop: async (iterable, body) => {
      for (const attempt of iterable as Iterable<{ run: Loose }>) {
        refuseThenable('attempt.run of the sync block form', body(attempt.run.bind(attempt)));
      }
    },
  },
];

/** A sync target that throws `errors` in turn, then returns `value`; counts its calls. */
export function flaky<T>(errors: unknown[], value: T): { (...args: unknown[]): T; calls: number } {
  const queue = [...errors];
  const fn = (..._args: unknown[]): T => {
    fn.calls += 1;
    if (queue.length > 0) throw queue.shift();
    return value;
  };
  fn.calls = 0;
  return fn;
}

/** A sync target that returns `values` in turn (the last one forever); counts its calls. */
export function returning<T>(...values: T[]): { (...args: unknown[]): T; calls: number } {
  const fn = (..._args: unknown[]): T => {
    fn.calls += 1;
    return values[Math.min(fn.calls, values.length) - 1] as T;
  };
  fn.calls = 0;
  return fn;
}

/** Options for a test that wants neither log lines nor jitter. */
export const quiet = { logger: null, jitter: null } as const;
