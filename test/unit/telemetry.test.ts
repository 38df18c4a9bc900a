// Telemetry through node:diagnostics_channel: the channels, their payloads, the `name` option.
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CHANNELS,
  constant,
  onException,
  onExceptionSync,
  onPredicate,
  retryContext,
  tokenBucket,
} from '../../src/index.js';
import { diagnosticsChannel } from '../../src/listeners/telemetry.js';
import { VirtualClock } from '../../src/testing.js';
import { FakeClock, quiet } from '../helpers.js';

type Message = Record<string, unknown>;

/** Subscribes to every channel; `stop()` unsubscribes. */
function listen() {
  const seen: { channel: string; message: Message }[] = [];
  const record = (channel: string) => (message: unknown) => {
    seen.push({ channel, message: message as Message });
  };
  const plain = {
    [CHANNELS.attempt]: record('attempt'),
    [CHANNELS.wait]: record('wait'),
    [CHANNELS.giveup]: record('giveup'),
  };
  for (const [name, handler] of Object.entries(plain)) diagnostics.subscribe(name, handler);
  const tracing = diagnostics.tracingChannel(CHANNELS.call);
  const traceHandlers = {
    start: record('call:start'),
    end: record('call:end'),
    asyncStart: record('call:asyncStart'),
    asyncEnd: record('call:asyncEnd'),
    error: record('call:error'),
  };
  tracing.subscribe(traceHandlers);
  return {
    seen,
    channels: () => seen.map(({ channel }) => channel),
    of: (channel: string) =>
      seen.filter((entry) => entry.channel === channel).map((e) => e.message),
    stop: () => {
      for (const [name, handler] of Object.entries(plain)) diagnostics.unsubscribe(name, handler);
      tracing.unsubscribe(traceHandlers);
    },
  };
}

let listener: ReturnType<typeof listen> | undefined;
afterEach(() => {
  listener?.stop();
  listener = undefined;
});

function flakyTwice() {
  let calls = 0;
  return async function fetchUser(id: number) {
    calls += 1;
    if (calls <= 2) throw new TypeError(`fail ${calls}`);
    return { id };
  };
}

