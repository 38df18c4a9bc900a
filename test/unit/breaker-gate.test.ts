// The `breaker` option: asked before every attempt, the first included; a refusal is a free
// failure (a wait of `retryAfter`, or a give-up `'breakerOpen'` with a BreakerOpenError); a
// permit hears the attempt's outcome once: success, failure or ignore.
import { describe, expect, it } from 'vitest';
import {
  type Admission,
  type Breaker,
  BreakerOpenError,
  constant,
  expo,
  onException,
  onExceptionSync,
  onPredicate,
  retryContext,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing.js';
import { flaky, quiet } from '../helpers.js';

/** A breaker that answers from a script and records what it hears. */
function scripted(answers: (Admission | 'grant')[] = [], key?: string) {
  const heard: string[] = [];
  let n = 0;
  const breaker: Breaker & { heard: string[] } = {
    key,
    heard,
    acquire() {
      heard.push('acquire');
      const answer = answers[n++] ?? 'grant';
      if (answer !== 'grant') return answer;
      return {
        ok: true,
        permit: {
          success: () => heard.push('success'),
          failure: (error: unknown) => heard.push(`failure:${(error as Error).message}`),
          ignore: () => heard.push('ignore'),
        },
      };
    },
  };
  return breaker;
}

class Fatal extends Error {}

describe('breaker', () => {
  it('is asked before every attempt, the first included, and hears each outcome once', async () => {
    const breaker = scripted();
    const call = onException(constant, TypeError, {
      ...quiet,
      clock: new VirtualClock(),
      interval: 1,
      breaker,
    })(flaky([new TypeError('a'), new TypeError('b')], 'ok'));
    await expect(call()).resolves.toBe('ok');
    expect(breaker.heard).toEqual([
      'acquire',
      'failure:a',
      'acquire',
      'failure:b',
      'acquire',
      'success',
    ]);
  });

  it('an error the decorator does not retry, one giveup accepts, and an abort are ignored', async () => {
    const fatal = scripted();
    const call = onException(constant, TypeError, { ...quiet, breaker: fatal })(
      flaky([new Fatal('no')], 'ok'),
    );
    await expect(call()).rejects.toBeInstanceOf(Fatal);
    expect(fatal.heard).toEqual(['acquire', 'ignore']);

    const givenUp = scripted();
    const refusedByGiveup = onException(constant, TypeError, {
      ...quiet,
      breaker: givenUp,
      giveup: () => true,
    })(flaky([new TypeError('400')], 'ok'));
    await expect(refusedByGiveup()).rejects.toBeInstanceOf(TypeError);
    expect(givenUp.heard).toEqual(['acquire', 'ignore']);

    const aborted = scripted();
    const controller = new AbortController();
    const abortable = onException(constant, TypeError, {
      ...quiet,
      breaker: aborted,
      signal: controller.signal,
    })(async () => {
      controller.abort(new Error('caller left'));
      throw new TypeError('late');
    });
    await expect(abortable()).rejects.toThrow('caller left');
    expect(aborted.heard).toEqual(['acquire', 'ignore']);
  });

  it('a refusal makes no attempt and waits retryAfter, unjittered; it counts as a free try', async () => {
    const clock = new VirtualClock();
    const breaker = scripted([
      { ok: false, retryAfter: 4 },
      { ok: false, retryAfter: 2.5 },
    ]);
    const backoffs: unknown[] = [];
    let calls = 0;
    const call = onException(expo, TypeError, {
      logger: null,
      clock,
      maxTries: 1,
      breaker,
      onBackoff: ({ wait, tries, freeTries, exception }) => {
        backoffs.push({ wait, tries, freeTries, open: exception instanceof BreakerOpenError });
      },
    })(async () => {
      calls += 1;
      return 'ok';
    });
    await expect(call()).resolves.toBe('ok');
    expect(calls).toBe(1);
    expect(clock.sleeps).toEqual([4, 2.5]);
    expect(backoffs).toEqual([
      { wait: 4, tries: 0, freeTries: 1, open: true },
      { wait: 2.5, tries: 0, freeTries: 2, open: true },
    ]);
    expect(breaker.heard).toEqual(['acquire', 'acquire', 'acquire', 'success']);
  });

  it('a refusal without retryAfter waits freeWait’s next wait', async () => {
    const clock = new VirtualClock();
    const breaker = scripted([{ ok: false }, { ok: false }]);
    const call = onException(expo, TypeError, { ...quiet, clock, breaker })(async () => 'ok');
    await expect(call()).resolves.toBe('ok');
    expect(clock.sleeps).toEqual([1, 2]);
  });

  it('a refusal whose wait passes maxTime gives up at once: breakerOpen, a BreakerOpenError', async () => {
    const clock = new VirtualClock();
    const breaker = scripted([{ ok: false, retryAfter: 30 }], 'payments');
    const giveups: unknown[] = [];
    const call = onException(expo, TypeError, {
      ...quiet,
      clock,
      maxTime: 10,
      breaker,
      onGiveup: ({ reason, exception, tries }) => {
        giveups.push({ reason, exception, tries });
      },
    })(async () => 'ok');
    const error = await call().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BreakerOpenError);
    expect(error).toMatchObject({
      name: 'BreakerOpenError',
      retryAfter: 30,
      key: 'payments',
      message: 'The circuit breaker "payments" refused the attempt; it may let one through in 30 s',
    });
    expect(giveups).toEqual([{ reason: 'breakerOpen', exception: error, tries: 0 }]);
    expect(clock.sleeps).toEqual([]);
  });

  it('refusals past maxFreeTries give up as breakerOpen; raiseOnGiveup false resolves undefined', async () => {
    const always: Breaker = { acquire: () => ({ ok: false, retryAfter: 1 }) };
    const reasons: unknown[] = [];
    const call = onException(expo, TypeError, {
      ...quiet,
      clock: new VirtualClock(),
      maxFreeTries: 3,
      breaker: always,
      onGiveup: ({ reason, freeTries }) => {
        reasons.push([reason, freeTries]);
      },
    })(async () => 'ok');
    await expect(call()).rejects.toBeInstanceOf(BreakerOpenError);
    expect(reasons).toEqual([['breakerOpen', 4]]);

    const quietly = onException(expo, TypeError, {
      ...quiet,
      clock: new VirtualClock(),
      maxFreeTries: 1,
      breaker: always,
      raiseOnGiveup: false,
    })(async () => 'ok');
    await expect(quietly()).resolves.toBeUndefined();
  });

  it('a refusal does not ask the budget: it sent nothing to the service', async () => {
    let asked = 0;
    const call = onException(expo, TypeError, {
      ...quiet,
      clock: new VirtualClock(),
      breaker: scripted([{ ok: false, retryAfter: 1 }]),
      budget: {
        tryRetry: () => {
          asked += 1;
          return true;
        },
      },
    })(async () => 'ok');
    await expect(call()).resolves.toBe('ok');
    expect(asked).toBe(0);
  });

  it('may be a function of the coming attempt’s details that picks a breaker per key', async () => {
    const a = scripted([], 'a');
    const b = scripted([], 'b');
    const seen: unknown[] = [];
    const call = onException(expo, TypeError, {
      ...quiet,
      clock: new VirtualClock(),
      breaker: ({ args, tries }) => {
        seen.push(tries);
        return args[0] === 'a' ? a : b;
      },
    })(flaky([new TypeError('x')], 'ok'));
    await call('a');
    await call('b');
    expect(seen).toEqual([1, 2, 1]);
    expect(a.heard).toEqual(['acquire', 'failure:x', 'acquire', 'success']);
    expect(b.heard).toEqual(['acquire', 'success']);
  });

  it('an async acquire is awaited by the async twins; the blocking twins refuse it', async () => {
    const later: Breaker = {
      acquire: async () => ({ ok: true, permit: { success() {}, failure() {}, ignore() {} } }),
    };
    await expect(
      onException(expo, TypeError, { ...quiet, breaker: later })(async () => 1)(),
    ).resolves.toBe(1);
    expect(() => onExceptionSync(expo, TypeError, { ...quiet, breaker: later })(() => 1)()).toThrow(
      /acquire returned a Promise/,
    );
  });

  it('the blocking twins, onPredicate and the block form take it', async () => {
    const sync = scripted([{ ok: false, retryAfter: 2 }]);
    const clock = new VirtualClock();
    expect(onExceptionSync(expo, TypeError, { ...quiet, clock, breaker: sync })(() => 7)()).toBe(7);
    expect(clock.sleeps).toEqual([2]);
    expect(sync.heard).toEqual(['acquire', 'acquire', 'success']);

    const predicate = scripted();
    const values = onPredicate(constant, (v: number) => v < 2, {
      ...quiet,
      clock: new VirtualClock(),
      interval: 1,
      breaker: predicate,
    });
    let n = 0;
    await expect(values(async () => n++)()).resolves.toBe(2);
    // A value the predicate retries is a failure of the service.
    expect(predicate.heard).toEqual([
      'acquire',
      'failure:undefined',
      'acquire',
      'failure:undefined',
      'acquire',
      'success',
    ]);

    const block = scripted([{ ok: false, retryAfter: 1 }]);
    let runs = 0;
    for await (const attempt of retryContext(TypeError, expo, {
      ...quiet,
      clock: new VirtualClock(),
      breaker: block,
    })) {
      await attempt.run(async () => {
        runs += 1;
      });
    }
    expect(runs).toBe(1);
    expect(block.heard).toEqual(['acquire', 'acquire', 'success']);
  });

  it('a handler that throws ends the call with its own error; the permit is let go (ignore)', async () => {
    const breaker = scripted();
    const mistake = new Error('handler bug');
    const call = onException(expo, TypeError, {
      ...quiet,
      breaker,
      onTry: () => {
        throw mistake;
      },
    })(async () => 'ok');
    await expect(call()).rejects.toBe(mistake);
    expect(breaker.heard).toEqual(['acquire', 'ignore']);

    const predicateBug = scripted();
    const failing = onPredicate(
      expo,
      () => {
        throw mistake;
      },
      { ...quiet, breaker: predicateBug },
    )(async () => 1);
    await expect(failing()).rejects.toBe(mistake);
    expect(predicateBug.heard).toEqual(['acquire', 'ignore']);
  });

  it('bad breakers and bad answers get a TypeError that says what was given', async () => {
    expect(() => onException(expo, TypeError, { breaker: {} as never })).toThrow(
      /^Expected `breaker` to be a circuit breaker \(an object with an acquire method\) or a function returning one, got /,
    );
    expect(() => onException(expo, TypeError, { breaker: null, free: undefined })).not.toThrow();
    const badAnswer = onException(expo, TypeError, {
      ...quiet,
      breaker: { acquire: () => 'yes' as never },
    })(async () => 1);
    await expect(badAnswer()).rejects.toThrow(
      /breaker\.acquire\(\) to return \{ ok: true, permit \} or \{ ok: false \}, got .*yes/,
    );
    const badPick = onException(expo, TypeError, {
      ...quiet,
      breaker: (() => 42) as never,
    })(async () => 1);
    await expect(badPick()).rejects.toThrow(/`breaker` function to return a circuit breaker/);
  });
});

