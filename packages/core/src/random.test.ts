import { describe, expect, it } from 'vitest';
import { SeededRandom } from './random';

describe('SeededRandom', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const xs = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.uniform())).not.toEqual(xs);
  });

  it('restores its state exactly', () => {
    const a = new SeededRandom(7);
    for (let i = 0; i < 10; i++) a.nextUint32();
    const saved = a.state();
    const next = [a.uniform(), a.normal(), a.int(100)];
    const b = SeededRandom.fromState(saved);
    expect([b.uniform(), b.normal(), b.int(100)]).toEqual(next);
    expect(() => SeededRandom.fromState([1, 2, 3] as never)).toThrow(/four unsigned 32-bit integers/);
  });

  it('uniform is in [0, 1) with mean 1/2 and normal has mean 0, variance 1', () => {
    const rng = new SeededRandom(1);
    const n = 20000;
    let sum = 0;
    let sumN = 0;
    let sumN2 = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
      const z = rng.normal();
      sumN += z;
      sumN2 += z * z;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(sumN / n)).toBeLessThan(0.03);
    expect(Math.abs(sumN2 / n - 1)).toBeLessThan(0.05);
  });

  it('permutation is a permutation and shuffle is seeded', () => {
    const p = Array.from(new SeededRandom(3).permutation(50));
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(new SeededRandom(3).shuffle([1, 2, 3, 4, 5, 6])).toEqual(new SeededRandom(3).shuffle([1, 2, 3, 4, 5, 6]));
  });

  it('rejects a non-integer seed', () => {
    expect(() => new SeededRandom(0.5)).toThrow(/^SeededRandom: seed must be an integer, got 0\.5\.$/);
  });
});
