// Retry budgets: tokenBucket (the AWS SDK's quota), throttle (gRPC), ratio (Finagle), budgets of
// your own, and how the loop tells a budget of each call, failure and success.
import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import {
  AttemptTimeoutError,
  type BudgetCall,
  constant,
  onException,
  onExceptionSync,
  type RetryBudget,
  ratio,
  retryContextSync,
  throttle,
  tokenBucket,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing.js';
import { FakeClock, flaky, returning, twins } from '../helpers.js';

/** A budget that records every hook, answering `tryRetry` from `answers` (then true). */
function recording(answers: boolean[] = []) {
  const events: string[] = [];
  const budget: RetryBudget = {
    onRequest: (call) => events.push(`request ${call.tries}`),
    onFailure: (call) => events.push(`failure ${call.tries}`),
    onSuccess: (call) => events.push(`success ${call.tries}`),
    tryRetry: (call) => {
      events.push(`tryRetry ${call.tries}`);
      return answers.shift() ?? true;
    },
  };
  return { events, budget };
}

describe.each(twins)('the budget option ($name twin)', (twin) => {
  const quiet = { logger: null, jitter: null, interval: 0 } as const;

  it('is told of the call, each failure and the success; asked before each retry, never before the first attempt', async () => {
    const { events, budget } = recording();
    const wrapped = twin.onException(constant, TypeError, {
      ...quiet,
      clock: new VirtualClock(),
      budget,
    })(flaky([new TypeError(), new TypeError()], 'ok'));
    expect(await twin.call(wrapped)).toBe('ok');
    expect(events).toEqual([
      'request 0',
      'failure 1',
      'tryRetry 1',
      'failure 2',
      'tryRetry 2',
      'success 3',
    ]);
  });

  it('a refusal gives up with reason budget, rethrowing the last error', async () => {
    const { budget } = recording([true, false]);
    const onGiveup = vi.fn();
    const onBackoff = vi.fn();
    const last = new TypeError('second');
    const target = flaky([new TypeError('first'), last, new TypeError('third')], 'ok');
    const wrapped = twin.onException(constant, TypeError, {
      ...quiet,
      clock: new VirtualClock(),
      budget,
      onGiveup,
      onBackoff,
    })(target);
    await expect(twin.call(wrapped)).rejects.toBe(last);
    expect(target.calls).toBe(2);
    expect(onBackoff).toHaveBeenCalledTimes(1);
    expect(onGiveup).toHaveBeenCalledWith(expect.objectContaining({ tries: 2, reason: 'budget' }));
  });

  it('predicate twins use it too; one budget serves many wrapped functions', async () => {
    const budget = tokenBucket({ capacity: 10, retryCost: 5 });
    const decorate = twin.onPredicate(constant, undefined, {
      ...quiet,
      clock: new VirtualClock(),
      budget,
      maxTries: 10,
    });
    const first = returning(0);
    const second = returning(0);
    expect(await twin.call(decorate(first))).toBe(0);
    expect(await twin.call(decorate(second))).toBe(0);
    // 10 tokens pay for two retries in all, shared by both functions.
    expect(first.calls + second.calls).toBe(4);
    expect(budget.state().tokens).toBe(0);
  });

  it('logs a budget give-up as such', async () => {
    const lines: string[] = [];
    const logger = { info: () => {}, error: (m: string) => lines.push(m) };
    await expect(
      twin.call(
        twin.onException(constant, TypeError, {
          ...quiet,
          clock: new VirtualClock(),
          logger,
          budget: { tryRetry: () => false },
        })(function job() {
          throw new TypeError('x');
        }),
      ),
    ).rejects.toThrow('x');
    expect(lines).toEqual(['Giving up job(...) after 1 tries, retry budget spent (TypeError: x)']);
  });

  it('rejects what is not a budget', () => {
    expect(() => twin.onException(constant, Error, { budget: {} })).toThrow(/`budget`.*tryRetry/);
    expect(() =>
      twin.onException(constant, Error, { budget: { tryRetry: () => true, onSuccess: 3 } }),
    ).toThrow(/`budget\.onSuccess`/);
  });
});

describe.each(twins)('the budget in the block form ($name twin)', (twin) => {
  it('is asked before each retry; a refusal ends the loop with the last error', async () => {
    const { events, budget } = recording([true, false]);
    let bodies = 0;
    await expect(
      twin.loop(
        twin.retryContext(TypeError, constant, {
          logger: null,
          interval: 0,
          clock: new VirtualClock(),
          budget,
        }),
        (run) =>
          run(() => {
            bodies += 1;
            throw new TypeError(`body ${bodies}`);
          }),
      ),
    ).rejects.toThrow('body 2');
    expect(events).toEqual(['request 0', 'failure 1', 'tryRetry 1', 'failure 2', 'tryRetry 2']);
  });
});

describe('budgets kept elsewhere (async hooks)', () => {
  it('are awaited by the async twins and refused by the sync twins', async () => {
    const budget: RetryBudget = { tryRetry: async () => false };
    const [asyncTwin] = twins as [(typeof twins)[number]];
    await expect(
      asyncTwin.onException(constant, TypeError, { logger: null, interval: 0, budget })(
        flaky([new TypeError('x')], 1),
      )(),
    ).rejects.toThrow('x');
    expect(() =>
      onExceptionSync(constant, TypeError, { logger: null, interval: 0, budget })(
        flaky([new TypeError()], 1),
      )(),
    ).toThrow(/returned a Promise.*async twin/);
  });

  it('one that says it is async (a Redis budget) is refused by the sync twins when the decorator is made', () => {
    const budget: RetryBudget = { tryRetry: async () => true, async: true };
    const refused =
      /`budget` is a budget whose hooks return Promises .*cannot wait for it; use the async twin/;
    expect(() => onExceptionSync(constant, TypeError, { budget })).toThrow(refused);
    expect(() => retryContextSync(TypeError, constant, { budget })).toThrow(refused);
    expect(() => onException(constant, TypeError, { budget })).not.toThrow();
  });
});

describe.each(twins)('the budget is told of retryable failures only ($name twin)', (twin) => {
  const quiet = { logger: null, interval: 0, clock: new FakeClock() } as const;
  it('not of one giveup refused, as gRPC counts it (gRFC A6)', async () => {
    const budget = throttle({ maxTokens: 9, tokenRatio: 1 });
    const wrapped = twin.onException(constant, TypeError, { ...quiet, budget, giveup: () => true })(
      flaky([new TypeError('bad request')], 'ok'),
    );
    await expect(twin.call(wrapped)).rejects.toThrow('bad request');
    expect(budget.state().tokens).toBe(9);
  });

  it('but of the last try past maxTries, as gRPC counts it', async () => {
    const budget = throttle({ maxTokens: 9, tokenRatio: 1 });
    const wrapped = twin.onException(constant, TypeError, { ...quiet, budget, maxTries: 1 })(
      flaky([new TypeError('down')], 'ok'),
    );
    await expect(twin.call(wrapped)).rejects.toThrow('down');
    expect(budget.state().tokens).toBe(8);
  });
});

describe('the budget is not told of an aborted call’s failure', () => {
  it('an abort during the attempt: the failure is not charged', async () => {
    const budget = throttle({ maxTokens: 9, tokenRatio: 1 });
    const controller = new AbortController();
    const wrapped = onException(constant, TypeError, {
      logger: null,
      interval: 0,
      budget,
      signal: controller.signal,
    })(() => {
      controller.abort(new Error('stop'));
      throw new TypeError('down');
    });
    await expect(wrapped()).rejects.toThrow('stop');
    expect(budget.state().tokens).toBe(9);
  });
});

const call = (outcome: unknown = new Error('x'), tries = 1): BudgetCall => ({
  tries,
  outcome,
  memo: undefined,
});

describe('tokenBucket (AWS retry quota)', () => {
  it('starts full at 500; a retry costs 5, a timeout retry 10; no tokens, no retry', () => {
    const budget = tokenBucket();
    expect(budget.state()).toEqual({ tokens: 500, capacity: 500 });
    let granted = 0;
    while (budget.tryRetry(call())) granted += 1;
    expect(granted).toBe(100);
    const timeouts = tokenBucket();
    const timeout = Object.assign(new Error('slow'), { name: 'TimeoutError' });
    let grantedTimeouts = 0;
    while (timeouts.tryRetry(call(timeout))) grantedTimeouts += 1;
    expect(grantedTimeouts).toBe(50);
    const byCode = tokenBucket();
    expect(byCode.tryRetry(call({ code: 'ETIMEDOUT' }))).toBe(true);
    expect(byCode.state().tokens).toBe(490);
    // A thrown null or undefined is no timeout: it costs a plain retry.
    const nothing = tokenBucket();
    nothing.tryRetry(call(null));
    nothing.tryRetry(call(undefined));
    expect(nothing.state().tokens).toBe(490);
  });

  it('a retry after the library’s own per-attempt timeout is a timeout retry: 10 tokens', async () => {
    const budget = tokenBucket({ capacity: 100 });
    let attempts = 0;
    const wrapped = onException(constant, Error, {
      interval: 0,
      jitter: null,
      logger: null,
      timeout: 0.01,
      maxTries: 2,
      budget,
    })(async () => {
      attempts += 1;
      await new Promise((resolve) => setTimeout(resolve, attempts === 1 ? 1_000 : 0));
      return 'ok';
    });
    await expect(wrapped()).resolves.toBe('ok');
    // 100 - 10 for the retry after the AttemptTimeoutError, + 10 back for its success.
    expect(budget.state().tokens).toBe(100);
    const direct = tokenBucket({ capacity: 100 });
    direct.tryRetry(call(new AttemptTimeoutError(0.01, 1)));
    expect(direct.state().tokens).toBe(90);
  });

  it('a success returns 1, or the cost of the retry that succeeded; never above capacity', () => {
    const budget = tokenBucket({ capacity: 20 });
    const retried = call();
    expect(budget.tryRetry(retried)).toBe(true);
    expect(budget.state().tokens).toBe(15);
    budget.onSuccess?.(retried);
    expect(budget.state().tokens).toBe(20);
    budget.tryRetry(call());
    budget.onSuccess?.(call());
    expect(budget.state().tokens).toBe(16);
    for (let i = 0; i < 10; i++) budget.onSuccess?.(call());
    expect(budget.state().tokens).toBe(20);
  });

  it('checks its options', () => {
    expect(() => tokenBucket({ capacity: -1 })).toThrow(/`capacity`.*-1/);
    expect(() => tokenBucket({ retryCost: Number.NaN })).toThrow(RangeError);
  });
});

describe('tokenBucket: the AWS SDK’s throttling classification', () => {
  // The error names of @smithy/core's THROTTLING_ERROR_CODES, and its other signs of throttling.
  const throttling: unknown[] = [
    ...[
      'BandwidthLimitExceeded',
      'EC2ThrottledException',
      'LimitExceededException',
      'PriorRequestNotComplete',
      'ProvisionedThroughputExceededException',
      'RequestLimitExceeded',
      'RequestThrottled',
      'RequestThrottledException',
      'SlowDown',
      'ThrottledException',
      'Throttling',
      'ThrottlingException',
      'TooManyRequestsException',
      'TransactionInProgressException',
    ].map((name) => Object.assign(new Error('x'), { name })),
    { status: 429 },
    { statusCode: 429 },
    { response: { status: 429 } },
    { $metadata: { httpStatusCode: 429 } },
    { $retryable: { throttling: true } },
  ];
  const other: unknown[] = [
    new Error('x'),
    { status: 503 },
    { name: 42 },
    { $retryable: { throttling: 'yes' } },
    null,
    'Throttling',
  ];
  const current = () =>
    tokenBucket({ capacity: 100, retryCost: 14, timeoutCost: 14, throttlingCost: 5 });

  it('the list is the SDK’s: its own isThrottlingError agrees on every SDK-shaped case', () => {
    const sdk = createRequire(import.meta.url)('@smithy/core/retry') as {
      isThrottlingError(error: unknown): boolean;
    };
    // The SDK reads 429 from $metadata only; the other 429 forms are this library's own (fetch).
    const sdkShaped = (outcome: unknown) =>
      typeof outcome === 'object' &&
      outcome !== null &&
      !('status' in outcome || 'statusCode' in outcome || 'response' in outcome);
    for (const outcome of [...throttling, ...other].filter(sdkShaped)) {
      expect([outcome, sdk.isThrottlingError(outcome)]).toEqual([
        outcome,
        throttling.includes(outcome),
      ]);
    }
  });

  it.each(throttling)('%o costs the throttling cost', (outcome) => {
    const budget = current();
    expect(budget.tryRetry(call(outcome))).toBe(true);
    expect(budget.state().tokens).toBe(95);
  });

  it.each(other)('%o costs the retry cost', (outcome) => {
    const budget = current();
    expect(budget.tryRetry(call(outcome))).toBe(true);
    expect(budget.state().tokens).toBe(86);
  });

  it('refuses a bad throttlingCost, naming it', () => {
    expect(() => tokenBucket({ throttlingCost: -1 })).toThrow(
      'Expected `throttlingCost` to be a finite number >= 0, got -1',
    );
  });

  it('throttling is checked before the timeout; without throttlingCost it costs retryCost', () => {
    const both = Object.assign(new Error('x'), { name: 'ThrottlingException', code: 'ETIMEDOUT' });
    const budget = current();
    budget.tryRetry(call(both));
    expect(budget.state().tokens).toBe(95);
    const original = tokenBucket();
    original.tryRetry(call({ status: 429 }));
    expect(original.state().tokens).toBe(495);
  });
});

describe('throttle (gRPC retry throttling)', () => {
  it('a failure takes 1 token, a success adds tokenRatio; retries while tokens > maxTokens / 2', () => {
    const budget = throttle({ maxTokens: 10, tokenRatio: 0.5 });
    for (let i = 0; i < 4; i++) budget.onFailure?.(call());
    expect(budget.state()).toEqual({ tokens: 6, maxTokens: 10, retrying: true });
    expect(budget.tryRetry(call())).toBe(true);
    budget.onFailure?.(call());
    expect(budget.tryRetry(call())).toBe(false);
    expect(budget.state()).toEqual({ tokens: 5, maxTokens: 10, retrying: false });
    budget.onSuccess?.(call());
    expect(budget.state().tokens).toBe(5.5);
    expect(budget.tryRetry(call())).toBe(true);
    for (let i = 0; i < 100; i++) budget.onSuccess?.(call());
    expect(budget.state().tokens).toBe(10);
    for (let i = 0; i < 100; i++) budget.onFailure?.(call());
    expect(budget.state().tokens).toBe(0);
  });
});

describe('ratio (Finagle RetryBudget)', () => {
  it('allows 20% of requests plus 10 per second over a 10 s window', () => {
    const clock = new VirtualClock();
    const budget = ratio({ clock });
    let granted = 0;
    while (budget.tryRetry(call())) granted += 1;
    expect(granted).toBe(100);
    for (let i = 0; i < 50; i++) budget.onRequest?.(call());
    granted = 0;
    while (budget.tryRetry(call())) granted += 1;
    expect(granted).toBe(10);
    expect(budget.state()).toMatchObject({ requests: 50, retries: 110 });
  });

  it('keeps 10 slices of ttl / 10, as Finagle does: a deposit at 0.9 s still pays a retry at 1.0 s', () => {
    const clock = new VirtualClock();
    const budget = ratio({ clock, ttl: 1, minRetriesPerSecond: 0, percentCanRetry: 0.5 });
    clock.advance(0.9);
    budget.onRequest?.(call());
    clock.advance(0.1);
    budget.onRequest?.(call());
    expect(budget.tryRetry(call())).toBe(true);
    // The deposits leave the window a slice at a time, not all at a whole second.
    const early = ratio({
      clock: new VirtualClock(),
      ttl: 1,
      minRetriesPerSecond: 0,
      percentCanRetry: 1,
    });
    early.onRequest?.(call());
    expect(early.state().balance).toBe(1);
  });

  it('a negative balance is truncated toward zero, as Finagle’s Long division reads it', () => {
    const clock = new VirtualClock();
    // A request deposits 1000, a retry withdraws 2000; no reserve.
    const budget = ratio({ clock, ttl: 10, minRetriesPerSecond: 0, percentCanRetry: 0.5 });
    for (let i = 0; i < 3; i++) budget.onRequest?.(call()); // slice 0: +3000
    clock.advance(5);
    expect(budget.tryRetry(call())).toBe(true); // 1000 left
    budget.onRequest?.(call());
    expect(budget.tryRetry(call())).toBe(true); // slice 5: +1000 - 4000
    clock.advance(5.5); // slice 0 leaves the window: -3000, a balance of -1.5
    expect(budget.state()).toMatchObject({ requests: 1, retries: 2, balance: -1 });
  });

  it('a deposit lives until its slice leaves the window, slice by slice', () => {
    const clock = new VirtualClock();
    const budget = ratio({ clock, ttl: 1, minRetriesPerSecond: 0, percentCanRetry: 1 });
    budget.onRequest?.(call());
    clock.advance(0.9);
    expect(budget.state()).toMatchObject({ requests: 1, balance: 1 });
    clock.advance(0.1);
    expect(budget.state()).toMatchObject({ requests: 0, balance: 0 });
  });

  // The expectations of Finagle's own RetryBudgetTest: 10,000 requests, each followed by a retry
  // attempt, on a frozen clock; the retries granted are within one of the share plus the reserve.
  it.each([
    [60, 0, 0.1],
    [60, 0, 0.5],
    [60, 0, 0.25],
    [60, 0, 0.75],
    [60, 0, 0.99],
    [60, 0, 0.999],
    [60, 0, 0.9999],
    [60, 0, 0.01],
    [60, 0, 0.001],
    [60, 0, 0.0001],
    [1, 10, 0],
    [2, 5, 0],
    [1, 10, 0.1],
    [2, 5, 0.5],
  ])(
    'Finagle’s RetryBudgetTest: ttl %d s, %d retries/s, %d of requests',
    (ttl, minRetriesPerSecond, percentCanRetry) => {
      const budget = ratio({
        clock: new VirtualClock(),
        ttl,
        minRetriesPerSecond,
        percentCanRetry,
      });
      const reserve = ttl * minRetriesPerSecond;
      expect(budget.state().balance).toBe(reserve);
      let retried = 0;
      for (let i = 0; i < 10_000; i++) {
        budget.onRequest?.(call());
        if (budget.tryRetry(call())) retried += 1;
        else expect(budget.state().balance).toBe(0);
      }
      expect(
        Math.abs(retried - (Math.trunc(10_000 * percentCanRetry) + reserve)),
      ).toBeLessThanOrEqual(1);
    },
  );

  it('Finagle’s bounds: a share over 1 allows more retries than requests; ttl from 1 to 60 s', () => {
    const budget = ratio({
      clock: new VirtualClock(),
      ttl: 60,
      minRetriesPerSecond: 0,
      percentCanRetry: 2,
    });
    expect(budget.tryRetry(call())).toBe(false);
    for (let i = 0; i < 10_000; i++) budget.onRequest?.(call());
    expect(budget.state().balance).toBe(20_000);
    expect(() => ratio({ ttl: 0.5 })).toThrow(RangeError);
    expect(() => ratio({ ttl: 61 })).toThrow(RangeError);
    expect(() => ratio({ percentCanRetry: 1001 })).toThrow(RangeError);
    expect(ratio({ minRetriesPerSecond: 0, percentCanRetry: 0 }).tryRetry(call())).toBe(false);
  });

  it('counts retries in the closed slices too, and takes a share up to Finagle’s 1000', () => {
    const clock = new VirtualClock();
    const budget = ratio({ clock, ttl: 1, minRetriesPerSecond: 10, percentCanRetry: 1000 });
    expect(budget.tryRetry(call())).toBe(true);
    clock.advance(0.2);
    expect(budget.state()).toMatchObject({ requests: 0, retries: 1 });
  });

  it('forgets what leaves the window', () => {
    const clock = new VirtualClock();
    const budget = ratio({ clock, ttl: 10, minRetriesPerSecond: 1, percentCanRetry: 0.5 });
    while (budget.tryRetry(call())) {}
    expect(budget.tryRetry(call())).toBe(false);
    clock.advance(10);
    expect(budget.state()).toMatchObject({ retries: 0, balance: 10 });
    expect(budget.tryRetry(call())).toBe(true);
  });
});
