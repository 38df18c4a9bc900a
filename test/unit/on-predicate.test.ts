// onPredicate and onPredicateSync: retrying on the returned value, the default predicate, async
// predicates, giving up with the last value.
import { describe, expect, it, vi } from 'vitest';
import { constant, expo, runtime } from '../../src/index.js';
import { FakeClock, returning, twins } from '../helpers.js';

describe.each(twins)('onPredicate ($name twin)', (twin) => {
  const quiet = { logger: null, jitter: null } as const;

  it('by default retries while the value is falsy', async () => {
    for (const falsy of [undefined, null, false, 0, '', Number.NaN]) {
      const clock = new FakeClock();
      const target = returning(falsy, falsy, 'ready');
      const wrapped = twin.onPredicate(expo, undefined, { ...quiet, clock })(target);
      expect(await twin.call(wrapped)).toBe('ready');
      expect(target.calls).toBe(3);
      expect(clock.sleeps).toEqual([1, 2]);
    }
  });

  it('a truthy value on the first attempt returns it at once', async () => {
    const clock = new FakeClock();
    const target = returning({ ok: true });
    const wrapped = twin.onPredicate(expo, null, { ...quiet, clock })(target);
    expect(await twin.call(wrapped)).toEqual({ ok: true });
    expect(clock.sleeps).toEqual([]);
  });

  it('retries while the predicate is truthy', async () => {
    const target = returning('busy', 'busy', 'done');
    const predicate = vi.fn((value: string) => value === 'busy');
    const wrapped = twin.onPredicate(constant, predicate, { ...quiet, clock: new FakeClock() })(
      target,
    );
    expect(await twin.call(wrapped)).toBe('done');
    expect(predicate.mock.calls).toEqual([['busy'], ['busy'], ['done']]);
  });

  it('gives up after maxTries and returns the last value', async () => {
    const onGiveup = vi.fn();
    const target = returning(1, 2, 3, 4);
    const wrapped = twin.onPredicate(constant, (v: number) => v < 10, {
      ...quiet,
      clock: new FakeClock(),
      maxTries: 3,
      onGiveup,
    })(target);
    expect(await twin.call(wrapped)).toBe(3);
    expect(target.calls).toBe(3);
    expect(onGiveup).toHaveBeenCalledWith({
      target,
      args: [],
      tries: 3,
      elapsed: 2,
      value: 3,
      reason: 'maxTries',
    });
  });

  it('an exhausted generator gives up and returns the last value', async () => {
    const onGiveup = vi.fn();
    const target = returning(0);
    const wrapped = twin.onPredicate(constant, undefined, {
      ...quiet,
      clock: new FakeClock(),
      interval: [1, 1],
      onGiveup,
    })(target);
    expect(await twin.call(wrapped)).toBe(0);
    expect(target.calls).toBe(3);
    expect(onGiveup).toHaveBeenCalledWith({
      target,
      args: [],
      tries: 3,
      elapsed: 2,
      value: 0,
      reason: 'exhausted',
    });
  });

  it('an error thrown by the target propagates at once', async () => {
    const error = new TypeError('boom');
    const handler = vi.fn();
    const wrapped = twin.onPredicate(expo, undefined, {
      ...quiet,
      clock: new FakeClock(),
      onBackoff: handler,
      onGiveup: handler,
    })(() => {
      throw error;
    });
    await expect(twin.call(wrapped)).rejects.toBe(error);
    expect(handler).not.toHaveBeenCalled();
  });

  it('runtime computes each wait from the returned value', async () => {
    const clock = new FakeClock();
    const target = returning(
      { ok: false, retryAfter: 3 },
      { ok: false, retryAfter: 7 },
      {
        ok: true,
        retryAfter: 0,
      },
    );
    const wrapped = twin.onPredicate(runtime, (r: { ok: boolean }) => !r.ok, {
      ...quiet,
      clock,
      value: (r: { retryAfter: number }) => r.retryAfter,
    })(target);
    expect(await twin.call(wrapped)).toEqual({ ok: true, retryAfter: 0 });
    expect(clock.sleeps).toEqual([3, 7]);
  });
});

describe('onPredicate (async twin only)', () => {
  const [asyncTwin] = twins as [(typeof twins)[number]];

  it('awaits an async predicate (Python never does)', async () => {
    const target = returning('busy', 'done');
    const wrapped = asyncTwin.onPredicate(
      constant,
      async (value: string) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return value === 'busy';
      },
      { logger: null, clock: new FakeClock() },
    )(target);
    expect(await wrapped()).toBe('done');
    expect(target.calls).toBe(2);
  });

  it('polls an async target until it is ready', async () => {
    let polls = 0;
    const wrapped = asyncTwin.onPredicate(
      constant,
      (job: { state: string }) => job.state !== 'done',
      {
        logger: null,
        clock: new FakeClock(),
        interval: 2,
        jitter: null,
      },
    )(async () => ({ state: ++polls < 4 ? 'running' : 'done' }));
    expect(await wrapped()).toEqual({ state: 'done' });
    expect(polls).toBe(4);
  });
});
