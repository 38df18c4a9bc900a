// The built-in circuit breaker: its states on a virtual clock, its trip policies, its controls
// and snapshots, its channel, and the keyed registry's bound.
import diagnostics from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { makeCircuitBreaker } from '../../src/breakers/circuit-breaker.js';
import {
  type Admission,
  BreakerOpenError,
  CHANNELS,
  circuitBreaker,
  consecutive,
  constant,
  expo,
  failureRatio,
  keyedBreakers,
  onException,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing.js';
import { quiet } from '../helpers.js';

type Granted = Extract<Admission, { ok: true }>;
const granted = (admission: Admission): Granted => {
  expect(admission.ok).toBe(true);
  return admission as Granted;
};
const fail = (breaker: { acquire(): Admission }, times = 1) => {
  for (let i = 0; i < times; i++) granted(breaker.acquire()).permit.failure(new Error('x'));
};

describe('circuitBreaker', () => {
  it('consecutive(n): n failures in a row open it; a success starts the count again', () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutive(3), clock });
    fail(breaker, 2);
    granted(breaker.acquire()).permit.success();
    fail(breaker, 2);
    expect(breaker.state()).toBe('closed');
    fail(breaker);
    expect(breaker.state()).toBe('open');
    expect(breaker.acquire()).toEqual({ ok: false, retryAfter: 5 });
    clock.advance(2);
    expect(breaker.acquire()).toEqual({ ok: false, retryAfter: 3 });
  });

  it('defaults to consecutive(5)', () => {
    const breaker = circuitBreaker({ clock: new VirtualClock() });
    fail(breaker, 4);
    expect(breaker.state()).toBe('closed');
    fail(breaker);
    expect(breaker.state()).toBe('open');
  });

  it('half-open lets one probe through and refuses the others without retryAfter; a success closes it', () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutive(1), clock });
    fail(breaker);
    clock.advance(5);
    expect(breaker.state()).toBe('halfOpen');
    const probe = granted(breaker.acquire());
    expect(breaker.acquire()).toEqual({ ok: false, retryAfter: undefined });
    probe.permit.success();
    expect(breaker.state()).toBe('closed');
    granted(breaker.acquire());
  });

  it('a failed probe opens it again for the next halfOpenAfter (5, 10, 20, 40, 60, 60 s); closing starts it over', () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutive(1), clock });
    fail(breaker);
    const opens: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      const refusal = breaker.acquire() as { retryAfter: number };
      opens.push(refusal.retryAfter);
      clock.advance(refusal.retryAfter);
      fail(breaker); // the probe fails
    }
    expect(opens).toEqual([5, 10, 20, 40, 60, 60]);
    clock.advance(60);
    granted(breaker.acquire()).permit.success();
    fail(breaker);
    expect(breaker.acquire()).toEqual({ ok: false, retryAfter: 5 });
  });

  it('halfOpenAfter may be a number or any wait generator', () => {
    const clock = new VirtualClock();
    const fixed = circuitBreaker({ trip: consecutive(1), halfOpenAfter: 2, clock });
    fail(fixed);
    expect(fixed.acquire()).toEqual({ ok: false, retryAfter: 2 });
    const growing = circuitBreaker({
      trip: consecutive(1),
      halfOpenAfter: () => expo({ factor: 1, base: 3 }),
      clock,
    });
    fail(growing);
    expect(growing.acquire()).toEqual({ ok: false, retryAfter: 1 });
    clock.advance(1);
    fail(growing);
    expect(growing.acquire()).toEqual({ ok: false, retryAfter: 3 });
  });

  it('a probe that never reports opens it again after probeTimeout; one that is ignored frees the slot', () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutive(1), probeTimeout: 30, clock });
    fail(breaker);
    clock.advance(5);
    granted(breaker.acquire()); // lost
    clock.advance(29);
    expect(breaker.acquire().ok).toBe(false);
    clock.advance(1);
    expect(breaker.state()).toBe('open');
    expect(breaker.acquire()).toEqual({ ok: false, retryAfter: 10 });
    clock.advance(10);
    granted(breaker.acquire()).permit.ignore();
    const next = granted(breaker.acquire());
    next.permit.success();
    expect(breaker.state()).toBe('closed');
  });

  it('a permit from an earlier state reports nothing', () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutive(2), clock });
    const early = granted(breaker.acquire());
    fail(breaker, 2);
    expect(breaker.state()).toBe('open');
    early.permit.success(); // the breaker did not close on it
    expect(breaker.state()).toBe('open');
    breaker.reset();
    early.permit.failure(new Error('late'));
    fail(breaker);
    expect(breaker.state()).toBe('closed'); // one failure counted, not two
  });

  it('closed, every attempt gets the same admission: no allocation per attempt', () => {
    const breaker = circuitBreaker({ clock: new VirtualClock() });
    expect(breaker.acquire()).toBe(breaker.acquire());
  });

  it('isolate() refuses everything until reset(); reset() closes and forgets the counts', () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutive(2), clock });
    fail(breaker);
    breaker.isolate();
    clock.advance(1000);
    expect(breaker.state()).toBe('isolated');
    expect(breaker.acquire()).toEqual({ ok: false, retryAfter: undefined });
    breaker.reset();
    fail(breaker);
    expect(breaker.state()).toBe('closed');
  });

  it('a snapshot is plain JSON that starts another breaker where this one was', () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutive(1), clock });
    fail(breaker);
    clock.advance(5);
    fail(breaker); // probe failed: open for 10 s
    clock.advance(4);
    const saved = JSON.parse(JSON.stringify(breaker.snapshot()));
    expect(saved).toEqual({ state: 'open', openFor: 6, opened: 2 });
    const restored = circuitBreaker({ trip: consecutive(1), clock, initialState: saved });
    expect(restored.acquire()).toEqual({ ok: false, retryAfter: 6 });
    clock.advance(6);
    fail(restored); // its probe fails: the next step of halfOpenAfter, 20 s
    expect(restored.acquire()).toEqual({ ok: false, retryAfter: 20 });
    expect(circuitBreaker({ clock, initialState: { state: 'isolated' } }).state()).toBe('isolated');
    expect(circuitBreaker({ clock }).snapshot()).toEqual({ state: 'closed', opened: 0 });
  });

  it('failureRatio: opens at threshold of the window’s attempts, once there are minThroughput', () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      trip: failureRatio({ threshold: 0.5, minThroughput: 10, window: 10 }),
      clock,
    });
    for (let i = 0; i < 6; i++) granted(breaker.acquire()).permit.success();
    fail(breaker, 3);
    expect(breaker.state()).toBe('closed'); // 3 of 9: below the throughput
    fail(breaker, 2);
    expect(breaker.state()).toBe('closed'); // 5 of 11 < 0.5
    fail(breaker);
    expect(breaker.state()).toBe('open'); // 6 of 12
  });

  it('failureRatio: counts leave the window slice by slice', () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      trip: failureRatio({ threshold: 0.5, minThroughput: 4, window: 10 }),
      clock,
    });
    fail(breaker, 3); // at t = 0
    clock.advance(10); // the slice of t = 0 has left the window
    for (let i = 0; i < 3; i++) granted(breaker.acquire()).permit.success();
    fail(breaker);
    expect(breaker.state()).toBe('closed'); // 1 of 4, not 4 of 7
    clock.advance(9.5); // the slice of t = 10 is still in the window
    fail(breaker, 2);
    expect(breaker.state()).toBe('open'); // 3 of 6
  });

  it('publishes transitions and refusals on backoff-ts:breaker', () => {
    const clock = new VirtualClock();
    const messages: unknown[] = [];
    const listen = (message: unknown) => messages.push(message);
    diagnostics.subscribe(CHANNELS.breaker, listen);
    try {
      const breaker = circuitBreaker({ key: 'db', trip: consecutive(1), clock });
      fail(breaker);
      breaker.acquire();
      clock.advance(5);
      granted(breaker.acquire()).permit.success();
    } finally {
      diagnostics.unsubscribe(CHANNELS.breaker, listen);
    }
    expect(messages).toEqual([
      { key: 'db', from: 'closed', to: 'open' },
      { key: 'db', refused: true, state: 'open', retryAfter: 5 },
      { key: 'db', from: 'open', to: 'halfOpen' },
      { key: 'db', from: 'halfOpen', to: 'closed' },
    ]);
  });

  it('with the retry loop: a refusal waits the open time, the probe succeeds, the call returns', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ key: 'api', trip: consecutive(2), clock });
    let up = false;
    const call = onException(expo, Error, { ...quiet, clock, maxTries: 2, breaker })(async () => {
      if (!up) throw new Error('down');
      return 'ok';
    });
    await expect(call()).rejects.toThrow('down'); // two failures: open
    up = true;
    await expect(call()).resolves.toBe('ok'); // refused: waits 5 s, probes, closes
    expect(clock.sleeps).toEqual([1, 5]);
    expect(breaker.state()).toBe('closed');

    up = false;
    await expect(call()).rejects.toThrow('down');
    const impatient = onException(expo, Error, { ...quiet, clock, maxTime: 1, breaker })(
      async () => 'ok',
    );
    await expect(impatient()).rejects.toBeInstanceOf(BreakerOpenError);
  });

  it('bad options get a TypeError or RangeError naming the option and the value', () => {
    expect(() => consecutive(0)).toThrow(/`threshold`.*got 0/);
    expect(() => failureRatio({ threshold: 1.5 })).toThrow(/`threshold`.*got 1\.5/);
    expect(() => failureRatio({ minThroughput: 0 })).toThrow(/`minThroughput`/);
    expect(() => failureRatio({ window: 0 })).toThrow(/`window`/);
    expect(() => circuitBreaker({ halfOpenAfter: -1 })).toThrow(/`halfOpenAfter`/);
    expect(() => circuitBreaker({ probeTimeout: Number.NaN })).toThrow(/`probeTimeout`/);
    expect(() => circuitBreaker({ trip: {} as never })).toThrow(/`trip`/);
    expect(() => circuitBreaker({ key: 3 as never })).toThrow(/`key`/);
    expect(() => circuitBreaker({ initialState: { state: 'ajar' } as never })).toThrow(
      /`initialState`/,
    );
    expect(() => keyedBreakers({ maxKeys: 0 })).toThrow(/`maxKeys`/);
    expect(() => keyedBreakers({ probeTimeout: -1 })).toThrow(/`probeTimeout`/);
    // undefined is as if left out
    expect(() =>
      circuitBreaker({ trip: undefined, halfOpenAfter: undefined, clock: undefined }),
    ).not.toThrow();
  });
});

