// The adapters driven with the real breakers they adapt: cockatiel 3 and 4's circuit breaker
// policies and opossum 9's CircuitBreaker, inside the retry loop. Time is the libraries' own
// (Date.now()), faked with vitest's system time.
import * as cockatiel3 from 'cockatiel';
import * as cockatiel4 from 'cockatiel-4';
import CircuitBreaker from 'opossum';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BreakerOpenError,
  constant,
  fromCockatiel,
  fromOpossum,
  IgnoredOutcome,
  onException,
  onExceptionSync,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing.js';

const quiet = { logger: null, jitter: null } as const;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

/** A target that fails while `down` is set, counting its calls. */
function service() {
  const state = { down: true, calls: 0 };
  const call = async () => {
    state.calls += 1;
    if (state.down) throw new Error('down');
    return 'ok';
  };
  return { state, call };
}

describe.each([
  ['cockatiel 3', cockatiel3],
  ['cockatiel 4', cockatiel4],
] as const)('fromCockatiel with %s', (_, lib) => {
  // The two majors' types differ in details the adapter does not use: typed as 4's.
  const { circuitBreaker, ConsecutiveBreaker, CircuitState, handleAll, handleWhen } =
    lib as typeof cockatiel4;
  const policy = (handle = handleAll) =>
    circuitBreaker(handle, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(3) });

  it('failures through the loop open it; then no attempt is made, and the call gives up as breakerOpen', async () => {
    const breaker = policy();
    const { state, call } = service();
    const retried = onException(constant, Error, {
      ...quiet,
      clock: new VirtualClock(),
      interval: 1,
      maxTries: 3,
      maxFreeTries: 2,
      breaker: fromCockatiel(breaker, 'users'),
    })(call);
    await expect(retried()).rejects.toThrow('down');
    expect(breaker.state).toBe(CircuitState.Open);
    const reasons: unknown[] = [];
    const refused = onException(constant, Error, {
      ...quiet,
      clock: new VirtualClock(),
      interval: 1,
      maxFreeTries: 2,
      breaker: fromCockatiel(breaker, 'users'),
      onGiveup: ({ reason }) => {
        reasons.push(reason);
      },
    })(call);
    const error = await refused().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BreakerOpenError);
    expect(error).toMatchObject({ key: 'users', retryAfter: undefined });
    expect(reasons).toEqual(['breakerOpen']);
    expect(state.calls).toBe(3); // the refused call made no attempt
  });

  it('after halfOpenAfter one probe goes; its success closes the policy', async () => {
    const breaker = policy();
    const { state, call } = service();
    const adapted = fromCockatiel(breaker);
    const once = onException(constant, Error, {
      ...quiet,
      interval: 0,
      maxTries: 1,
      breaker: adapted,
    })(call);
    for (let i = 0; i < 3; i++) await expect(once()).rejects.toThrow('down');
    expect(breaker.state).toBe(CircuitState.Open);
    vi.setSystemTime(10_000);
    state.down = false;
    await expect(once()).resolves.toBe('ok');
    expect(breaker.state).toBe(CircuitState.Closed);
  });

  it('an outcome the loop ignores is an IgnoredOutcome, which the policy’s filter may leave out', async () => {
    const counting = policy();
    const leaving = policy(handleWhen((error) => !(error instanceof IgnoredOutcome)));
    for (const [breaker, opens] of [
      [counting, true],
      [leaving, false],
    ] as const) {
      // TypeError is not retried: the loop reports it as ignored.
      const fatal = onException(constant, RangeError, {
        ...quiet,
        breaker: fromCockatiel(breaker),
      })(async () => {
        throw new TypeError('bad request');
      });
      for (let i = 0; i < 3; i++) await expect(fatal()).rejects.toBeInstanceOf(TypeError);
      expect(breaker.state === CircuitState.Open).toBe(opens);
    }
  });

  it('the blocking twins use it: acquire answers synchronously', () => {
    const breaker = policy();
    let calls = 0;
    const sync = onExceptionSync(constant, Error, {
      ...quiet,
      clock: new VirtualClock(),
      interval: 0,
      maxTries: 1,
      breaker: fromCockatiel(breaker),
    })(() => {
      calls += 1;
      return calls;
    });
    expect(sync()).toBe(1);
    breaker.isolate();
    expect(() => sync()).toThrow(BreakerOpenError);
    expect(calls).toBe(1);
  });

  it('a half-open policy refuses the calls past its probe instead of queueing them', async () => {
    const breaker = policy();
    const adapted = fromCockatiel(breaker);
    for (let i = 0; i < 3; i++) {
      const admission = adapted.acquire() as { ok: true; permit: { failure(e: unknown): void } };
      admission.permit.failure(new Error('x'));
    }
    await Promise.resolve();
    await Promise.resolve();
    vi.setSystemTime(10_000);
    const probe = adapted.acquire() as { ok: boolean; permit: { success(): void } };
    expect(probe.ok).toBe(true);
    expect(adapted.acquire()).toEqual({ ok: false });
    probe.permit.success();
    await vi.waitFor(() => expect(breaker.state).toBe(CircuitState.Closed));
  });
});