describe('breaker: the edges', () => {
  it('BreakerOpenError says what it knows: the key and retryAfter when given', () => {
    expect(new BreakerOpenError(undefined, undefined).message).toBe(
      'The circuit breaker refused the attempt',
    );
    expect(new BreakerOpenError(2, undefined).message).toBe(
      'The circuit breaker refused the attempt; it may let one through in 2 s',
    );
    expect(new BreakerOpenError(undefined, 'db').message).toBe(
      'The circuit breaker "db" refused the attempt',
    );
  });

  it('a retryAfter that is no number of seconds is as if unknown; 0 is a wait of 0; a key that is no string is none', async () => {
    for (const [retryAfter, wait] of [
      [-1, 1],
      [Number.NaN, 1],
      [Number.POSITIVE_INFINITY, 1],
      ['5', 1],
      [0, 0],
    ] as const) {
      const clock = new VirtualClock();
      const call = onException(expo, TypeError, {
        ...quiet,
        clock,
        breaker: scripted([{ ok: false, retryAfter: retryAfter as number }]),
      })(async () => 'ok');
      await expect(call()).resolves.toBe('ok');
      expect(clock.sleeps, String(retryAfter)).toEqual([wait]);
    }
    const unnamed = onException(expo, TypeError, {
      ...quiet,
      maxFreeTries: 1,
      breaker: { key: 5 as never, acquire: () => ({ ok: false, retryAfter: 100 }) },
      maxTime: 1,
    })(async () => 'ok');
    await expect(unnamed()).rejects.toMatchObject({ key: undefined });
  });

  it('acquire’s answer is checked: a grant needs a permit with success, failure and ignore', async () => {
    const answers = [
      null,
      {},
      { ok: true },
      { ok: true, permit: { success() {}, failure() {} } },
      { ok: true, permit: { success() {}, ignore() {} } },
      { ok: true, permit: { failure() {}, ignore() {} } },
    ];
    for (const answer of answers) {
      const call = onException(expo, TypeError, {
        ...quiet,
        breaker: { acquire: () => answer as never },
      })(async () => 1);
      await expect(call()).rejects.toThrow(
        /^Expected breaker\.acquire\(\) to return \{ ok: true, permit \} or \{ ok: false \}, got /,
      );
    }
  });

  it('a picker may be async in the async twins; one that gives no breaker is a TypeError', async () => {
    const breaker = scripted();
    const call = onException(expo, TypeError, { ...quiet, breaker: async () => breaker })(
      async () => 1,
    );
    await expect(call()).resolves.toBe(1);
    expect(breaker.heard).toEqual(['acquire', 'success']);
    for (const picked of [null, undefined, 5, {}]) {
      const bad = onException(expo, TypeError, { ...quiet, breaker: () => picked as never })(
        async () => 1,
      );
      await expect(bad()).rejects.toThrow(
        /^Expected the `breaker` function to return a circuit breaker, got /,
      );
    }
    // Any value with an acquire method is a breaker, a function too.
    const callable = Object.assign(() => {}, { acquire: breaker.acquire });
    await expect(
      onException(expo, TypeError, { ...quiet, breaker: () => callable })(async () => 2)(),
    ).resolves.toBe(2);
  });

  it('the permit’s success and ignore get no argument; failure gets the error', async () => {
    const got: [string, unknown[]][] = [];
    const record =
      (name: string) =>
      (...args: unknown[]) => {
        got.push([name, args]);
      };
    const breaker: Breaker = {
      acquire: () => ({
        ok: true,
        permit: {
          success: record('success'),
          failure: record('failure'),
          ignore: record('ignore'),
        },
      }),
    };
    const error = new TypeError('x');
    const call = onException(expo, TypeError, { ...quiet, clock: new VirtualClock(), breaker })(
      flaky([error], 'ok'),
    );
    await call();
    await onException(expo, TypeError, { ...quiet, breaker })(async () => {
      throw new RangeError('not retried');
    })().catch(() => {});
    expect(got).toEqual([
      ['failure', [error]],
      ['success', []],
      ['ignore', []],
    ]);
  });

  it('a permit whose ignore rejects, let go as the call ends with a handler’s error: no unhandled rejection', async () => {
    const mistake = new Error('handler bug');
    const call = onException(expo, TypeError, {
      ...quiet,
      breaker: {
        acquire: () => ({
          ok: true,
          permit: {
            success() {},
            failure() {},
            ignore: () => Promise.reject(new Error('breaker down')),
          },
        }),
      },
      onTry: () => {
        throw mistake;
      },
    })(async () => 'ok');
    await expect(call()).rejects.toBe(mistake);
  });

  it('refusals use up no try: maxTries still allows its attempts', async () => {
    let calls = 0;
    const call = onException(expo, TypeError, {
      ...quiet,
      clock: new VirtualClock(),
      maxTries: 2,
      breaker: scripted([{ ok: false, retryAfter: 1 }]),
    })(async () => {
      calls += 1;
      throw new TypeError('x');
    });
    await expect(call()).rejects.toBeInstanceOf(TypeError);
    expect(calls).toBe(2);
  });

  it('onPredicate: a refusal keeps the last value in the details, and giving up rejects with the BreakerOpenError', async () => {
    const giveups: Record<string, unknown>[] = [];
    const values = onPredicate(constant, (v: number) => v < 10, {
      ...quiet,
      clock: new VirtualClock(),
      interval: 1,
      maxTime: 5,
      breaker: scripted(['grant', { ok: false, retryAfter: 60 }]),
      onGiveup: (details) => {
        giveups.push({ ...details });
      },
    })(async () => 1);
    await expect(values()).rejects.toBeInstanceOf(BreakerOpenError);
    expect(giveups).toMatchObject([{ value: 1, reason: 'breakerOpen' }]);
    expect(giveups[0]).not.toHaveProperty('exception');
  });
});

