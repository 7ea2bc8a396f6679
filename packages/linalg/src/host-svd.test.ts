import { LipschitzError } from '@lipschitz/core';
import { singularValuesOracle } from '@lipschitz/test-utils';
import { describe, expect, it } from 'vitest';
import { complexSingularValues, singularValues, spectralNorm } from './host-svd';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

/** Real embedding [[A, −B], [B, A]] of A + iB: its singular values are those of A + iB, each twice. */
function realEmbedding(re: number[], im: number[], m: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 2 * m; i++) {
    for (let j = 0; j < 2 * n; j++) {
      const a = re[(i % m) * n + (j % n)];
      const b = im[(i % m) * n + (j % n)];
      out.push(i < m ? (j < n ? a : -b) : j < n ? b : a);
    }
  }
  return out;
}

describe('singularValues / spectralNorm', () => {
  it('match closed forms', () => {
    expect(Array.from(singularValues([3, 0, 0, -4], 2, 2))).toEqual([4, 3]);
    const golden = (1 + Math.sqrt(5)) / 2;
    expect(spectralNorm([1, 1, 0, 1], 2, 2)).toBeCloseTo(golden, 14);
    // rotation · diag(2, 0.5): singular values 2, 0.5
    const c = Math.cos(0.7);
    const s = Math.sin(0.7);
    const sv = singularValues([2 * c, -0.5 * s, 2 * s, 0.5 * c], 2, 2);
    expect(sv[0]).toBeCloseTo(2, 14);
    expect(sv[1]).toBeCloseTo(0.5, 14);
  });

  it('match the oracle on tall, wide and square random matrices', () => {
    const rand = lcg(1);
    for (const [m, n] of [
      [7, 3],
      [3, 7],
      [6, 6],
      [1, 5],
    ]) {
      const values = Array.from({ length: m * n }, rand);
      const got = singularValues(values, m, n);
      const want = singularValuesOracle(values, m, n);
      expect(got.length).toBe(Math.min(m, n));
      for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(want[i], 12);
      expect(spectralNorm(values, m, n)).toBeCloseTo(want[0], 12);
    }
  });

  it('spectralNorm equals the oracle σ_max on larger and degenerate matrices', () => {
    const rand = lcg(5);
    for (const [m, n] of [
      [60, 25],
      [25, 60],
      [40, 40],
    ]) {
      const values = Array.from({ length: m * n }, rand);
      expect(Math.abs(spectralNorm(values, m, n) - singularValuesOracle(values, m, n)[0])).toBeLessThan(1e-12);
    }
    expect(spectralNorm([0, 0, 0, 0, 0, 0], 2, 3)).toBe(0);
    // rank one, repeated eigenvalue structure: ones(4×3) has σ_max = √12
    expect(spectralNorm(new Array(12).fill(1), 4, 3)).toBeCloseTo(Math.sqrt(12), 13);
    // diagonal with a negative entry and an exact tie
    expect(spectralNorm([-5, 0, 0, 0, 5, 0, 0, 0, 1], 3, 3)).toBeCloseTo(5, 14);
  });

  it('validates its arguments', () => {
    expect(() => singularValues([1, 2, 3], 2, 2)).toThrow(/^singularValues: values has 3 values but rows\*cols = 2\*2 = 4/);
    expect(() => singularValues([1], 0, 1)).toThrow(/^singularValues: rows must be a positive integer, got 0/);
    expect(() => spectralNorm([1, Number.NaN], 1, 2)).toThrow(/^spectralNorm: values\[1\] is NaN/);
    try {
      singularValues([1, 2, 3], 2, 2);
    } catch (e) {
      expect(LipschitzError.isInstance(e) && e.code).toBe('SHAPE_MISMATCH');
    }
  });
});

describe('complexSingularValues', () => {
  it('diag(2i, i) has singular values 2, 1', () => {
    const sv = complexSingularValues([0, 0, 0, 0], [2, 0, 0, 1], 2, 2);
    expect(sv[0]).toBeCloseTo(2, 14);
    expect(sv[1]).toBeCloseTo(1, 14);
  });

  it('match the real-embedding oracle (tall, wide, square, 1×1, 40×33)', () => {
    const rand = lcg(2);
    for (const [m, n] of [
      [1, 1],
      [3, 3],
      [5, 2],
      [2, 6],
      [9, 9],
      [40, 33],
    ]) {
      const re = Array.from({ length: m * n }, rand);
      const im = Array.from({ length: m * n }, rand);
      const want = singularValuesOracle(realEmbedding(re, im, m, n), 2 * m, 2 * n).filter((_, k) => k % 2 === 0);
      const got = complexSingularValues(re, im, m, n);
      expect(got.length).toBe(Math.min(m, n));
      for (let k = 0; k < got.length; k++) expect(Math.abs(got[k] - want[k])).toBeLessThan(1e-12);
    }
  });

  it('handles rank deficiency and already-tridiagonal input', () => {
    // rank 1: u vᴴ with ‖u‖ = ‖v‖ = √2 → σ = (2, 0, 0)... for 3×2: (2, 0)
    const sv = complexSingularValues([1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0], 3, 2);
    expect(sv[0]).toBeCloseTo(2, 14);
    expect(sv[1]).toBeLessThan(1e-7);
    const diag = complexSingularValues([1, 0, 0, 0, 3, 0, 0, 0, 2], [0, 0, 0, 0, 0, 0, 0, 0, 0], 3, 3);
    expect(Array.from(diag)).toEqual([3, 2, 1]);
  });

  it('validates its arguments', () => {
    expect(() => complexSingularValues([1, 2], [1], 1, 2)).toThrow(/^complexSingularValues: im has 1 values but rows\*cols = 1\*2 = 2/);
    expect(() => complexSingularValues([1, 2], [1, Number.POSITIVE_INFINITY], 1, 2)).toThrow(/^complexSingularValues: im\[1\] is Infinity/);
  });
});
