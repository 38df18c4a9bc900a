// The wait generators: expo, fibo, constant, decay, runtime, decorrelated, retryAfter: their
// sequences (Python's numbers), caps, overflow and options.
import { describe, expect, it } from 'vitest';
import { constant, decay, decorrelated, expo, fibo, retryAfter, runtime } from '../../src/index.js';

function take(iterator: Iterator<number, unknown, unknown>, n: number): number[] {
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const step = iterator.next(undefined);
    if (step.done) break;
    values.push(step.value);
  }
  return values;
}

describe('expo', () => {
  it('yields 1, 2, 4, 8 … by default', () => {
    expect(take(expo(), 8)).toEqual([1, 2, 4, 8, 16, 32, 64, 128]);
  });
  it('maxValue null means no cap, as undefined does', () => {
    expect(take(expo({ maxValue: null }), 4)).toEqual([1, 2, 4, 8]);
    expect(take(fibo({ maxValue: null }), 5)).toEqual([1, 1, 2, 3, 5]);
  });
  it('caps at maxValue and stays there', () => {
    expect(take(expo({ maxValue: 16 }), 7)).toEqual([1, 2, 4, 8, 16, 16, 16]);
    expect(take(expo({ maxValue: 10 }), 6)).toEqual([1, 2, 4, 8, 10, 10]);
  });
  it('starts at factor', () => {
    expect(take(expo({ factor: 3, maxValue: 16 }), 6)).toEqual([3, 6, 12, 16, 16, 16]);
    expect(take(expo({ factor: 0.1 }), 6)).toEqual([0.1, 0.2, 0.4, 0.8, 1.6, 3.2]);
  });
  it('uses base', () => {
    expect(take(expo({ base: 3 }), 5)).toEqual([1, 3, 9, 27, 81]);
  });
  it('a base below 1 shrinks the waits; one at or above maxValue is capped for good', () => {
    // As Python's expo: factor·base^n is compared with max_value, and n stops once it is reached.
    expect(take(expo({ base: 0.5, factor: 10, maxValue: 8 }), 4)).toEqual([8, 8, 8, 8]);
    expect(take(expo({ base: 0.5, factor: 4 }), 4)).toEqual([4, 2, 1, 0.5]);
  });
  it('the built-in generators are iterable, as function* generators are', () => {
    const waits: number[] = [];
    for (const wait of fibo()) {
      if (waits.push(wait) === 6) break;
    }
    expect(waits).toEqual([1, 1, 2, 3, 5, 8]);
    const iterator = decay();
    expect(iterator[Symbol.iterator]()).toBe(iterator);
  });
  it('every built-in generator returns an iterable iterator', () => {
    // An iterable whose iterator is not iterable itself: constant wraps it.
    const bare = { [Symbol.iterator]: () => ({ next: () => ({ done: false, value: 3 }) }) };
    const all = [
      expo(),
      decay(),
      fibo(),
      constant(),
      constant({ interval: [1, 2] }),
      constant({ interval: bare as Iterable<number> }),
      runtime({ value: () => 2 }),
      decorrelated(),
      retryAfter(),
    ];
    for (const waits of all) {
      expect(waits[Symbol.iterator]()).toBe(waits);
      expect(typeof waits.next().value).toBe('number');
    }
    expect(take(constant({ interval: bare as Iterable<number> }), 2)).toEqual([3, 3]);
  });
  it('never yields Infinity: the last finite wait repeats', () => {
    const values = take(expo(), 1100);
    expect(values.every(Number.isFinite)).toBe(true);
    expect(values.at(-1)).toBe(2 ** 1023);
  });
});

describe('decay', () => {
  it('decays from initialValue by e^-decayFactor, floored at minValue', () => {
    const values = take(decay({ initialValue: 10, decayFactor: 1, minValue: 1 }), 6);
    expect(values[0]).toBe(10);
    expect(values[1]).toBeCloseTo(3.6788, 4);
    expect(values[2]).toBeCloseTo(1.3534, 4);
    expect(values.slice(3)).toEqual([1, 1, 1]);
  });
  it('defaults to 1, 0.36788, 0.13534, 0.04979 …', () => {
    const values = take(decay(), 4);
    expect(values[0]).toBe(1);
    expect(values[1]).toBeCloseTo(0.36788, 5);
    expect(values[2]).toBeCloseTo(0.13534, 5);
    expect(values[3]).toBeCloseTo(0.04979, 5);
  });
});

describe('fibo', () => {
  it('yields 1, 1, 2, 3, 5, 8 …', () => {
    expect(take(fibo(), 8)).toEqual([1, 1, 2, 3, 5, 8, 13, 21]);
  });
  it('caps at maxValue', () => {
    expect(take(fibo({ maxValue: 8 }), 8)).toEqual([1, 1, 2, 3, 5, 8, 8, 8]);
    expect(take(fibo({ maxValue: 10 }), 8)).toEqual([1, 1, 2, 3, 5, 8, 10, 10]);
  });
  it('never yields Infinity: the largest finite Fibonacci number repeats', () => {
    const values = take(fibo(), 2000);
    expect(values.every(Number.isFinite)).toBe(true);
    let [last, next] = [1, 1];
    while (Number.isFinite(last + next)) [last, next] = [next, last + next];
    expect(values.at(-1)).toBe(next);
    expect(values.at(-2)).toBe(next);
  });
});

describe('constant', () => {
  it('yields the interval forever, 1 by default', () => {
    expect(take(constant(), 3)).toEqual([1, 1, 1]);
    expect(take(constant({ interval: 5 }), 4)).toEqual([5, 5, 5, 5]);
  });
  it('yields the values of an iterable, then is done', () => {
    const iterator = constant({ interval: [1, 2, 3] });
    expect(take(iterator, 10)).toEqual([1, 2, 3]);
    expect(iterator.next(undefined).done).toBe(true);
  });
});

describe('runtime', () => {
  it('computes each wait from the outcome passed to next()', () => {
    const seen: unknown[] = [];
    const iterator = runtime({
      value: (outcome) => {
        seen.push(outcome);
        return (outcome as { retryAfter: number }).retryAfter;
      },
    });
    expect(iterator.next({ retryAfter: 3 })).toEqual({ done: false, value: 3 });
    expect(iterator.next({ retryAfter: 7 })).toEqual({ done: false, value: 7 });
    expect(seen).toEqual([{ retryAfter: 3 }, { retryAfter: 7 }]);
  });
});

describe('built-in generators as option values', () => {
  it('declare their options parameter, so they are never taken for lazy options', () => {
    for (const generator of [expo, fibo, decay, constant, runtime]) {
      expect(generator.length, generator.name).toBeGreaterThanOrEqual(1);
    }
  });
});
