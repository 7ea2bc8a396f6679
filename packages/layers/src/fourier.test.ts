import { circularConv2d } from '@lipschitz/blockconv';
import { LipschitzError } from '@lipschitz/core';
import { describeBackends } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { mapSingularValues } from '../test/helpers/conv-oracle';
import { clipConvSingularValues, symmetricEigen } from './fourier';

function seededValues(n: number, seed: number, scale: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = ((s / 2147483648) * 2 - 1) * scale;
  }
  return out;
}

/** Exact singular values of the circular conv with `kernel` (float32 conv, float64 SVD of its matrix). */
async function convSingularValuesOracle(kernel: ArrayLike<number>, shape: [number, number, number, number], size: [number, number]): Promise<number[]> {
  const k = tf.tensor(Float32Array.from(kernel), shape) as tf.Tensor4D;
  const sv = await mapSingularValues((x) => circularConv2d(x as tf.Tensor4D, k), [size[0], size[1], shape[2]]);
  k.dispose();
  return sv;
}

describe('symmetricEigen', () => {
  const check = (a: Float64Array, n: number) => {
    const { values, vectors } = symmetricEigen(a, n);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[j * n + k];
        expect(Math.abs(av - values[k] * vectors[i * n + k])).toBeLessThan(1e-12);
        let vtv = 0;
        for (let j = 0; j < n; j++) vtv += vectors[j * n + i] * vectors[j * n + k];
        expect(Math.abs(vtv - (i === k ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
    return values;
  };

  it('diagonalises symmetric matrices: A V = V Λ and VᵀV = I (n = 1, 6, 40)', () => {
    expect(Array.from(check(Float64Array.of(-2.5), 1))).toEqual([-2.5]);
    for (const n of [6, 40]) {
      const r = seededValues(n * n, 3 + n, 1);
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = r[i * n + j] + r[j * n + i];
      const values = check(a, n);
      let trace = 0;
      for (let i = 0; i < n; i++) trace += a[i * n + i];
      expect(Math.abs(values.reduce((x, y) => x + y, 0) - trace)).toBeLessThan(1e-10);
    }
  });

  it('handles the doubled eigenvalues of a Hermitian matrix\'s real embedding and diagonal input', () => {
    const n = 8;
    const re = seededValues(n * n, 21, 1);
    const im = seededValues(n * n, 22, 1);
    const m = 2 * n;
    const s = new Float64Array(m * m);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const gr = re[i * n + j] + re[j * n + i];
        const gi = im[i * n + j] - im[j * n + i];
        s[i * m + j] = gr;
        s[(i + n) * m + j + n] = gr;
        s[i * m + j + n] = -gi;
        s[(i + n) * m + j] = gi;
      }
    }
    const values = Array.from(check(s, m)).sort((x, y) => x - y);
    for (let k = 0; k < m; k += 2) expect(Math.abs(values[k] - values[k + 1])).toBeLessThan(1e-10);
    const diagonal = new Float64Array(9);
    diagonal[0] = 3;
    diagonal[4] = -1;
    diagonal[8] = 3;
    expect(Array.from(check(diagonal, 3)).sort((x, y) => x - y)).toEqual([-1, 3, 3]);
  });
});

describeBackends('clipConvSingularValues', () => {
  it('with a kernel as large as the input (no truncation) clips exactly: σ ← min(σ, 1)', async () => {
    const shape: [number, number, number, number] = [3, 4, 2, 3];
    const kernel = seededValues(3 * 4 * 2 * 3, 11, 0.6);
    const before = await convSingularValuesOracle(kernel, shape, [3, 4]);
    expect(before[0]).toBeGreaterThan(1.3);
    const clipped = clipConvSingularValues(kernel, shape, [3, 4]);
    const after = await convSingularValuesOracle(clipped, shape, [3, 4]);
    const expected = before.map((s) => Math.min(s, 1)).sort((a, b) => b - a);
    for (let i = 0; i < after.length; i++) expect(Math.abs(after[i] - expected[i])).toBeLessThan(2e-5);
  });

  it('leaves a kernel whose norm is already ≤ 1 unchanged', async () => {
    const shape: [number, number, number, number] = [2, 2, 3, 2];
    const kernel = seededValues(24, 5, 0.05);
    expect((await convSingularValuesOracle(kernel, shape, [5, 5]))[0]).toBeLessThan(1);
    const clipped = clipConvSingularValues(kernel, shape, [5, 5], { rounds: 3 });
    for (let i = 0; i < kernel.length; i++) expect(Math.abs(clipped[i] - kernel[i])).toBeLessThan(1e-12);
  });

  it('with truncation, repeated rounds drive σ_max towards the clip value (k = 3 on 6×6)', async () => {
    const shape: [number, number, number, number] = [3, 3, 2, 2];
    const kernel = seededValues(36, 7, 0.8);
    const before = (await convSingularValuesOracle(kernel, shape, [6, 6]))[0];
    expect(before).toBeGreaterThan(1.5);
    const one = (await convSingularValuesOracle(clipConvSingularValues(kernel, shape, [6, 6], { rounds: 1 }), shape, [6, 6]))[0];
    const many = (await convSingularValuesOracle(clipConvSingularValues(kernel, shape, [6, 6], { rounds: 50 }), shape, [6, 6]))[0];
    expect(one).toBeLessThan(before);
    expect(many).toBeLessThanOrEqual(one + 1e-6);
    expect(many).toBeLessThan(1.05);
    // clipTo other than 1
    const half = (await convSingularValuesOracle(clipConvSingularValues(kernel, [3, 3, 2, 2], [3, 3], { clipTo: 0.5 }), shape, [3, 3]))[0];
    expect(Math.abs(half - 0.5)).toBeLessThan(1e-5);
  });
});

describe('clipConvSingularValues validation', () => {
  it('rejects bad arguments with clear errors', () => {
    expect(() => clipConvSingularValues([1, 2], [1, 1, 1, 1], [2, 2])).toThrow(/^clipConvSingularValues: kernel has 2 values but shape \[1, 1, 1, 1\] needs 1/);
    expect(() => clipConvSingularValues([1], [1, 1, 1, 1], [0, 2])).toThrow(/^clipConvSingularValues: inputSize\[0\] must be a positive integer/);
    expect(() => clipConvSingularValues([1], [1, 1, 1, 1], [2, 2], { rounds: 0 })).toThrow(/rounds must be a positive integer/);
    expect(() => clipConvSingularValues([1], [1, 1, 1, 1], [2, 2], { clipTo: -1 })).toThrow(/clipTo must be a finite number > 0/);
    expect(() => clipConvSingularValues(new Float64Array(9), [3, 3, 1, 1], [2, 2])).toThrow(/must not be larger than the input/);
    try {
      clipConvSingularValues([Number.NaN], [1, 1, 1, 1], [2, 2]);
      expect.unreachable();
    } catch (e) {
      expect(LipschitzError.isInstance(e) && e.code).toBe('NUMERICAL_ERROR');
    }
  });
});
