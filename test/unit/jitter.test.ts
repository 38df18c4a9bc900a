import { afterEach, describe, expect, it, vi } from 'vitest';
import { fullJitter, randomJitter } from '../../src/index.js';

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
