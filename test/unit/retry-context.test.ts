// The block form: retryContext and retryContextSync, their attempts, and a loop once ended.
import { describe, expect, it, vi } from 'vitest';
import { constant, expo, retryContext, retryContextSync } from '../../src/index.js';
import { FakeClock, twins } from '../helpers.js';

describe.each(twins)('the block form ($name twin)', (twin) => {
  const quiet = { logger: null, jitter: null } as const;

  it('retries the body while it throws a matched error', async () => {
    const clock = new FakeClock();
    let bodies = 0;
    await twin.loop(twin.retryContext(TypeError, expo, { ...quiet, clock }), (run) =>
      run(() => {
        bodies += 1;
        if (bodies < 3) throw new TypeError();
      }),
    );
    expect(bodies).toBe(3);
    expect(clock.sleeps).toEqual([1, 2]);
  });

  it('calls the block with no arguments and no this', async () => {
    const seen: unknown[] = [];
    await twin.loop(twin.retryContext(TypeError, expo, quiet), (run) =>
      run(function (this: unknown, ...args: unknown[]) {
        seen.push(this, args);
      }),
    );
    expect(seen).toEqual([undefined, []]);
  });

  it('run returns the block value, and undefined for a swallowed failure', async () => {
    const results: unknown[] = [];
    let n = 0;
    await twin.loop(
      twin.retryContext(TypeError, constant, { ...quiet, clock: new FakeClock() }),
      (run) => {
        const out = run(() => {
          n += 1;
          if (n === 1) throw new TypeError();
          return 'value';
        });
        results.push(out);
        return out;
      },
    );
    if (twin.name === 'async') {
      expect(await Promise.all(results)).toEqual([undefined, 'value']);
    } else {
      expect(results).toEqual([undefined, 'value']);
    }
  });

  it('gives up after maxTries: rethrows the last error out of the loop', async () => {
    const errors = [new TypeError('1'), new TypeError('2'), new TypeError('3')];
    const onGiveup = vi.fn();
    await expect(
      twin.loop(
        twin.retryContext(TypeError, constant, {
          ...quiet,
          clock: new FakeClock(),
          maxTries: 3,
          onGiveup,
        }),
        (run) =>
          run(() => {
            throw errors.shift();
          }),
      ),
    ).rejects.toThrow('3');
    expect(onGiveup).toHaveBeenCalledTimes(1);
  });

  it('with raiseOnGiveup: false, giving up ends the loop quietly', async () => {
    let bodies = 0;
    await twin.loop(
      twin.retryContext(TypeError, constant, {
        ...quiet,
        clock: new FakeClock(),
        maxTries: 2,
        raiseOnGiveup: false,
      }),
      (run) =>
        run(() => {
          bodies += 1;
          throw new TypeError();
        }),
    );
    expect(bodies).toBe(2);
  });

  it('an unmatched error propagates out of the loop at once, with no handler', async () => {
    const onGiveup = vi.fn();
    const onBackoff = vi.fn();
    const error = new RangeError('other');
    await expect(
      twin.loop(
        twin.retryContext(TypeError, constant, {
          ...quiet,
          clock: new FakeClock(),
          onGiveup,
          onBackoff,
        }),
        (run) =>
          run(() => {
            throw error;
          }),
      ),
    ).rejects.toBe(error);
    expect(onGiveup).not.toHaveBeenCalled();
    expect(onBackoff).not.toHaveBeenCalled();
  });

  it('an iteration that never calls run ends the loop as a success', async () => {
    const onSuccess = vi.fn();
    let iterations = 0;
    await twin.loop(
      twin.retryContext(TypeError, constant, { ...quiet, clock: new FakeClock(), onSuccess }),
      () => {
        iterations += 1;
      },
    );
    expect(iterations).toBe(1);
    expect(onSuccess).toHaveBeenCalledWith({ tries: 1, elapsed: 0 });
  });

  it('details have no target or args', async () => {
    const clock = new FakeClock();
    const events: unknown[] = [];
    const error = new TypeError('x');
    let n = 0;
    await twin.loop(
      twin.retryContext(TypeError, constant, {
        ...quiet,
        clock,
        interval: 2,
        onTry: (d: unknown) => events.push(['try', d]),
        onBackoff: (d: unknown) => events.push(['backoff', d]),
        onSuccess: (d: unknown) => events.push(['success', d]),
      }),
      (run) =>
        run(() => {
          clock.advance(1);
          if (++n === 1) throw error;
        }),
    );
    expect(events).toStrictEqual([
      ['try', { tries: 1, elapsed: 0 }],
      ['backoff', { tries: 1, elapsed: 1, wait: 2, exception: error }],
      ['try', { tries: 2, elapsed: 1 }],
      ['success', { tries: 2, elapsed: 4 }],
    ]);
  });

  it('defaults to Error and expo', async () => {
    const clock = new FakeClock();
    let n = 0;
    await twin.loop(twin.retryContext(undefined, undefined, { ...quiet, clock }), (run) =>
      run(() => {
        if (++n < 4) throw new Error('any');
      }),
    );
    expect(clock.sleeps).toEqual([1, 2, 4]);
  });

  it('break ends the loop silently', async () => {
    const onGiveup = vi.fn();
    const iterable = twin.retryContext(TypeError, constant, {
      ...quiet,
      clock: new FakeClock(),
      onGiveup,
    });
    let iterations = 0;
    if (twin.name === 'async') {
      for await (const attempt of iterable as AsyncIterable<{ run: (f: () => void) => unknown }>) {
        iterations += 1;
        await attempt.run(() => {
          throw new TypeError();
        });
        if (iterations === 2) break;
      }
    } else {
      for (const attempt of iterable as Iterable<{ run: (f: () => void) => unknown }>) {
        iterations += 1;
        attempt.run(() => {
          throw new TypeError();
        });
        if (iterations === 2) break;
      }
    }
    expect(iterations).toBe(2);
    expect(onGiveup).not.toHaveBeenCalled();
  });

  it('calling run twice on one attempt is a TypeError', async () => {
    await expect(
      twin.loop(
        twin.retryContext(TypeError, constant, { ...quiet, clock: new FakeClock() }),
        (run) => {
          run(() => 1);
          return run(() => 2);
        },
      ),
    ).rejects.toThrow(/already called/);
  });

  it('exposes the attempt number', async () => {
    const seen: number[] = [];
    const iterable = twin.retryContext(TypeError, constant, {
      ...quiet,
      clock: new FakeClock(),
      maxTries: 3,
      raiseOnGiveup: false,
    });
    if (twin.name === 'async') {
      for await (const attempt of iterable as AsyncIterable<{
        tries: number;
        run: (f: () => void) => unknown;
      }>) {
        seen.push(attempt.tries);
        await attempt.run(() => {
          throw new TypeError();
        });
      }
    } else {
      for (const attempt of iterable as Iterable<{
        tries: number;
        run: (f: () => void) => unknown;
      }>) {
        seen.push(attempt.tries);
        attempt.run(() => {
          throw new TypeError();
        });
      }
    }
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe('retryContext (async only)', () => {
  it('awaits async bodies, giveup and handlers', async () => {
    const events: string[] = [];
    let n = 0;
    for await (const attempt of retryContext(TypeError, constant, {
      logger: null,
      clock: new FakeClock(),
      giveup: async () => {
        await new Promise((r) => setTimeout(r, 2));
        events.push('giveup');
        return false;
      },
      onBackoff: async () => {
        await new Promise((r) => setTimeout(r, 2));
        events.push('backoff');
      },
    })) {
      await attempt.run(async () => {
        await new Promise((r) => setTimeout(r, 1));
        events.push('body');
        if (++n < 2) throw new TypeError();
      });
    }
    expect(events).toEqual(['body', 'giveup', 'backoff', 'body']);
  });

  it('waits for a run the body did not await', async () => {
    let n = 0;
    for await (const attempt of retryContext(TypeError, constant, {
      logger: null,
      clock: new FakeClock(),
    })) {
      void attempt.run(async () => {
        await new Promise((r) => setTimeout(r, 2));
        if (++n < 3) throw new TypeError();
      });
    }
    expect(n).toBe(3);
  });

  it('the block can return a value through run', async () => {
    let result: number | undefined;
    for await (const attempt of retryContext()) {
      result = await attempt.run(async () => 42);
    }
    expect(result).toBe(42);
  });
});

describe('a loop once ended stays ended', () => {
  it('after a break, next() makes no further attempt (both twins)', async () => {
    const clock = new FakeClock();
    const asyncLoop = retryContext(Error, constant, { clock, logger: null });
    const asyncAttempts = asyncLoop[Symbol.asyncIterator]();
    const first = await asyncAttempts.next();
    await (first.value as { run: (fn: () => never) => Promise<unknown> }).run(() => {
      throw new Error('down');
    });
    await asyncAttempts.return?.();
    expect(await asyncAttempts.next()).toEqual({ done: true, value: undefined });
    const syncLoop = retryContextSync(Error, constant, { clock, logger: null });
    const syncAttempts = syncLoop[Symbol.iterator]();
    syncAttempts.next().value?.run(() => {
      throw new Error('down');
    });
    syncAttempts.return?.();
    expect(syncAttempts.next()).toEqual({ done: true, value: undefined });
    expect(clock.sleeps).toEqual([]);
  });
});

describe('retryContextSync (sync only)', () => {
  it('an error the loop does not catch leaves attempt.run as it is, the same object', () => {
    const other = new RangeError('not retried');
    let attempts = 0;
    let after = 0;
    expect(() => {
      for (const attempt of retryContextSync(TypeError, constant, { logger: null })) {
        attempts += 1;
        attempt.run(() => {
          throw other;
        });
        after += 1;
      }
    }).toThrow(other);
    expect(attempts).toBe(1);
    expect(after).toBe(0);
  });

  it('reads lazy options when the loop starts', () => {
    let limit = 2;
    const attemptsUntilGiveUp = (): number => {
      let attempts = 0;
      const options = { clock: new FakeClock(), logger: null, maxTries: () => limit };
      expect(() => {
        for (const attempt of retryContextSync(TypeError, constant, options)) {
          attempts += 1;
          attempt.run(() => {
            throw new TypeError();
          });
        }
      }).toThrow(TypeError);
      return attempts;
    };
    expect(attemptsUntilGiveUp()).toBe(2);
    limit = 3;
    expect(attemptsUntilGiveUp()).toBe(3);
  });

  it('a block returning a Promise is a TypeError, its rejection handled', () => {
    expect(() => {
      for (const attempt of retryContextSync(Error, constant, { logger: null })) {
        attempt.run(() => Promise.reject(new Error('stray')));
      }
    }).toThrow(/returned a Promise.*for await/);
  });

  it('blocks for real between attempts with the system clock', () => {
    let n = 0;
    const start = performance.now();
    for (const attempt of retryContextSync(Error, constant, {
      logger: null,
      interval: 0.03,
      jitter: null,
    })) {
      attempt.run(() => {
        if (++n < 3) throw new Error();
      });
    }
    expect(n).toBe(3);
    expect(performance.now() - start).toBeGreaterThanOrEqual(55);
  });
});
