// Failures that do not use up a try: the `free` option, its own bound (`maxFreeTries`), its own
// waits (`freeWait`, or the server's), and the budget that still sees them.
import { describe, expect, it } from 'vitest';
import {
  type BudgetCall,
  constant,
  expo,
  onException,
  onExceptionSync,
  onPredicate,
  retryAfter,
  retryContext,
  tokenBucket,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing.js';
import { flaky, quiet } from '../helpers.js';

class Throttled extends Error {
  override name = 'Throttled';
}
class Broken extends Error {
  override name = 'Broken';
}
const throttled = () => new Throttled('slow down');
const broken = () => new Broken('down');

describe('free', () => {
  it('a failure it accepts does not use up a try; details.tries counts every attempt', async () => {
    const clock = new VirtualClock();
    const giveups: Record<string, unknown>[] = [];
    const target = flaky([throttled(), broken(), throttled(), throttled(), broken()], 'never');
    const call = onException(expo, Error, {
      ...quiet,
      clock,
      free: Throttled,
      maxTries: 2,
      onGiveup: (details) => {
        giveups.push({ ...details });
      },
    })(target);
    await expect(call()).rejects.toBeInstanceOf(Broken);
    expect(target.calls).toBe(5); // two that count, three free
    expect(giveups).toMatchObject([{ tries: 5, freeTries: 3, reason: 'maxTries' }]);
  });

  it('free retries are bounded by maxFreeTries: past it the call gives up, reason maxFreeTries', async () => {
    const clock = new VirtualClock();
    const reasons: unknown[] = [];
    const error = throttled();
    let calls = 0;
    const call = onException(expo, Error, {
      ...quiet,
      clock,
      free: [RangeError, Throttled],
      maxFreeTries: 3,
      onGiveup: ({ reason, freeTries, tries }) => {
        reasons.push({ reason, freeTries, tries });
      },
    })(async () => {
      calls += 1;
      throw error;
    });
    await expect(call()).rejects.toBe(error); // the user's error, the same object
    expect(calls).toBe(4);
    expect(reasons).toEqual([{ reason: 'maxFreeTries', freeTries: 4, tries: 4 }]);
  });

  it('defaults to 10 free retries a call', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const call = onException(expo, Error, { ...quiet, clock, free: Throttled })(async () => {
      calls += 1;
      throw throttled();
    });
    await expect(call()).rejects.toBeInstanceOf(Throttled);
    expect(calls).toBe(11);
  });

  it('a free retry waits freeWait’s waits (default 1, 2, 4 … 20 s); the main generator does not advance', async () => {
    const clock = new VirtualClock();
    const waits: unknown[] = [];
    const sequence = [broken(), throttled(), throttled(), broken(), ...Array(6).fill(throttled())];
    const call = onException(expo, Error, {
      ...quiet,
      clock,
      factor: 10,
      maxValue: 1000,
      free: Throttled,
      onBackoff: ({ wait, freeTries }) => {
        waits.push([wait, freeTries]);
      },
    })(flaky(sequence, 'ok'));
    await expect(call()).resolves.toBe('ok');
    expect(waits).toEqual([
      [10, 0],
      [1, 1],
      [2, 2],
      [20, 2], // the main generator's second value: free retries did not advance it
      [4, 3], // the free waits go on where they were
      [8, 4],
      [16, 5],
      [20, 6], // capped at 20 s, as AWS caps its throttling waits
      [20, 7],
      [20, 8],
    ]);
  });

  it('a free retry waits the server’s Retry-After, unjittered, where the main waits read it (retryAfter)', async () => {
    const limited = () =>
      Object.assign(new Throttled('429'), {
        response: { status: 429, headers: { 'retry-after': '7' } },
      });
    const clock = new VirtualClock();
    const call = onException(retryAfter, Error, { logger: null, clock, free: Throttled })(
      flaky([limited(), limited()], 'ok'),
    );
    await expect(call()).resolves.toBe('ok');
    expect(clock.sleeps).toEqual([7, 7]);
    // A decorator whose waits ignore Retry-After ignores it on free retries too.
    const plain = new VirtualClock();
    const ignoring = onException(expo, Error, { ...quiet, clock: plain, free: Throttled })(
      flaky([limited()], 'ok'),
    );
    await expect(ignoring()).resolves.toBe('ok');
    expect(plain.sleeps).toEqual([1]);
  });

  it('a server’s wait past retryAfter’s maxServerWait gives up, reason serverWait', async () => {
    const limited = Object.assign(new Throttled('429'), { headers: { 'retry-after': '90' } });
    const reasons: unknown[] = [];
    const call = onException(retryAfter, Error, {
      ...quiet,
      clock: new VirtualClock(),
      maxServerWait: 30,
      free: Throttled,
      onGiveup: ({ reason }) => {
        reasons.push(reason);
      },
    })(flaky([limited], 'ok'));
    await expect(call()).rejects.toBe(limited);
    expect(reasons).toEqual(['serverWait']);
  });

  it('a server’s wait past maxTime gives up at once, reason maxTime', async () => {
    const clock = new VirtualClock();
    const limited = Object.assign(new Throttled('429'), { headers: { 'retry-after': '90' } });
    const reasons: unknown[] = [];
    const call = onException(retryAfter, Error, {
      ...quiet,
      clock,
      maxTime: 60,
      free: Throttled,
      onGiveup: ({ reason }) => {
        reasons.push(reason);
      },
    })(flaky([limited], 'ok'));
    await expect(call()).rejects.toBe(limited);
    expect(reasons).toEqual(['maxTime']);
    expect(clock.sleeps).toEqual([]);
  });

  it('freeWait is the caller’s own, jittered like the main waits', async () => {
    const clock = new VirtualClock();
    const call = onException(constant, Error, {
      logger: null,
      clock,
      interval: 100,
      jitter: (seconds) => seconds / 2,
      free: Throttled,
      freeWait: () => constant({ interval: 3 }),
    })(flaky([throttled(), broken(), throttled()], 'ok'));
    await expect(call()).resolves.toBe('ok');
    expect(clock.sleeps).toEqual([1.5, 50, 1.5]);
  });

  it('may be a function of the details, sync or async; on onPredicate it sees the value', async () => {
    const clock = new VirtualClock();
    const seen: unknown[] = [];
    const call = onException(constant, Error, {
      ...quiet,
      clock,
      interval: 5,
      maxTries: 1,
      free: async ({ exception, tries }) => {
        seen.push(tries);
        return (exception as Error).message === 'busy';
      },
    })(flaky([new Error('busy'), new Error('busy')], 'ok'));
    await expect(call()).resolves.toBe('ok');
    expect(seen).toEqual([1, 2]);

    const values = onPredicate(
      constant,
      (response: { status: number }) => response.status !== 200,
      {
        ...quiet,
        clock,
        interval: 5,
        maxTries: 2,
        free: ({ value }) => (value as { status: number }).status === 429,
      },
    );
    let n = 0;
    const statuses = [429, 429, 503, 429, 503, 200];
    const result = await values(async () => ({ status: statuses[n++] as number }))();
    expect(result).toEqual({ status: 503 }); // two that count: 503, 503; the 429s were free
    expect(n).toBe(5);
  });

  it('the blocking twins and the block form take it too', async () => {
    const clock = new VirtualClock();
    const sync = onExceptionSync(expo, Error, {
      ...quiet,
      clock,
      maxTries: 1,
      free: Throttled,
    })(flaky([throttled(), throttled()], 'ok'));
    expect(sync()).toBe('ok');
    expect(clock.sleeps).toEqual([1, 2]);

    let tries = 0;
    for await (const attempt of retryContext(Throttled, expo, {
      ...quiet,
      clock: new VirtualClock(),
      maxTries: 1,
      free: Throttled,
    })) {
      await attempt.run(async () => {
        tries += 1;
        if (tries < 3) throw throttled();
      });
    }
    expect(tries).toBe(3);
  });

  it('the budget still sees a free retry: asked, told it is free; tokenBucket charges throttlingCost', async () => {
    const asked: boolean[] = [];
    const budget = {
      tryRetry: (call: BudgetCall) => {
        asked.push(call.free === true);
        return true;
      },
    };
    const call = onException(expo, Error, {
      ...quiet,
      clock: new VirtualClock(),
      budget,
      free: Throttled,
    })(flaky([throttled(), broken(), throttled()], 'ok'));
    await expect(call()).resolves.toBe('ok');
    expect(asked).toEqual([true, false, true]);

    const bucket = tokenBucket({ capacity: 100, retryCost: 14, throttlingCost: 5 });
    const free = onException(expo, Error, {
      ...quiet,
      clock: new VirtualClock(),
      budget: bucket,
      free: () => true,
    })(flaky([broken(), broken()], 'ok'));
    await expect(free()).resolves.toBe('ok');
    // Two retries at 5; the success refunds the last retry's cost, as the AWS SDK's quota does.
    expect(bucket.state().tokens).toBe(100 - 5 - 5 + 5);
  });

  it('a budget’s refusal of a free retry gives up, reason budget', async () => {
    const reasons: unknown[] = [];
    const call = onException(expo, Error, {
      ...quiet,
      clock: new VirtualClock(),
      budget: { tryRetry: () => false },
      free: Throttled,
      onGiveup: ({ reason }) => {
        reasons.push(reason);
      },
    })(flaky([throttled()], 'ok'));
    await expect(call()).rejects.toBeInstanceOf(Throttled);
    expect(reasons).toEqual(['budget']);
  });

  it('an unbounded maxFreeTries needs a finite maxTime: refused with a RangeError naming both', () => {
    expect(() =>
      onException(expo, Error, { free: Throttled, maxFreeTries: Number.POSITIVE_INFINITY }),
    ).toThrow(RangeError);
    expect(() =>
      onException(expo, Error, { free: Throttled, maxFreeTries: Number.POSITIVE_INFINITY }),
    ).toThrow(/`maxFreeTries`.*maxTime/);
    expect(() =>
      onException(expo, Error, {
        free: Throttled,
        maxFreeTries: Number.POSITIVE_INFINITY,
        maxTime: 60,
      }),
    ).not.toThrow();
  });

  it('bad values get a TypeError or RangeError naming the option and the value', () => {
    expect(() => onException(expo, Error, { maxFreeTries: 0 })).toThrow(/`maxFreeTries`.*got 0/);
    expect(() => onException(expo, Error, { maxFreeTries: 1.5 })).toThrow(RangeError);
    expect(() => onException(expo, Error, { free: [] as never })).toThrow(
      /^Expected `free` to be an error class, a non-empty array of them, or a function of the details, got /,
    );
    expect(() => onException(expo, Error, { free: 'Throttled' as never })).toThrow(TypeError);
    expect(() => onPredicate(expo, undefined, { free: Throttled as never })).toThrow(
      /`free`.*a function of the details/,
    );
    expect(() => onException(expo, Error, { freeWait: 3 as never })).toThrow(/`freeWait`/);
    expect(() => onException(expo, Error, { maxFreeTries: 0 })).toThrow(
      'Expected `maxFreeTries` to be a positive integer or Infinity (with a finite maxTime), got 0',
    );
    // undefined and null are as if left out
    for (const value of [undefined, null]) {
      expect(() =>
        onException(expo, Error, { free: value, maxFreeTries: value, freeWait: value }),
      ).not.toThrow();
    }
  });

  it('a freeWait that returns no iterator, or a wait that is no number, is a clear error', async () => {
    const notIterator = onException(expo, Error, {
      ...quiet,
      clock: new VirtualClock(),
      free: Throttled,
      freeWait: (() => 5) as never,
    })(flaky([throttled()], 'ok'));
    await expect(notIterator()).rejects.toThrow(/`freeWait` to return an iterator, got 5/);
  });

  it('without free or a breaker, the details are Python’s: no freeTries', async () => {
    const seen: Record<string, unknown>[] = [];
    const call = onException(expo, Error, {
      ...quiet,
      clock: new VirtualClock(),
      onBackoff: (details) => {
        seen.push({ ...details });
      },
    })(flaky([broken()], 'ok'));
    await call();
    expect(Object.keys(seen[0] as object)).toEqual([
      'target',
      'args',
      'tries',
      'elapsed',
      'wait',
      'exception',
    ]);
  });
});

