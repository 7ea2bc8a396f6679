import { SeededRandom } from '@lipschitz/core';
import { describe, expect, it } from 'vitest';
import { solveAssignment } from './assignment';
import { exactW1 } from './exact-w1';
import type { PointCloud } from './point-cloud';
import { sinkhornW1 } from './sinkhorn';

function randomCloud(count: number, dim: number, rng: SeededRandom, shift = 0): PointCloud {
  const points = new Float64Array(count * dim);
  for (let k = 0; k < points.length; k++) points[k] = rng.normal() + shift;
  return { points, count, dim };
}

function bruteForceAssignment(cost: Float64Array, n: number): number {
  let best = Number.POSITIVE_INFINITY;
  const perm = Array.from({ length: n }, (_, i) => i);
  const visit = (k: number) => {
    if (k === n) {
      let total = 0;
      for (let i = 0; i < n; i++) total += cost[i * n + perm[i]];
      best = Math.min(best, total);
      return;
    }
    for (let j = k; j < n; j++) {
      [perm[k], perm[j]] = [perm[j], perm[k]];
      visit(k + 1);
      [perm[k], perm[j]] = [perm[j], perm[k]];
    }
  };
  visit(0);
  return best;
}

describe('solveAssignment', () => {
  it('equals the brute-force optimum on random tiny problems', () => {
    const rng = new SeededRandom(11);
    for (let trial = 0; trial < 40; trial++) {
      const n = 1 + (trial % 7);
      const cost = Float64Array.from({ length: n * n }, () => Math.round(rng.uniform() * 20) / 4);
      const result = solveAssignment(cost, n);
      expect(new Set(result.columnForRow).size).toBe(n);
      expect(result.cost).toBeCloseTo(bruteForceAssignment(cost, n), 12);
    }
  });

  it('handles n = 0 and rejects bad input', () => {
    expect(solveAssignment([], 0).cost).toBe(0);
    expect(() => solveAssignment([1, 2, 3], 2)).toThrow(/^solveAssignment: cost must have n² = 4 entries, got 3\.$/);
    expect(() => solveAssignment([1, Number.NaN, 0, 1], 2)).toThrow(/cost\[1\] is NaN/);
  });
});

describe('exactW1', () => {
  it('equals the brute-force W1 on tiny point sets', () => {
    const rng = new SeededRandom(5);
    for (let n = 1; n <= 6; n++) {
      const a = randomCloud(n, 3, rng);
      const b = randomCloud(n, 3, rng, 0.5);
      const cost = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let k = 0; k < 3; k++) s += (a.points[i * 3 + k] - b.points[j * 3 + k]) ** 2;
          cost[i * n + j] = Math.sqrt(s);
        }
      expect(exactW1(a, b).w1).toBeCloseTo(bruteForceAssignment(cost, n) / n, 12);
    }
  });

  it('is exactly ‖d‖ between a set and its translate by d', () => {
    const rng = new SeededRandom(9);
    const a = randomCloud(300, 8, rng);
    const d = Float64Array.from({ length: 8 }, (_, k) => (k % 2 ? 0.3 : -0.2));
    const shifted = Float64Array.from(a.points as Float64Array, (v, idx) => v + d[idx % 8]);
    const norm = Math.hypot(...d);
    const result = exactW1(a, { points: shifted, count: 300, dim: 8 });
    expect(result.w1).toBeCloseTo(norm, 10);
  });

  it('rejects mismatched sets with a clear message', () => {
    const rng = new SeededRandom(1);
    expect(() => exactW1(randomCloud(3, 2, rng), randomCloud(4, 2, rng))).toThrow(/same number of points, got 3 and 4/);
    expect(() => exactW1(randomCloud(3, 2, rng), randomCloud(3, 5, rng))).toThrow(/dimensions 2 and 5/);
    expect(() => exactW1({ points: [1, 2, 3], count: 2, dim: 2 }, randomCloud(2, 2, rng))).toThrow(/has 3 values but count × dim = 2 × 2 = 4/);
  });
});

describe('sinkhornW1', () => {
  it('converges to the exact W1 from above as the regularisation shrinks', () => {
    const rng = new SeededRandom(21);
    const a = randomCloud(40, 2, rng);
    const b = randomCloud(40, 2, rng, 1);
    const exact = exactW1(a, b).w1;
    const gaps = [0.5, 0.1, 0.02].map((epsilon) => sinkhornW1(a, b, { epsilon, maxIterations: 5000 }).transportCost - exact);
    for (const gap of gaps) expect(gap).toBeGreaterThan(-1e-6);
    expect(gaps[1]).toBeLessThan(gaps[0]);
    expect(gaps[2]).toBeLessThan(gaps[1]);
    expect(gaps[2]).toBeLessThan(0.02 * exact);
  });

  it('works for different sizes and reports its marginal error', () => {
    const rng = new SeededRandom(2);
    const r = sinkhornW1(randomCloud(10, 2, rng), randomCloud(15, 2, rng), { epsilon: 0.1 });
    expect(r.marginalError).toBeLessThan(1e-6);
    expect(() => sinkhornW1(randomCloud(2, 2, rng), randomCloud(2, 2, rng), { epsilon: -1 })).toThrow(/epsilon must be a finite number > 0/);
  });
});
