// Yielding to the event loop on every runtime: setImmediate where there is one, else a
// MessageChannel message (browsers), else a timer of 0 ms (workerd).
import { describe, expect, it, vi } from 'vitest';
import { yieldOnce } from '../../src/base/event-loop.js';

describe('yieldOnce', () => {
  it('uses setImmediate where there is one', async () => {
    const setImmediate = vi.fn((callback: () => void) => globalThis.setImmediate(callback));
    const setTimeout = vi.fn();
    await yieldOnce({ setImmediate, setTimeout, MessageChannel });
    expect(setImmediate).toHaveBeenCalledTimes(1);
    expect(setTimeout).not.toHaveBeenCalled();
  });

  it('else a MessageChannel message, closing the channel after', async () => {
    const closed: boolean[] = [];
    class Channel extends MessageChannel {
      constructor() {
        super();
        const close = this.port1.close.bind(this.port1);
        this.port1.close = () => {
          closed.push(true);
          close();
        };
      }
    }
    const setTimeout = vi.fn();
    await yieldOnce({ setTimeout, MessageChannel: Channel });
    expect(closed).toEqual([true]);
    expect(setTimeout).not.toHaveBeenCalled();
  });

  it('calls the timer functions unbound, as hosts that check their receiver require', async () => {
    const strict = (name: string, real: (callback: () => void, ms?: number) => unknown) =>
      function (this: unknown, callback: () => void, ms?: number) {
        if (this !== undefined && this !== globalThis)
          throw new TypeError(`Illegal invocation of ${name}`);
        return real(callback, ms);
      };
    await yieldOnce({ setTimeout: strict('setTimeout', globalThis.setTimeout) });
    await yieldOnce({
      setImmediate: strict('setImmediate', globalThis.setImmediate),
      setTimeout: globalThis.setTimeout,
    });
  });

  it('else a timer of 0 ms', async () => {
    const setTimeout = vi.fn((callback: () => void, ms: number) =>
      globalThis.setTimeout(callback, ms),
    );
    await yieldOnce({ setTimeout });
    expect(setTimeout).toHaveBeenCalledWith(expect.any(Function), 0);
  });

  it('resolves after every pending microtask', async () => {
    const order: string[] = [];
    const yielded = yieldOnce(globalThis).then(() => order.push('yielded'));
    let chain = Promise.resolve();
    for (let i = 0; i < 50; i += 1) chain = chain.then(() => {});
    await chain.then(() => order.push('microtasks'));
    await yielded;
    expect(order).toEqual(['microtasks', 'yielded']);
  });
});
