/**
 * Deadlines on a shared timer: the default clock's `timer`, which every attempt with a `timeout`
 * sets and nearly every one cancels. One native timer per length of deadline serves them all.
 *
 * A `setTimeout`/`clearTimeout` pair per attempt costs about 0.8 µs in Node 24 (19× a bare
 * `await fn()`: `node bench/success-path.js`), most of it Node (re)creating its per-duration list
 * and rescheduling libuv when the one in-flight timer is cleared. Here an attempt's deadline is a
 * list entry (a cancel unlinks it) and the native timer stays armed for the earliest deadline it
 * was set for: when it fires, the deadlines that are due fire, and it is set again for the next
 * one — exactly, from `performance.now()`, so a deadline fires when a timer of its own would.
 *
 * @module
 */

type Handle = ReturnType<typeof setTimeout>;

/** One deadline: a link of its length's list until it fires or is cancelled. */
class Deadline {
  readonly at: number;
  callback: (() => void) | undefined;
  previous: Deadline | undefined = undefined;
  next: Deadline | undefined = undefined;
  constructor(at: number, callback: () => void) {
    this.at = at;
    this.callback = callback;
  }
}

/**
 * The deadlines of one length, in the order they were set, which is the order they fall due: a
 * later one never comes before an earlier one, so adding and firing touch only the list's ends.
 */
class Deadlines {
  readonly #ms: number;
  #first: Deadline | undefined = undefined;
  #last: Deadline | undefined = undefined;
  /** The native timer, armed for the earliest deadline it was set for. */
  #handle: Handle | undefined = undefined;
  /** The `setTimeout` that armed it: fake timers come and go, and theirs fire only under them. */
  #armedWith: typeof setTimeout | undefined = undefined;
  readonly #fire = (): void => this.#due();

  constructor(ms: number) {
    this.#ms = ms;
  }

  /** Calls `callback` in this list's length of time, unless the function returned is called. */
  add(callback: () => void): () => void {
    const deadline = new Deadline(performance.now() + this.#ms, callback);
    const last = this.#last;
    if (last === undefined) this.#first = deadline;
    else {
      last.next = deadline;
      deadline.previous = last;
    }
    this.#last = deadline;
    // Armed already, it fires no later than this deadline: the earlier ones fall due first.
    // Stryker disable next-line ConditionalExpression: a list in the lengths' map has no timer only while it fires, and its end arms one for what is left
    if (this.#handle === undefined || this.#armedWith !== globalThis.setTimeout) {
      this.#arm(deadline.at);
    } else if (last === undefined) {
      // Idle since its last deadline went: it holds the process open again, as a timer of the
      // deadline's own would. (An idle handle that cannot be unref'd was cleared: armed above.)
      // Stryker disable next-line OptionalChaining: only handles with unref() stay armed while idle
      (this.#handle as { ref?: () => void }).ref?.();
    }
    return () => this.#remove(deadline);
  }

  #remove(deadline: Deadline): void {
    if (deadline.callback === undefined) return;
    deadline.callback = undefined;
    const { previous, next } = deadline;
    if (previous === undefined) this.#first = next;
    else previous.next = next;
    if (next === undefined) this.#last = previous;
    else next.previous = previous;
    deadline.previous = deadline.next = undefined;
    if (this.#first === undefined) this.#idle();
  }

  /**
   * No deadline left: the armed timer no longer holds the process open (it fires once more, early,
   * and finds nothing). Where a handle cannot be unref'd (a number: browsers, Deno), it is cleared.
   */
  #idle(): void {
    const handle = this.#handle as { unref?: () => void } | number;
    if (typeof handle === 'object' && typeof handle.unref === 'function') handle.unref();
    else {
      clearTimeout(handle as Handle);
      this.#handle = undefined;
      this.#forget();
    }
  }

  /**
   * Arms the timer for `at`. Called with none armed, or with one armed by timer functions that are
   * gone (fake timers, uninstalled): that one is dropped, not cleared, for Node's clearTimeout
   * would take a fake handle for one of its own and corrupt its lists.
   */
  #arm(at: number): void {
    this.#armedWith = globalThis.setTimeout;
    // Never negative: Node 24+ warns (TimeoutNegativeWarning) for a negative delay.
    this.#handle = setTimeout(this.#fire, Math.max(0, Math.ceil(at - performance.now())));
  }

  /**
   * The timer fired: every deadline `performance.now()` has reached is due, and it is armed again
   * for the next one, if any. A native timer may fire a fraction of a millisecond before
   * `performance.now()` reaches its time (libuv counts whole milliseconds of a cached loop time:
   * 49.92 ms for 50 on Node 24, seen in CI); its deadline then waits for the next arming, so that
   * none ever fires early.
   */
  #due(): void {
    this.#handle = undefined;
    const now = performance.now();
    let deadline = this.#first;
    while (deadline !== undefined && deadline.at <= now) {
      const callback = deadline.callback as () => void;
      this.#remove(deadline);
      try {
        callback();
      } catch (error) {
        // Thrown out of a timer of its own, it would be an uncaught exception: so it is here,
        // after the other deadlines have fired.
        queueMicrotask(() => {
          throw error;
        });
      }
      deadline = this.#first;
    }
    if (deadline !== undefined) this.#arm(deadline.at);
    else if (this.#handle === undefined) this.#forget();
  }

  /**
   * Leaves the lists: nothing is pending and no timer is armed. Only if it is still the list of its
   * length: one forgotten while its timer was firing (a callback set a deadline of the same length
   * into a new list) must not take that new list out with it.
   */
  #forget(): void {
    if (lists.get(this.#ms) === this) lists.delete(this.#ms);
  }
}

/** The lists, by length of deadline in milliseconds; a length with no deadline left has none. */
const lists = new Map<number, Deadlines>();

/** How many lengths of deadline have a list now (tests: none is kept once idle). @internal */
export function deadlineLengths(): number {
  return lists.size;
}

/**
 * Calls `callback` in `ms` milliseconds (at most setTimeout's limit); returns the function that
 * cancels it, harmless to call again or after it fired.
 */
export function setDeadline(ms: number, callback: () => void): () => void {
  let list = lists.get(ms);
  if (list === undefined) {
    list = new Deadlines(ms);
    lists.set(ms, list);
  }
  return list.add(callback);
}