describe('fromOpossum with opossum 9', () => {
  const opossum = (options: CircuitBreaker.Options = {}) =>
    new CircuitBreaker((attempt: () => Promise<unknown>) => attempt(), {
      resetTimeout: 30_000,
      volumeThreshold: 3,
      errorThresholdPercentage: 50,
      timeout: false,
      ...options,
    });
  const breakers: CircuitBreaker[] = [];
  afterEach(() => {
    for (const breaker of breakers.splice(0)) breaker.shutdown();
  });

  it('failures through the loop open it; a refusal waits resetTimeout or gives up as breakerOpen', async () => {
    const breaker = opossum();
    breakers.push(breaker);
    const { state, call } = service();
    const adapted = fromOpossum(breaker, 'orders');
    const retried = onException(constant, Error, {
      ...quiet,
      clock: new VirtualClock(),
      interval: 0,
      maxTries: 3,
      breaker: adapted,
    })(call);
    await expect(retried()).rejects.toThrow('down');
    expect(breaker.opened).toBe(true);
    expect(adapted.acquire()).toEqual({ ok: false, retryAfter: 30 });
    const impatient = onException(constant, Error, {
      ...quiet,
      clock: new VirtualClock(),
      maxTime: 10,
      breaker: adapted,
    })(call);
    await expect(impatient()).rejects.toMatchObject({
      name: 'BreakerOpenError',
      key: 'orders',
      retryAfter: 30,
    });
    expect(state.calls).toBe(3);
  });

  it('half-open lets one probe through; its success closes it', async () => {
    const breaker = opossum({ resetTimeout: 50 });
    breakers.push(breaker);
    vi.useRealTimers();
    const adapted = fromOpossum(breaker);
    breaker.open();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(breaker.halfOpen).toBe(true);
    const probe = adapted.acquire() as { ok: boolean; permit: { success(): void } };
    expect(probe.ok).toBe(true);
    expect(adapted.acquire().ok).toBe(false);
    probe.permit.success();
    await vi.waitFor(() => expect(breaker.closed).toBe(true));
  });

  it('errorFilter can leave out what the loop ignores', async () => {
    const breaker = opossum({ errorFilter: (error: unknown) => error instanceof IgnoredOutcome });
    breakers.push(breaker);
    const fatal = onException(constant, RangeError, { ...quiet, breaker: fromOpossum(breaker) })(
      async () => {
        throw new TypeError('bad request');
      },
    );
    for (let i = 0; i < 5; i++) await expect(fatal()).rejects.toBeInstanceOf(TypeError);
    expect(breaker.opened).toBe(false);
  });

  it('bad arguments get a TypeError naming them', () => {
    expect(() => fromOpossum({} as never)).toThrow(/`breaker`.*opossum/);
    expect(() => fromCockatiel(null as never)).toThrow(/`policy`.*cockatiel/);
  });
});
