import { describe, expect, it } from 'vitest';
import { pruneExits, stability } from '../../../src/hostmanager/child/stability.js';

describe('stability', () => {
  it('is 1.0 with no exits', () => expect(stability([], 1_000_000)).toBe(1));
  it('is 0.5 one crash 10 s ago, as in OCS', () => expect(stability([990_000], 1_000_000)).toBe(0.5));
  it('adds up crashes and floors at 0', () => {
    expect(stability([980_000, 990_000], 1_000_000)).toBeCloseTo(1 - 0.25 - 0.5);
    expect(stability([999_000], 1_000_000)).toBe(0);
    expect(stability([1_000_000], 1_000_000)).toBe(0);
  });
  it('returns to exactly 1.0 once the last crash leaves the 120 s window', () => {
    expect(stability([0], 119_999)).toBeLessThan(1);
    expect(stability([0], 120_000)).toBe(1);
  });
  it('prunes exits outside the window', () => expect(pruneExits([0, 50_000, 100_000], 150_000)).toEqual([50_000, 100_000]));
});