describe('free: the edges', () => {
  it('freeWait gets the random source; one that returns nothing is a TypeError that says so', async () => {
    const clock = new VirtualClock();
    const call = onException(expo, Error, {
      ...quiet,
      clock,
      random: () => 0.25,
      free: Throttled,
      freeWait: ({ random }) => ({ next: () => ({ done: false, value: random() * 8 }) }),
    })(flaky([throttled()], 'ok'));
    await expect(call()).resolves.toBe('ok');
    expect(clock.sleeps).toEqual([2]);
    const nothing = onException(expo, Error, {
      ...quiet,
      clock: new VirtualClock(),
      free: Throttled,
      freeWait: (() => undefined) as never,
    })(flaky([throttled()], 'ok'));
    await expect(nothing()).rejects.toThrow(
      'Expected `freeWait` to return an iterator, got undefined',
    );
  });

  it('a free failure at maxTime gives up, reason maxTime', async () => {
    const clock = new VirtualClock();
    const reasons: unknown[] = [];
    let calls = 0;
    const call = onException(expo, Error, {
      ...quiet,
      clock,
      maxTime: 5,
      free: Throttled,
      onGiveup: ({ reason }) => {
        reasons.push(reason);
      },
    })(async () => {
      calls += 1;
      await clock.sleep(5);
      throw throttled();
    });
    await expect(call()).rejects.toBeInstanceOf(Throttled);
    expect(reasons).toEqual(['maxTime']);
    expect(calls).toBe(1);
  });

  it('an exhausted freeWait gives up (reason exhausted) and rethrows, even with raiseOnGiveup false', async () => {
    const reasons: unknown[] = [];
    const error = throttled();
    const call = onException(expo, Error, {
      ...quiet,
      clock: new VirtualClock(),
      raiseOnGiveup: false,
      free: Throttled,
      freeWait: () => constant({ interval: [1] }),
      onGiveup: ({ reason }) => {
        reasons.push(reason);
      },
    })(flaky([throttled(), error], 'ok'));
    await expect(call()).rejects.toBe(error);
    expect(reasons).toEqual(['exhausted']);
    // Past maxFreeTries, raiseOnGiveup false resolves undefined, as other give-ups do.
    const quietly = onException(expo, Error, {
      ...quiet,
      clock: new VirtualClock(),
      raiseOnGiveup: false,
      free: Throttled,
      maxFreeTries: 1,
    })(flaky([throttled(), throttled()], 'ok'));
    await expect(quietly()).resolves.toBeUndefined();
  });
});

