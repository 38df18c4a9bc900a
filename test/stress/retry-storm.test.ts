// The retry-storm simulation's promises (the real library on a discrete-event clock).
import { describe, expect, it } from 'vitest';
import { simulate } from '../../bench/retry-storm.js';

describe('retry storm, in virtual time', () => {
  it('at f = 1 budgets hold the traffic near one attempt per request; without one it is 5x', async () => {
    const none = await simulate({ budget: 'none', failure: 1, load: 1.1 });
    expect(none.amplification).toBe(5);
    const tokenBucket = await simulate({ budget: 'tokenBucket', failure: 1, load: 1.1 });
    // 500 tokens / 5 per retry = 100 retries in all.
    expect(tokenBucket.attempts - tokenBucket.requests).toBe(100);
    expect(tokenBucket.amplification).toBeLessThan(1.01);
    const throttle = await simulate({ budget: 'throttle', failure: 1, load: 1.1 });
    expect(throttle.amplification).toBeLessThan(1.01);
    for (const load of [1.1, 2]) {
      const ratio = await simulate({ budget: 'ratio', failure: 1, load });
      // Arrivals last 10 s and the last retries follow within 2 s, so two disjoint 10 s windows
      // cover the run: retries <= 20% of requests + twice the reserve of 10/s x 10 s.
      expect(ratio.attempts - ratio.requests).toBeLessThanOrEqual(0.2 * ratio.requests + 2 * 100);
      expect(ratio.amplification).toBeLessThanOrEqual(1.21);
      expect(ratio.amplification).toBeGreaterThan(1.19);
    }
  }, 60_000);

  it('with rare failures (f <= 0.05) and the server not overloaded, budgets cost no success', async () => {
    for (const failure of [0.01, 0.05]) {
      const none = await simulate({ budget: 'none', failure, load: 0.8 });
      expect(none.successRate).toBeGreaterThan(0.999);
      for (const budget of ['tokenBucket', 'ratio'] as const) {
        const result = await simulate({ budget, failure, load: 0.8 });
        expect(result.successRate, `${budget} at f=${failure}`).toBe(none.successRate);
      }
    }
  }, 60_000);

  it('is repeatable: the same seed gives the same figures', async () => {
    const a = await simulate({ budget: 'ratio', failure: 0.5, load: 1.5, seconds: 2 });
    const b = await simulate({ budget: 'ratio', failure: 0.5, load: 1.5, seconds: 2 });
    expect(a).toEqual(b);
  });
});