describe('breaker: the first attempt outside the loop (the fast path)', () => {
  it('a success report that returns a Promise is awaited; one that rejects rejects the call', async () => {
    for (const form of ['fast', 'loop'] as const) {
      const order: string[] = [];
      const slow: Breaker = {
        acquire: () => ({
          ok: true,
          permit: {
            success: async () => {
              await new Promise((resolve) => setTimeout(resolve, 5));
              order.push('reported');
            },
            failure() {},
            ignore() {},
          },
        }),
      };
      // onPredicate's success runs through the loop; onException's first one does not.
      const call =
        form === 'fast'
          ? onException(expo, TypeError, { ...quiet, breaker: slow })(async () => 'ok')
          : onPredicate(expo, () => false, { ...quiet, breaker: slow })(async () => 'ok');
      await call().then((value) => order.push(`resolved ${value}`));
      expect(order, form).toEqual(['reported', 'resolved ok']);

      const broken = new Error('breaker store down');
      const failing: Breaker = {
        acquire: () => ({
          ok: true,
          permit: { success: () => Promise.reject(broken), failure() {}, ignore() {} },
        }),
      };
      const rejecting =
        form === 'fast'
          ? onException(expo, TypeError, { ...quiet, breaker: failing })(async () => 'ok')
          : onPredicate(expo, () => false, { ...quiet, breaker: failing })(async () => 'ok');
      await expect(rejecting(), form).rejects.toBe(broken);
    }
  });

  it('an acquire that throws rejects the call with that error, and the target is not called', async () => {
    const broken = new Error('acquire failed');
    let calls = 0;
    const call = onException(expo, TypeError, {
      ...quiet,
      breaker: {
        acquire: () => {
          throw broken;
        },
      },
    })(async () => {
      calls += 1;
    });
    await expect(call()).rejects.toBe(broken);
    expect(calls).toBe(0);
  });

  it('a first attempt that times out is reported as a failure, and the loop goes on', async () => {
    const breaker = scripted();
    const clock = new VirtualClock();
    let calls = 0;
    const call = onException(expo, TypeError, { ...quiet, clock, timeout: 1, breaker })(
      async () => {
        calls += 1;
        if (calls === 1) await new Promise(() => {}); // never settles: the timeout ends it
        return 'ok';
      },
    );
    await expect(call()).resolves.toBe('ok');
    expect(breaker.heard).toEqual([
      'acquire',
      'failure:Attempt 1 timed out after 1 s',
      'acquire',
      'success',
    ]);
  });
});

