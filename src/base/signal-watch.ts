/**
 * One `abort` listener per signal, for everything the library has waiting on it: pending sleeps
 * and the signals of attempts in flight.
 *
 * @module
 */

/** Something a signal's abort ends: told once, with `signal.reason`. */
export interface AbortTarget {
  abort(reason: unknown): void;
}

/**
 * What one signal's abort ends, behind a single listener. One listener each made setup
 * quadratic, as Node scans a signal's listeners on every add: 10,000 pending calls on one signal
 * blocked the event loop 1.3 s, 40,000 for 43 s; it also printed MaxListenersExceededWarning from
 * the 11th call.
 */
class Watchers {
  readonly signal: AbortSignal;
  readonly targets = new Set<AbortTarget>();
  constructor(signal: AbortSignal) {
    this.signal = signal;
  }
  readonly onAbort = (): void => {
    watched.delete(this.signal);
    for (const target of this.targets) target.abort(this.signal.reason);
    this.targets.clear();
  };
}

const watched = new WeakMap<AbortSignal, Watchers>();

/**
 * Has `target` told when `signal` aborts (once; the signal must not have aborted yet).
 *
 * @internal
 */
export function watch(signal: AbortSignal, target: AbortTarget): void {
  let entry = watched.get(signal);
  if (entry === undefined) {
    entry = new Watchers(signal);
    watched.set(signal, entry);
    signal.addEventListener('abort', entry.onAbort, { once: true });
  }
  entry.targets.add(target);
}

/**
 * Stops watching for `target`, which ended otherwise; the listener goes with the last target. Only
 * for a target still watched: the abort itself forgets them all.
 *
 * @internal
 */
export function unwatch(signal: AbortSignal, target: AbortTarget): void {
  const entry = watched.get(signal) as Watchers;
  entry.targets.delete(target);
  if (entry.targets.size > 0) return;
  watched.delete(signal);
  signal.removeEventListener('abort', entry.onAbort);
}
