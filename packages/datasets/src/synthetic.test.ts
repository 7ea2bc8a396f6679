import { describe, expect, it } from 'vitest';
import { classCounts } from './image-set';
import { gaussianBlobs, syntheticImages, translated, twoMoons } from './synthetic';

/** Exact W1 between two equal-size empirical sets by brute force over all assignments (n ≤ 7). */
function exactW1(a: ArrayLike<number>, b: ArrayLike<number>, n: number, dim: number): number {
  const dist = (i: number, j: number) => {
    let s = 0;
    for (let k = 0; k < dim; k++) s += (a[i * dim + k] - b[j * dim + k]) ** 2;
    return Math.sqrt(s);
  };
  let best = Number.POSITIVE_INFINITY;
  const used = new Array(n).fill(false);
  const search = (i: number, cost: number) => {
    if (cost >= best) return;
    if (i === n) {
      best = cost;
      return;
    }
    for (let j = 0; j < n; j++) {
      if (used[j]) continue;
      used[j] = true;
      search(i + 1, cost + dist(i, j));
      used[j] = false;
    }
  };
  search(0, 0);
  return best / n;
}

describe('gaussianBlobs', () => {
  it('draws blob i mod k around the given centres with the given std, deterministically', () => {
    const set = gaussianBlobs({ count: 6000, centers: [[0, 0, 0], [10, -5, 2]], std: 0.5, seed: 3 });
    expect([set.count, set.dim, set.points.length]).toEqual([6000, 3, 18000]);
    expect(set.points).toBeInstanceOf(Float64Array);
    expect(Array.from(set.labels!.subarray(0, 4))).toEqual([0, 1, 0, 1]);
    for (const [k, centre] of [[0, [0, 0, 0]], [1, [10, -5, 2]]] as const) {
      for (let j = 0; j < 3; j++) {
        let sum = 0;
        let sumSq = 0;
        for (let i = k; i < 6000; i += 2) {
          sum += set.points[i * 3 + j];
          sumSq += set.points[i * 3 + j] ** 2;
        }
        const mean = sum / 3000;
        const std = Math.sqrt(sumSq / 3000 - mean * mean);
        expect(Math.abs(mean - centre[j])).toBeLessThan((5 * 0.5) / Math.sqrt(3000));
        expect(Math.abs(std - 0.5)).toBeLessThan(0.05);
      }
    }
    expect(gaussianBlobs({ count: 10, dim: 4, centers: 3, seed: 1 }).points).toEqual(gaussianBlobs({ count: 10, dim: 4, centers: 3, seed: 1 }).points);
    expect(gaussianBlobs({ count: 10, seed: 1 }).points).not.toEqual(gaussianBlobs({ count: 10, seed: 2 }).points);
  });

  it('validates its options', () => {
    expect(() => gaussianBlobs({ count: 0 })).toThrow(/^gaussianBlobs: count must be a positive integer, got 0/);
    expect(() => gaussianBlobs({ count: 5, std: -1 })).toThrow(/^gaussianBlobs: std must be a finite number >= 0, got -1/);
    expect(() => gaussianBlobs({ count: 5, centers: [[0, 0], [1]] })).toThrow(/^gaussianBlobs: centers must be a non-empty array of equal-length arrays/);
    expect(() => gaussianBlobs({ count: 5, seed: 0.5 })).toThrow(/^gaussianBlobs: seed must be an integer, got 0\.5/);
  });
});

describe('twoMoons', () => {
  it('puts noiseless points on the two half circles', () => {
    const set = twoMoons({ count: 101, seed: 0 });
    expect([set.count, set.dim]).toEqual([101, 2]);
    const labels = Array.from(set.labels!);
    expect(labels.filter((l) => l === 0).length).toBe(50);
    for (let i = 0; i < 101; i++) {
      const [x, y] = [set.points[2 * i], set.points[2 * i + 1]];
      if (labels[i] === 0) {
        expect(Math.hypot(x, y)).toBeCloseTo(1, 12);
        expect(y).toBeGreaterThanOrEqual(-1e-12);
      } else {
        expect(Math.hypot(x - 1, y - 0.5)).toBeCloseTo(1, 12);
        expect(y).toBeLessThanOrEqual(0.5 + 1e-12);
      }
    }
    expect([set.points[0], set.points[1]]).toEqual([1, 0]);
  });

  it('adds seeded noise', () => {
    const a = twoMoons({ count: 50, noise: 0.1, seed: 1 });
    expect(a.points).toEqual(twoMoons({ count: 50, noise: 0.1, seed: 1 }).points);
    expect(a.points).not.toEqual(twoMoons({ count: 50, seed: 1 }).points);
    expect(() => twoMoons({ count: 5, noise: Number.NaN })).toThrow(/^twoMoons: noise must be a finite number >= 0, got NaN/);
  });
});