describe('breaker: refusals and time', () => {
  it('refusals in a row read the clock: they do not outlast maxTime', async () => {
    const clock = new VirtualClock();
    const reasons: unknown[] = [];
    let calls = 0;
    const call = onException(expo, TypeError, {
      ...quiet,
      clock,
      maxTime: 10,
      breaker: { acquire: () => ({ ok: false, retryAfter: 4 }) },
      onGiveup: ({ reason, elapsed }) => {
        reasons.push([reason, elapsed]);
      },
    })(async () => {
      calls += 1;
    });
    await expect(call()).rejects.toBeInstanceOf(BreakerOpenError);
    expect(clock.sleeps).toEqual([4, 4]); // at 8 s, a third wait of 4 s would pass 10 s
    expect(reasons).toEqual([['breakerOpen', 8]]);
    expect(calls).toBe(0);
    // The same for a predicate twin, whose details keep the last value.
    const predicateClock = new VirtualClock();
    const values = onPredicate(constant, (v: number) => v < 10, {
      ...quiet,
      clock: predicateClock,
      interval: 1,
      maxTime: 10,
      breaker: scripted(['grant', ...Array(5).fill({ ok: false, retryAfter: 4 })]),
    })(async () => 1);
    await expect(values()).rejects.toBeInstanceOf(BreakerOpenError);
    expect(predicateClock.sleeps).toEqual([1, 4, 4]);
  });
});
