/**
 * Yielding to the event loop once, on every runtime: one place for what each one offers.
 *
 * @module
 */

/** The timer functions a yield may use: `globalThis`'s, or copies taken at some moment. */
export interface EventLoopTimers {
  readonly setImmediate?: ((callback: () => void) => unknown) | undefined;
  readonly setTimeout: (callback: () => void, ms: number) => unknown;
  readonly MessageChannel?: typeof MessageChannel | undefined;
}

/**
 * Resolves on a later turn of the event loop, after every pending microtask: `setImmediate`, else a
 * `MessageChannel` message (browsers), else (workerd has neither) a timer of 0 ms. The functions
 * are read from `timers` when called: the default clock passes `globalThis`, so that fake timers
 * control it; the test kit passes the ones it found at import, so that they do not.
 *
 * @internal
 */
export function yieldOnce(timers: EventLoopTimers): Promise<void> {
  return new Promise<void>((resolve) => {
    // Called unbound: a host's timer function called on another object throws "Illegal
    // invocation" (browsers, workerd); called with no `this`, it uses the global one.
    const { setImmediate: immediate, setTimeout: timeout, MessageChannel: Channel } = timers;
    if (typeof immediate === 'function') {
      immediate(resolve);
    } else if (typeof Channel !== 'function') {
      timeout(resolve, 0);
    } else {
      const channel = new Channel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(undefined);
    }
  });
}