describe('keyedBreakers', () => {
  it('makes a breaker per key on first use, named by it', () => {
    const breakers = keyedBreakers({ clock: new VirtualClock() });
    const a = breakers.get('a');
    expect(breakers.get('a')).toBe(a);
    expect(a.key).toBe('a');
    expect(breakers.size).toBe(1);
  });

  it('past maxKeys it evicts closed breakers with no recent failure, least recently asked first', () => {
    const clock = new VirtualClock();
    const breakers = keyedBreakers({ clock, maxKeys: 3, trip: consecutive(1) });
    fail(breakers.get('open')); // open: never evicted
    breakers.get('old');
    breakers.get('new');
    breakers.get('old'); // used again: now the most recent
    breakers.get('fourth');
    expect(breakers.keys()).toEqual(['open', 'old', 'fourth']);
    breakers.get('fifth');
    expect(breakers.keys()).toEqual(['open', 'fourth', 'fifth']);
  });

  it('a breaker counting failures is kept, even past maxKeys: the registry grows rather than forget an outage', () => {
    const clock = new VirtualClock();
    const breakers = keyedBreakers({ clock, maxKeys: 2, trip: consecutive(5) });
    fail(breakers.get('a'));
    fail(breakers.get('b'));
    breakers.get('c');
    expect(breakers.keys()).toEqual(['a', 'b', 'c']);
  });

  it('after idleTtl unused, a quiet breaker is dropped at the next new key', () => {
    const clock = new VirtualClock();
    const breakers = keyedBreakers({ clock, idleTtl: 60 });
    breakers.get('a').acquire();
    clock.advance(30);
    breakers.get('b').acquire();
    clock.advance(31);
    breakers.get('c');
    expect(breakers.keys()).toEqual(['b', 'c']);
  });
});