describe('translated', () => {
  it('has W1 exactly ‖d‖ to the original (checked by an exact assignment oracle)', () => {
    for (const [seed, d] of [[0, [3, 4]], [1, [0.1, -0.2]], [2, [-7, 0]]] as const) {
      const a = twoMoons({ count: 7, noise: 0.3, seed });
      const b = translated(a, d);
      expect(exactW1(a.points, b.points, 7, 2)).toBeCloseTo(Math.hypot(...d), 12);
    }
    const blobs = gaussianBlobs({ count: 6, dim: 3, seed: 5 });
    expect(exactW1(blobs.points, translated(blobs, [1, 2, 2]).points, 6, 3)).toBeCloseTo(3, 12);
  });

  it('copies labels, leaves the input alone and validates d', () => {
    const a = gaussianBlobs({ count: 4, seed: 0 });
    const before = a.points.slice();
    const b = translated(a, [1, 1]);
    expect(a.points).toEqual(before);
    expect(b.labels).toEqual(a.labels);
    expect(b.points[2]).toBe(a.points[2] + 1);
    expect(() => translated(a, [1, 2, 3])).toThrow(/^translated: d must have 2 finite entries \(the set's dim\), got length 3/);
    expect(() => translated({ points: new Float64Array(3), count: 2, dim: 2 }, [0, 0])).toThrow(/^translated: set must be a PointSet/);
  });
});

describe('syntheticImages', () => {
  it('is a balanced NHWC set in [0, 1], deterministic for a seed', () => {
    const set = syntheticImages({ count: 120, height: 6, width: 5, channels: 2, numClasses: 4, seed: 9 });
    expect([set.count, set.height, set.width, set.channels, set.numClasses, set.images.length]).toEqual([120, 6, 5, 2, 4, 120 * 60]);
    expect(Array.from(classCounts(set))).toEqual([30, 30, 30, 30]);
    expect(set.images.every((v) => v >= 0 && v <= 1)).toBe(true);
    const again = syntheticImages({ count: 120, height: 6, width: 5, channels: 2, numClasses: 4, seed: 9 });
    expect(again.images).toEqual(set.images);
    expect(again.labels).toEqual(set.labels);
    expect(syntheticImages({ count: 120, height: 6, width: 5, channels: 2, numClasses: 4, seed: 10 }).images).not.toEqual(set.images);
  });

  it('is learnable: a nearest-class-mean classifier fit on one half gets the other half right', () => {
    const set = syntheticImages({ count: 400, height: 8, width: 8, channels: 1, numClasses: 10, seed: 0 });
    const pixels = 64;
    const means = new Float64Array(10 * pixels);
    const counts = new Float64Array(10);
    for (let i = 0; i < 200; i++) {
      counts[set.labels[i]]++;
      for (let p = 0; p < pixels; p++) means[set.labels[i] * pixels + p] += set.images[i * pixels + p];
    }
    for (let k = 0; k < 10; k++) for (let p = 0; p < pixels; p++) means[k * pixels + p] /= counts[k];
    let correct = 0;
    for (let i = 200; i < 400; i++) {
      let best = -1;
      let bestDistance = Number.POSITIVE_INFINITY;
      for (let k = 0; k < 10; k++) {
        let d = 0;
        for (let p = 0; p < pixels; p++) d += (set.images[i * pixels + p] - means[k * pixels + p]) ** 2;
        if (d < bestDistance) [best, bestDistance] = [k, d];
      }
      if (best === set.labels[i]) correct++;
    }
    expect(correct / 200).toBeGreaterThanOrEqual(0.95);
  });

  it('validates its options', () => {
    expect(() => syntheticImages({ count: 4, height: 0, width: 2, channels: 1 })).toThrow(/^syntheticImages: height must be a positive integer, got 0/);
    expect(() => syntheticImages({ count: 4, height: 2, width: 2, channels: 1, noise: -0.1 })).toThrow(/^syntheticImages: noise must be a finite number >= 0/);
  });
});