describe('free: classes or a function', () => {
  /** Matches whatever is thrown, so that only `free` decides. */
  const Anything = Object.defineProperty(function Anything() {}, Symbol.hasInstance, {
    value: () => true,
  });
  /** Calls of a target that fails with `error` until its third call, with `free` and maxTries 1. */
  const attemptsWith = async (free: unknown, error: unknown) => {
    let calls = 0;
    const call = onException(expo, Anything as never, {
      ...quiet,
      clock: new VirtualClock(),
      maxTries: 1,
      free: free as never,
    })(async () => {
      calls += 1;
      if (calls < 3) throw error;
      return 'ok';
    });
    await call().catch(() => {});
    return calls;
  };

  it('Error itself is a class: a thrown string is no instance of it, so it is not free', async () => {
    expect(await attemptsWith(Error, 'a string')).toBe(1);
    expect(await attemptsWith(Error, new Error('an error'))).toBe(3);
  });

  it('an error class written the old way (a function whose prototype is an Error) is a class', async () => {
    function LegacyError(this: Error, message: string) {
      this.message = message;
    }
    LegacyError.prototype = Object.create(Error.prototype);
    const legacy = new (LegacyError as unknown as new (message: string) => Error)('x');
    expect(await attemptsWith(LegacyError, legacy)).toBe(3);
    expect(await attemptsWith(LegacyError, new Error('other'))).toBe(1);
  });

  it('a function of the details whose text says "class" is still a function', async () => {
    const busy = Object.assign(new Error('busy'), { class: 'busy' });
    expect(
      await attemptsWith(
        ({ exception }: { exception: { class?: string } }) => exception.class === 'busy',
        busy,
      ),
    ).toBe(3);
  });
});