describe('the edges', () => {
  it('failureRatio’s counter: slices leave the window whole, by the clock; reset() forgets', () => {
    // A 20 s window: ten slices of 2 s.
    const counter = failureRatio({ threshold: 0.5, minThroughput: 1, window: 20 }).counter();
    expect(counter.failure(0)).toBe(true); // 1 of 1
    counter.success(10);
    counter.success(11); // slice 5
    expect(counter.recentFailures).toBe(1);
    // At 25 s (slice 12) the slice of 0 s has left, that of 10 s has not: 1 failure of 3.
    expect(counter.failure(25)).toBe(false);
    expect(counter.recentFailures).toBe(1);
    // At 29.9 s (slice 14) the slice of 10 s is still in: 2 of 4.
    expect(counter.failure(29.9)).toBe(true);
    // At 51 s (slice 25) everything before 32 s has left: 1 of 1.
    counter.success(51);
    expect(counter.recentFailures).toBe(0);
    expect(counter.failure(51)).toBe(true); // 1 of 2 is 0.5: at the threshold, it opens
    counter.success(51);
    counter.reset();
    expect(counter.recentFailures).toBe(0);
    expect(counter.failure(52)).toBe(true); // 1 of 1, not 2 of 4 … of 3
  });

  it('failureRatio opens at exactly minThroughput attempts and exactly the threshold', () => {
    const counter = failureRatio({ threshold: 0.5, minThroughput: 2, window: 10 }).counter();
    expect(counter.failure(0)).toBe(false); // 1 attempt: below the throughput
    counter.success(0);
    expect(counter.failure(0)).toBe(true); // 2 of 3 … and 1 + 1 = minThroughput reached before
    const exact = failureRatio({ threshold: 0.5, minThroughput: 2, window: 10 }).counter();
    exact.success(0);
    expect(exact.failure(0)).toBe(true); // 1 of 2: at the threshold, at the throughput
    const one = failureRatio({ threshold: 1, minThroughput: 1 }).counter();
    expect(one.failure(0)).toBe(true); // threshold 1 and minThroughput 1 are allowed
  });

  it('a stale permit’s success does not reset the count of a later closed state', () => {
    const breaker = circuitBreaker({ trip: consecutive(2), clock: new VirtualClock() });
    const early = granted(breaker.acquire());
    fail(breaker, 2);
    breaker.reset();
    fail(breaker);
    early.permit.success();
    fail(breaker);
    expect(breaker.state()).toBe('open');
  });

  it('a stale permit’s ignore does not free the slot of a later probe', () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutive(1), probeTimeout: 10, clock });
    const closedPermit = granted(breaker.acquire());
    closedPermit.permit.failure(new Error('x')); // open for 5 s
    clock.advance(5);
    const lost = granted(breaker.acquire()); // a probe that will time out
    clock.advance(10);
    expect(breaker.state()).toBe('open'); // timed out: open again, for 10 s
    clock.advance(10);
    granted(breaker.acquire()); // the new probe
    lost.permit.ignore();
    closedPermit.permit.ignore();
    expect(breaker.acquire().ok).toBe(false);
  });

  it('snapshots of every state, and each restored', () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutive(1), clock });
    fail(breaker);
    clock.advance(7);
    expect(breaker.snapshot()).toEqual({ state: 'halfOpen', openFor: 0, opened: 1 });
    breaker.isolate();
    expect(breaker.snapshot()).toEqual({ state: 'isolated', opened: 1 });
    for (const state of ['closed', 'open', 'halfOpen', 'isolated'] as const) {
      const restored = circuitBreaker({ clock, initialState: { state } });
      expect(restored.state()).toBe(state === 'open' ? 'halfOpen' : state); // no time left open
    }
    const open = circuitBreaker({ clock, initialState: { state: 'open', openFor: 3 } });
    expect(open.acquire()).toEqual({ ok: false, retryAfter: 3 });
  });

  it('isolating twice moves once', () => {
    const messages: unknown[] = [];
    const listen = (message: unknown) => messages.push(message);
    diagnostics.subscribe(CHANNELS.breaker, listen);
    try {
      const breaker = circuitBreaker({ key: 'k', clock: new VirtualClock() });
      breaker.isolate();
      breaker.isolate();
    } finally {
      diagnostics.unsubscribe(CHANNELS.breaker, listen);
    }
    expect(messages).toEqual([{ key: 'k', from: 'closed', to: 'isolated' }]);
  });

  it('a halfOpenAfter generator that ends half-opens at once; one that gives no number is a RangeError', () => {
    const clock = new VirtualClock();
    const ending = circuitBreaker({
      trip: consecutive(1),
      halfOpenAfter: () => constant({ interval: [] }),
      clock,
    });
    fail(ending);
    expect(ending.state()).toBe('halfOpen');
    for (const bad of [-1, Number.NaN]) {
      const breaker = circuitBreaker({
        trip: consecutive(1),
        halfOpenAfter: () => constant({ interval: [bad] }),
        clock,
      });
      expect(() => fail(breaker)).toThrow(
        new RangeError(
          `Expected halfOpenAfter to give a finite number of seconds >= 0, got ${bad}`,
        ),
      );
    }
  });

  it('a clock that gives no number is a TypeError', () => {
    expect(() => circuitBreaker({ clock: { now: () => Number.NaN } })).toThrow(
      new TypeError('Expected clock.now() to return a finite number of seconds, got NaN'),
    );
  });

  it('every bad option’s message names it and says what it takes', () => {
    const cases: [() => unknown, string][] = [
      [() => consecutive(0), 'Expected `threshold` to be a positive integer, got 0'],
      [() => failureRatio(null as never), 'Expected `options` to be an object, got null'],
      [() => failureRatio(3 as never), 'Expected `options` to be an object, got 3'],
      [() => failureRatio({ threshold: 0 }), 'Expected `threshold` to be a ratio in (0, 1], got 0'],
      [
        () => failureRatio({ minThroughput: 0.5 }),
        'Expected `minThroughput` to be a positive integer, got 0.5',
      ],
      [
        () => failureRatio({ window: Number.POSITIVE_INFINITY }),
        'Expected `window` to be a finite number of seconds > 0, got Infinity',
      ],
      [() => circuitBreaker(null as never), 'Expected `options` to be an object, got null'],
      [() => circuitBreaker('x' as never), 'Expected `options` to be an object, got "x"'],
      [
        () => circuitBreaker({ trip: 5 as never }),
        'Expected `trip` to be a trip policy (consecutive(n) or failureRatio(options)), got 5',
      ],
      [
        () => circuitBreaker({ halfOpenAfter: -1 }),
        'Expected `halfOpenAfter` to be a finite number of seconds >= 0, got -1',
      ],
      [() => circuitBreaker({ key: 3 as never }), 'Expected `key` to be a string, got 3'],
      [
        () => circuitBreaker({ clock: {} as never }),
        'Expected `clock` to be an object with a now method, got an object',
      ],
      [
        () => circuitBreaker({ initialState: null as never }),
        'Expected `initialState` to be a snapshot ({ state, openFor?, opened? }), got null',
      ],
      [
        () => circuitBreaker({ initialState: 'open' as never }),
        'Expected `initialState` to be a snapshot ({ state, openFor?, opened? }), got "open"',
      ],
      [
        () => circuitBreaker({ initialState: { state: 'open', opened: -1 } }),
        'Expected `initialState.opened` to be an integer >= 0, got -1',
      ],
      [
        () => circuitBreaker({ initialState: { state: 'open', opened: 1.5 } }),
        'Expected `initialState.opened` to be an integer >= 0, got 1.5',
      ],
      [
        () => circuitBreaker({ initialState: { state: 'open', openFor: -2 } }),
        'Expected `initialState.openFor` to be a finite number of seconds >= 0, got -2',
      ],
      [() => keyedBreakers(null as never), 'Expected `options` to be an object, got null'],
      [() => keyedBreakers('x' as never), 'Expected `options` to be an object, got "x"'],
      [
        () => keyedBreakers({ maxKeys: 1.5 }),
        'Expected `maxKeys` to be a positive integer, got 1.5',
      ],
      [
        () => keyedBreakers({ idleTtl: -1 }),
        'Expected `idleTtl` to be a finite number of seconds >= 0, got -1',
      ],
      [() => keyedBreakers().get(3 as never), 'Expected `key` to be a string, got 3'],
    ];
    for (const [make, message] of cases) expect(make, message).toThrow(message);
  });

  it('keyedBreakers: an isolated breaker is never evicted; one idle exactly idleTtl is', () => {
    const clock = new VirtualClock();
    const breakers = keyedBreakers({ clock, maxKeys: 1, idleTtl: 60 });
    breakers.get('isolated').isolate();
    breakers.get('other');
    expect(breakers.keys()).toEqual(['isolated', 'other']);
    const idle = keyedBreakers({ clock, idleTtl: 60 });
    idle.get('a');
    clock.advance(60);
    idle.get('b');
    expect(idle.keys()).toEqual(['b']);
  });
});

describe('the seam the fleet breaker holds its local breaker through', () => {
  it('tells its transitions, with the failures counted, to `moved` instead of the channel', async () => {
    const published: unknown[] = [];
    const listen = (message: unknown) => published.push(message);
    diagnostics.subscribe(CHANNELS.breaker, listen);
    try {
      const moves: unknown[] = [];
      const clock = new VirtualClock();
      const breaker = makeCircuitBreaker(
        { key: 'local', trip: consecutive(3), halfOpenAfter: 5, clock },
        (from, to, failures) => moves.push([from, to, failures]),
      );
      fail(breaker, 3);
      await clock.advance(5);
      granted(breaker.acquire()).permit.success();
      expect(moves).toEqual([
        ['closed', 'open', 3],
        ['open', 'halfOpen', 3],
        ['halfOpen', 'closed', 0],
      ]);
      expect(published.filter((m) => 'to' in (m as object))).toEqual([]);
    } finally {
      diagnostics.unsubscribe(CHANNELS.breaker, listen);
    }
  });
});