describe('diagnostics channels', () => {
  it('a call that retries twice and succeeds: its trace, three attempts, two waits', async () => {
    listener = listen();
    const clock = new VirtualClock();
    const fetchUser = onException(constant, TypeError, { ...quiet, clock, interval: 1 })(
      flakyTwice(),
    );
    expect(await fetchUser(7)).toEqual({ id: 7 });
    expect(listener.channels()).toEqual([
      'call:start',
      'call:end',
      'attempt',
      'wait',
      'attempt',
      'wait',
      'attempt',
      'call:asyncStart',
      'call:asyncEnd',
    ]);
    const [start] = listener.of('call:start');
    expect(start).toMatchObject({ name: 'fetchUser', args: [7], result: { id: 7 } });
    const attempts = listener.of('attempt');
    expect(attempts.map(({ outcome, tries }) => [outcome, tries])).toEqual([
      ['failure', 1],
      ['failure', 2],
      ['success', 3],
    ]);
    expect(attempts[0]).toMatchObject({ name: 'fetchUser', args: [7], elapsed: 0 });
    expect(attempts[0]?.exception).toHaveProperty('message', 'fail 1');
    expect(attempts[2]?.value).toEqual({ id: 7 });
    const waits = listener.of('wait');
    expect(waits.map(({ wait, tries }) => [wait, tries])).toEqual([
      [1, 1],
      [1, 2],
    ]);
    expect(listener.of('giveup')).toEqual([]);
  });

  it('a call that gives up: the give-up with its reason, and the error on the trace', async () => {
    listener = listen();
    const clock = new VirtualClock();
    const failing = onException(constant, TypeError, {
      ...quiet,
      clock,
      interval: 1,
      maxTries: 2,
      name: 'users.get',
    })(async () => {
      throw new TypeError('down');
    });
    const error = await failing().catch((e: unknown) => e);
    const [giveup] = listener.of('giveup');
    expect(giveup).toMatchObject({
      name: 'users.get',
      reason: 'maxTries',
      tries: 2,
      exception: error,
    });
    expect(listener.of('call:error')[0]).toMatchObject({ name: 'users.get', error });
    expect(listener.channels().at(-1)).toBe('call:asyncEnd');
  });

  it('an error not retried is an attempt with outcome error; a predicate twin’s value is a failure', async () => {
    listener = listen();
    const wrong = onException(constant, TypeError, { ...quiet, interval: 0 })(async () => {
      throw new RangeError('fatal');
    });
    await wrong().catch(() => {});
    expect(listener.of('attempt').map(({ outcome }) => outcome)).toEqual(['error']);

    const clock = new VirtualClock();
    let polls = 0;
    const poll = onPredicate(constant, (state) => state === 'running', {
      ...quiet,
      clock,
      interval: 1,
    })(async function pollJob() {
      polls += 1;
      return polls < 2 ? 'running' : 'done';
    });
    expect(await poll()).toBe('done');
    const attempts = listener.of('attempt').slice(1);
    expect(attempts.map(({ outcome, value }) => [outcome, value])).toEqual([
      ['failure', 'running'],
      ['success', 'done'],
    ]);
    expect(listener.of('wait').at(-1)).toMatchObject({
      name: 'pollJob',
      value: 'running',
      wait: 1,
    });
  });

  it('the stores bound to the call’s start are active in every attempt', async () => {
    listener = listen();
    const store = new AsyncLocalStorage<string>();
    const start = diagnostics.channel(`tracing:${CHANNELS.call}:start`);
    start.bindStore(store, (context) => `span of ${(context as Message).name as string}`);
    try {
      const clock = new VirtualClock();
      const seen: (string | undefined)[] = [];
      let calls = 0;
      const wrapped = onException(constant, TypeError, { ...quiet, clock, interval: 1 })(
        async function traced() {
          await Promise.resolve();
          seen.push(store.getStore());
          calls += 1;
          if (calls === 1) throw new TypeError('again');
        },
      );
      await wrapped();
      expect(seen).toEqual(['span of traced', 'span of traced']);
      expect(store.getStore()).toBeUndefined();
    } finally {
      start.unbindStore(store);
    }
  });

  it('messages are copies: a subscriber that changes one changes no handler’s details', async () => {
    const change = (message: unknown) => {
      (message as Message).tries = -1;
      ((message as Message).args as unknown[])[0] = 'changed';
    };
    diagnostics.subscribe(CHANNELS.wait, change);
    try {
      const clock = new VirtualClock();
      const backoffs: Message[] = [];
      const wrapped = onException(constant, TypeError, {
        ...quiet,
        clock,
        interval: 1,
        onBackoff: (details) => {
          backoffs.push({ tries: details.tries, args: [...details.args] });
        },
      })(flakyTwice());
      await wrapped(3);
      expect(backoffs).toEqual([
        { tries: 1, args: [3] },
        { tries: 2, args: [3] },
      ]);
    } finally {
      diagnostics.unsubscribe(CHANNELS.wait, change);
    }
  });

  it('carries the budget where a call has one', async () => {
    listener = listen();
    const budget = tokenBucket();
    const clock = new VirtualClock();
    await onException(constant, TypeError, { ...quiet, clock, interval: 1, budget })(flakyTwice())(
      1,
    );
    expect(listener.of('wait').every((message) => message.budget === budget)).toBe(true);
  });

  it('the sync twins trace their calls too', () => {
    listener = listen();
    let calls = 0;
    const parse = onExceptionSync(constant, SyntaxError, { ...quiet, interval: 0 })(function parse(
      text: string,
    ) {
      calls += 1;
      return calls === 1 ? JSON.parse('{') : JSON.parse(text);
    });
    expect(parse('[1]')).toEqual([1]);
    expect(listener.channels()).toEqual(['call:start', 'attempt', 'wait', 'attempt', 'call:end']);
    expect(listener.of('call:end')[0]).toMatchObject({ name: 'parse', result: [1] });
  });

  it('the block form publishes its attempts, waits and give-ups under its name', async () => {
    listener = listen();
    const clock = new VirtualClock();
    for await (const attempt of retryContext(TypeError, constant, {
      ...quiet,
      clock,
      interval: 1,
      maxTries: 2,
      raiseOnGiveup: false,
      name: 'sync-batch',
    })) {
      await attempt.run(() => {
        throw new TypeError('no');
      });
    }
    expect(listener.channels()).toEqual(['attempt', 'wait', 'attempt', 'giveup']);
    expect(listener.seen.every(({ message }) => message.name === 'sync-batch')).toBe(true);
    expect(listener.of('attempt')[0]).not.toHaveProperty('target');
  });
});

