// The built-in circuit breaker driven side by side with cockatiel 4's, over thousands of seeded
// sequences of attempts on one clock: consecutive(n) beside ConsecutiveBreaker(n), and
// failureRatio beside CountBreaker and SamplingBreaker where their semantics meet. After every
// attempt both must have made the same decision (let it through or refuse it) and be in the
// same state. Times are milliseconds on both sides (Date.now() faked for cockatiel, the same
// numbers as the built-in breaker's clock), so that no rounding can tell them apart.
import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  CountBreaker,
  circuitBreaker as cockatielBreaker,
  ExponentialBackoff,
  handleAll,
  noJitterGenerator,
  SamplingBreaker,
} from 'cockatiel-4';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type BreakerState,
  type CircuitBreakerOptions,
  circuitBreaker,
  consecutive,
  expo,
  failureRatio,
} from '../../src/index.js';
import { seededRandom } from '../../src/testing.js';

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
});
afterAll(() => {
  vi.useRealTimers();
});

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'halfOpen',
  [CircuitState.Isolated]: 'isolated',
};

interface Scenario {
  readonly theirs: () => CircuitBreakerPolicy;
  readonly ours: (clock: { now(): number }) => ReturnType<typeof circuitBreaker>;
  /** The longest gap between two attempts, in ms; the sequence's length. */
  readonly gap: number;
  readonly attempts: number;
  /** The chance that an attempt fails, drawn per sequence from this range. */
  readonly failing: readonly [number, number];
}

/**
 * Plays `sequences` seeded sequences through both breakers; returns how many decisions were
 * compared and how many times each state was seen (so that a run that never opens is noticed).
 */
async function play(scenario: Scenario, sequences: number, seed: number) {
  const random = seededRandom(seed);
  // After an attempt, a breaker is closed or open (a probe has reported); `probes` counts the
  // attempts let through while open: the half-open state's.
  const seen: Record<string, number> = { closed: 0, open: 0, probes: 0 };
  let decisions = 0;
  for (let sequence = 0; sequence < sequences; sequence++) {
    let now = 0;
    vi.setSystemTime(now);
    const theirs = scenario.theirs();
    const ours = scenario.ours({ now: () => now });
    const [low, high] = scenario.failing;
    const failing = low + random() * (high - low);
    let before = 'closed';
    for (let attempt = 0; attempt < scenario.attempts; attempt++) {
      now += Math.floor(random() * scenario.gap);
      vi.setSystemTime(now);
      const fails = random() < failing;
      let ran = false;
      await theirs
        .execute(() => {
          ran = true;
          return fails ? Promise.reject(new Error('fails')) : Promise.resolve('ok');
        })
        .catch(() => {});
      const admission = ours.acquire();
      const where = `sequence ${sequence} (seed ${seed}), attempt ${attempt} at ${now} ms`;
      expect(admission.ok, where).toBe(ran);
      if (admission.ok && before === 'open') seen.probes = (seen.probes ?? 0) + 1;
      if (admission.ok) {
        if (fails) admission.permit.failure(new Error('fails'));
        else admission.permit.success();
      }
      const state = STATE_NAMES[theirs.state];
      expect(ours.state(), where).toBe(state);
      seen[state] = (seen[state] ?? 0) + 1;
      before = state;
      decisions += 1;
    }
  }
  return { decisions, seen };
}

const timedBy = (options: CircuitBreakerOptions) => (clock: { now(): number }) =>
  circuitBreaker({ ...options, clock });

describe('circuitBreaker beside cockatiel 4', () => {
  it('consecutive(n) and ConsecutiveBreaker(n), a constant halfOpenAfter: 2,100 sequences', async () => {
    for (const n of [1, 3, 5]) {
      const { decisions, seen } = await play(
        {
          theirs: () =>
            cockatielBreaker(handleAll, {
              halfOpenAfter: 1_000,
              breaker: new ConsecutiveBreaker(n),
            }),
          ours: timedBy({ trip: consecutive(n), halfOpenAfter: 1_000 }),
          gap: 400,
          attempts: 100,
          failing: [0.2, 0.9],
        },
        700,
        n,
      );
      expect(decisions).toBe(70_000);
      expect(seen.open).toBeGreaterThan(1_000);
      expect(seen.probes).toBeGreaterThan(100);
    }
  });

  it('halfOpenAfter growing as cockatiel’s exponential backoff does (no jitter): 1,000 sequences', async () => {
    const { seen } = await play(
      {
        theirs: () =>
          cockatielBreaker(handleAll, {
            halfOpenAfter: new ExponentialBackoff({
              generator: noJitterGenerator,
              initialDelay: 500,
              maxDelay: 8_000,
            }),
            breaker: new ConsecutiveBreaker(2),
          }),
        ours: timedBy({
          trip: consecutive(2),
          halfOpenAfter: () => expo({ factor: 500, maxValue: 8_000 }),
        }),
        gap: 1_500,
        attempts: 100,
        failing: [0.5, 0.95],
      },
      1_000,
      7,
    );
    expect(seen.open).toBeGreaterThan(10_000);
  });

  // Where they meet: every attempt within the window (nothing has left it yet) and a threshold
  // that failures × total never hit exactly (cockatiel opens above it, we at or above it).
  it('failureRatio and SamplingBreaker, within one window: 1,000 sequences', async () => {
    const window = 60_000;
    const minThroughput = 12;
    const { seen } = await play(
      {
        theirs: () =>
          cockatielBreaker(handleAll, {
            halfOpenAfter: 1_000,
            breaker: new SamplingBreaker({
              threshold: 0.37,
              duration: window,
              minimumRps: (minThroughput * 1000) / window,
            }),
          }),
        ours: timedBy({
          trip: failureRatio({ threshold: 0.37, minThroughput, window }),
          halfOpenAfter: 1_000,
        }),
        gap: 300,
        attempts: 120, // at most 36 s: within the window
        failing: [0.1, 0.7],
      },
      1_000,
      11,
    );
    expect(seen.open).toBeGreaterThan(5_000);
  });

  it('failureRatio and CountBreaker, when the count holds every attempt of the window: 1,000 sequences', async () => {
    const { seen } = await play(
      {
        theirs: () =>
          cockatielBreaker(handleAll, {
            halfOpenAfter: 1_000,
            breaker: new CountBreaker({ threshold: 0.37, size: 1_000, minimumNumberOfCalls: 12 }),
          }),
        ours: timedBy({
          trip: failureRatio({ threshold: 0.37, minThroughput: 12, window: 60_000 }),
          halfOpenAfter: 1_000,
        }),
        gap: 300,
        attempts: 120,
        failing: [0.1, 0.7],
      },
      1_000,
      13,
    );
    expect(seen.open).toBeGreaterThan(5_000);
  });
});
