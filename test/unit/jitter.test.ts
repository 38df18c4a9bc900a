// The jitters: fullJitter and randomJitter stay within their bounds and scale Math.random(); the
// jitter menu (equal and decorrelated jitter, a seeded random source).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decorrelated, equalJitter, fullJitter, randomJitter } from '../../src/index.js';
import { preview, seededRandom } from '../../src/testing.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('fullJitter', () => {
  it('stays within [0, v] over many samples, and spreads over the range', () => {
    const samples = Array.from({ length: 10_000 }, () => fullJitter(3));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThanOrEqual(3);
    expect(Math.min(...samples)).toBeLessThan(0.1);
    expect(Math.max(...samples)).toBeGreaterThan(2.9);
  });
  it('is v times Math.random()', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.25);
    expect(fullJitter(8)).toBe(2);
  });
});

describe('randomJitter', () => {
  it('stays within [v, v + 1)', () => {
    const samples = Array.from({ length: 10_000 }, () => randomJitter(3));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...samples)).toBeLessThan(4);
    expect(Math.max(...samples)).toBeGreaterThan(3.9);
  });
  it('is v plus Math.random()', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    expect(randomJitter(2)).toBe(2.5);
  });
});

describe('the jitter menu', () => {
  it('equalJitter stays in [v/2, v]', () => {
    const random = seededRandom(5);
    const samples = Array.from({ length: 10_000 }, () => equalJitter(8, random));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(4);
    expect(Math.max(...samples)).toBeLessThanOrEqual(8);
    expect(Math.min(...samples)).toBeLessThan(4.1);
    expect(Math.max(...samples)).toBeGreaterThan(7.9);
    expect(equalJitter(8, () => 0.5)).toBe(6);
  });

  it('every built-in jitter uses the random source it is given', () => {
    expect(fullJitter(10, () => 0.25)).toBe(2.5);
    expect(randomJitter(10, () => 0.25)).toBe(10.25);
  });

  it('decorrelated: each wait in [base, 3 x previous], capped; no extra jitter by default', () => {
    const random = seededRandom(11);
    const waits = decorrelated({ base: 0.5, maxValue: 20 }, { random });
    let previous = 0.5;
    for (let i = 0; i < 1000; i++) {
      const step = waits.next(undefined);
      const value = step.value as number;
      expect(value).toBeGreaterThanOrEqual(0.5);
      expect(value).toBeLessThanOrEqual(Math.min(20, 3 * previous));
      previous = value;
    }
    // The loop applies no jitter to decorrelated unless asked to.
    expect(preview(decorrelated, { base: 1 }, 20, { seed: 4 })).toEqual(
      (() => {
        const iterator = decorrelated({ base: 1 }, { random: seededRandom(4) });
        return Array.from({ length: 20 }, () => iterator.next(undefined).value);
      })(),
    );
  });

  it('decorrelated: next = base + random x (3 x previous - base), exactly', () => {
    const waits = decorrelated({ base: 1 }, { random: () => 0.5 });
    // 1 + 0.5 x (3 - 1) = 2; 1 + 0.5 x (6 - 1) = 3.5; 1 + 0.5 x (10.5 - 1) = 5.75
    expect([1, 2, 3].map(() => waits.next(undefined).value)).toEqual([2, 3.5, 5.75]);
  });

  it('decorrelated called directly needs neither options nor a random source', () => {
    const value = decorrelated().next(undefined).value as number;
    expect(value).toBeGreaterThanOrEqual(1);
    expect(value).toBeLessThanOrEqual(3);
  });

  it('decorrelated never yields Infinity without a cap', () => {
    const waits = decorrelated({}, { random: () => 0.999 });
    const values = Array.from({ length: 2000 }, () => waits.next(undefined).value as number);
    expect(values.every(Number.isFinite)).toBe(true);
  });
});