describe('publishing asks nothing of the drivers', () => {
  it.each([
    ['onException', false],
    ['onExceptionSync', true],
  ] as const)('%s with every channel observed sleeps exactly its waits', async (_, sync) => {
    listener = listen();
    const clock = new FakeClock();
    const options = { ...quiet, interval: 1, maxTries: 3, clock };
    let calls = 0;
    const target = () => {
      calls += 1;
      if (calls <= 2) throw new TypeError(`fail ${calls}`);
      return calls;
    };
    const result = sync
      ? onExceptionSync(constant, TypeError, options)(target)()
      : await onException(constant, TypeError, options)(target)();
    expect(result).toBe(3);
    expect(clock.sleeps).toEqual([1, 1]);
    expect(listener.channels().filter((name) => !name.startsWith('call:'))).toEqual([
      'attempt',
      'wait',
      'attempt',
      'wait',
      'attempt',
    ]);
  });
});

describe('the fast path of a first attempt that succeeds', () => {
  it('publishes its success to a subscriber of the attempts alone', async () => {
    const seen: Message[] = [];
    const record = (message: unknown) => seen.push(message as Message);
    diagnostics.subscribe(CHANNELS.attempt, record);
    try {
      const asyncCall = onException(constant, Error, { ...quiet })(async function quick(x: number) {
        return x * 2;
      });
      const syncCall = onExceptionSync(constant, Error, { ...quiet, maxTime: 5 })(
        function quickSync(x: number) {
          return x * 3;
        },
      );
      expect(await asyncCall(2)).toBe(4);
      expect(syncCall(2)).toBe(6);
      expect(seen).toEqual([
        {
          name: 'quick',
          target: expect.any(Function),
          args: [2],
          tries: 1,
          elapsed: expect.any(Number),
          value: 4,
          outcome: 'success',
          duration: expect.any(Number),
        },
        {
          name: 'quickSync',
          target: expect.any(Function),
          args: [2],
          tries: 1,
          elapsed: expect.any(Number),
          value: 6,
          outcome: 'success',
          duration: expect.any(Number),
        },
      ]);
    } finally {
      diagnostics.unsubscribe(CHANNELS.attempt, record);
    }
  });
});

describe('the name option', () => {
  it('names the operation in the log lines', async () => {
    const lines: string[] = [];
    const logger = {
      info: (line: string) => lines.push(line),
      error: (line: string) => lines.push(line),
    };
    const clock = new VirtualClock();
    await onException(constant, TypeError, {
      clock,
      jitter: null,
      interval: 1,
      maxTries: 3,
      logger,
      name: 'users.get',
    })(flakyTwice())(1);
    expect(lines).toEqual([
      'Backing off users.get(...) for 1.0s (TypeError: fail 1)',
      'Backing off users.get(...) for 1.0s (TypeError: fail 2)',
    ]);
  });

  it('must be a string', () => {
    expect(() => onException(constant, Error, { name: 5 as never })).toThrow(
      'Expected `name` to be a string, got 5',
    );
    expect(() => onException(constant, Error, { name: null })).not.toThrow();
  });
});

describe('finding node:diagnostics_channel', () => {
  const host = globalThis.process as { getBuiltinModule?: unknown };
  const original = host.getBuiltinModule;
  afterEach(() => {
    host.getBuiltinModule = original;
  });
  const fn = () => {};

  it('is the module where it has channels, tracing channels and subscribe', () => {
    expect(diagnosticsChannel()).toBe(diagnostics);
    const full = { channel: fn, tracingChannel: fn, subscribe: fn };
    host.getBuiltinModule = (id: string) => (id === 'node:diagnostics_channel' ? full : undefined);
    expect(diagnosticsChannel()).toBe(full);
  });

  it('is nothing where the module lacks a part, is missing, or cannot be had', () => {
    for (const partial of [
      { tracingChannel: fn, subscribe: fn },
      { channel: fn, subscribe: fn },
      { channel: fn, tracingChannel: fn },
      { channel: 'no', tracingChannel: fn, subscribe: fn },
      undefined,
    ]) {
      host.getBuiltinModule = () => partial;
      expect(diagnosticsChannel()).toBeUndefined();
    }
    host.getBuiltinModule = () => {
      throw new Error('denied');
    };
    expect(diagnosticsChannel()).toBeUndefined();
    host.getBuiltinModule = undefined;
    expect(diagnosticsChannel()).toBeUndefined();
  });

  it('names the channels as documented', () => {
    expect(CHANNELS).toEqual({
      call: 'backoff-ts:call',
      attempt: 'backoff-ts:attempt',
      wait: 'backoff-ts:wait',
      giveup: 'backoff-ts:giveup',
      breaker: 'backoff-ts:breaker',
    });
  });
});

describe('where there is no node:diagnostics_channel (a browser)', () => {
  it('every form runs, and nothing is published', async () => {
    const host = globalThis.process as { getBuiltinModule?: unknown };
    const original = host.getBuiltinModule;
    host.getBuiltinModule = () => undefined;
    vi.resetModules();
    let core: typeof import('../../src/index.js');
    try {
      core = await import('../../src/index.js');
    } finally {
      host.getBuiltinModule = original;
    }
    listener = listen();
    const clock = new VirtualClock();
    const events: string[] = [];
    const options = {
      ...quiet,
      clock,
      interval: 1,
      maxTries: 2,
      budget: core.tokenBucket(),
      onBackoff: () => events.push('backoff'),
      onGiveup: () => events.push('giveup'),
    };
    let calls = 0;
    const flaky = async () => {
      calls += 1;
      if (calls % 2 === 1) throw new TypeError('once');
      return calls;
    };
    expect(await core.onException(core.constant, TypeError, options)(flaky)()).toBe(2);
    expect(await core.onException(core.constant, TypeError, { ...quiet, clock })(flaky)()).toBe(4);
    await expect(
      core.onException(
        core.constant,
        TypeError,
        options,
      )(async function down() {
        throw new TypeError('down');
      })(),
    ).rejects.toThrow('down');
    expect(
      core.onExceptionSync(core.constant, TypeError, { ...options, budget: undefined })(() => 5)(),
    ).toBe(5);
    expect(
      await core.onPredicate(core.constant, (n: number) => n < 1, options)(async () => 1)(),
    ).toBe(1);
    const block = async () => {
      for await (const attempt of core.retryContext(TypeError, core.constant, options)) {
        await attempt.run(() => {
          throw new TypeError('block');
        });
      }
    };
    await expect(block()).rejects.toThrow('block');
    expect(events).toEqual(['backoff', 'backoff', 'giveup', 'backoff', 'giveup']);
    expect(listener.seen).toEqual([]);
  });
});

describe('what a message leaves out', () => {
  it('has no budget field where the call has no budget', async () => {
    listener = listen();
    const clock = new VirtualClock();
    await onException(constant, TypeError, { ...quiet, clock, interval: 1, maxTries: 3 })(
      flakyTwice(),
    )(1);
    const messages = [...listener.of('attempt'), ...listener.of('wait')];
    expect(messages).toHaveLength(5);
    expect(messages.some((message) => 'budget' in message)).toBe(false);
  });

  it('a call trace carries a copy of the arguments: a subscriber that changes it changes no attempt', async () => {
    const seen: unknown[][] = [];
    const start = (message: unknown) => {
      (message as { args: unknown[] }).args[0] = 'changed';
    };
    const tracing = diagnostics.tracingChannel(CHANNELS.call);
    const handlers = { start, end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
    tracing.subscribe(handlers);
    try {
      const clock = new VirtualClock();
      let calls = 0;
      await onException(constant, TypeError, { ...quiet, clock, interval: 1 })(
        async (...args: unknown[]) => {
          seen.push(args);
          calls += 1;
          if (calls === 1) throw new TypeError('once');
        },
      )('original');
      onExceptionSync(constant, TypeError, { ...quiet, clock })((...args: unknown[]) => {
        seen.push(args);
      })('original');
    } finally {
      tracing.unsubscribe(handlers);
    }
    expect(seen).toEqual([['original'], ['original'], ['original']]);
  });
});

describe('times in the messages: the call’s clock, read while someone subscribes', () => {
  /** A target that takes `took[i]` seconds of `clock` on its i-th attempt and fails but the last. */
  function timedAttempts(clock: FakeClock, took: number[]) {
    let calls = 0;
    return async function slow() {
      clock.advance(took[calls] ?? 0);
      calls += 1;
      if (calls < took.length) throw new TypeError(`fail ${calls}`);
      return calls;
    };
  }

  it('elapsed and each attempt’s duration, with nothing else reading the clock', async () => {
    listener = listen();
    const clock = new FakeClock();
    clock.time = 100;
    // No handler, maxTime or giveup: the loop itself never reads this clock.
    const call = onException(constant, TypeError, {
      ...quiet,
      clock,
      interval: 1,
    })(timedAttempts(clock, [0, 0.5, 2]));
    expect(await call()).toBe(3);
    const attempts = listener.of('attempt');
    expect(attempts.map((m) => [m.tries, m.elapsed, m.duration, m.outcome])).toEqual([
      [1, 0, 0, 'failure'],
      [2, 1.5, 0.5, 'failure'],
      [3, 4.5, 2, 'success'],
    ]);
    expect(listener.of('wait').map((m) => m.elapsed)).toEqual([0, 1.5]);
  });

  it('the same figures where the plan reads the clock itself (maxTime)', async () => {
    listener = listen();
    const clock = new FakeClock();
    const call = onException(constant, TypeError, {
      ...quiet,
      clock,
      interval: 1,
      maxTime: 60,
    })(timedAttempts(clock, [0.25, 3]));
    expect(await call()).toBe(2);
    expect(listener.of('attempt').map((m) => [m.elapsed, m.duration])).toEqual([
      [0.25, 0.25],
      [4.25, 3],
    ]);
  });

  it('a give-up’s elapsed is the last attempt’s end', async () => {
    listener = listen();
    const clock = new FakeClock();
    const call = onException(constant, TypeError, {
      ...quiet,
      clock,
      interval: 2,
      maxTries: 2,
    })(timedAttempts(clock, [1, 1, 1]));
    await expect(call()).rejects.toThrow('fail 2');
    expect(listener.of('giveup').map((m) => [m.reason, m.elapsed])).toEqual([['maxTries', 4]]);
  });

  it('the sync twins too', () => {
    listener = listen();
    const clock = new FakeClock();
    let calls = 0;
    const call = onExceptionSync(constant, TypeError, {
      ...quiet,
      clock,
      interval: 1,
    })(() => {
      clock.advance(0.5);
      calls += 1;
      if (calls < 2) throw new TypeError('once');
      return calls;
    });
    expect(call()).toBe(2);
    expect(listener.of('attempt').map((m) => [m.elapsed, m.duration])).toEqual([
      [0.5, 0.5],
      [2, 0.5],
    ]);
  });

  it('without a subscriber the loop reads no clock; a clock that fails leaves the times out', async () => {
    const clock = new FakeClock();
    const call = onException(constant, TypeError, {
      ...quiet,
      clock,
      interval: 1,
    })(timedAttempts(clock, [0, 0]));
    expect(await call()).toBe(2);
    expect(clock.reads).toBe(0);
    listener = listen();
    const broken = {
      ...clock,
      sleep: (s: number) => clock.sleep(s),
      sleepSync: (s: number) => clock.sleepSync(s),
      now: () => {
        throw new Error('clock down');
      },
    };
    const failing = onException(constant, TypeError, {
      ...quiet,
      clock: broken,
      interval: 1,
    })(timedAttempts(clock, [0, 0]));
    expect(await failing()).toBe(2);
    const attempts = listener.of('attempt');
    expect(attempts.map((m) => [m.elapsed, 'duration' in m])).toEqual([
      [0, false],
      [0, false],
    ]);
  });

  it('a clock that fails or gives NaN at an attempt’s start or end: that time is left out, nothing breaks', async () => {
    listener = listen();
    const clock = new FakeClock();
    // Reads: 1st attempt start, 1st end, 2nd start, 2nd end. The 1st end throws, the 2nd start is NaN.
    let reads = 0;
    const flaky = {
      sleep: (s: number) => clock.sleep(s),
      sleepSync: (s: number) => clock.sleepSync(s),
      now: () => {
        reads += 1;
        if (reads === 2) throw new Error('clock hiccup');
        return reads === 3 ? Number.NaN : clock.time;
      },
    };
    const call = onException(constant, TypeError, {
      ...quiet,
      clock: flaky,
      interval: 1,
    })(timedAttempts(clock, [0.5, 0.25]));
    expect(await call()).toBe(2);
    // The 1st end unread: no duration, elapsed as before (0); the 2nd start unread: its duration
    // runs from the 1st attempt's start.
    expect(listener.of('attempt').map((m) => [m.elapsed, m.duration])).toEqual([
      [0, undefined],
      [1.75, 1.75],
    ]);
  });

  it('a subscriber that comes during a first attempt that succeeds hears its end (async and sync twins)', async () => {
    const call = onException(
      constant,
      TypeError,
      quiet,
    )(async () => {
      listener = listen();
      return 'ok';
    });
    expect(await call()).toBe('ok');
    expect(
      listener?.of('attempt').map((m) => [m.tries, m.outcome, m.value, 'duration' in m]),
    ).toEqual([[1, 'success', 'ok', false]]);
    listener?.stop();
    const sync = onExceptionSync(
      constant,
      TypeError,
      quiet,
    )(() => {
      listener = listen();
      return 'ok';
    });
    expect(sync()).toBe('ok');
    expect(listener?.of('attempt').map((m) => [m.tries, m.outcome])).toEqual([[1, 'success']]);
  });

  it('a subscriber that comes during a call: that call’s messages have no times, and it goes on', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const call = onException(constant, TypeError, {
      ...quiet,
      clock,
      interval: 1,
    })(async () => {
      calls += 1;
      if (calls === 1) {
        listener = listen();
        throw new TypeError('first');
      }
      return calls;
    });
    expect(await call()).toBe(2);
    expect(listener?.of('attempt').map((m) => [m.tries, m.elapsed, 'duration' in m])).toEqual([
      [1, 0, false],
      [2, 0, false],
    ]);
  });
});
