import { LipschitzError } from '@lipschitz/core';
import { describeBackends, expectNoLeaks, singularValuesOracle } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { choleskyQr2, orthonormalizeColumns } from './host-qr';

describe('orthonormalizeColumns', () => {
  it('gives the Q factor with a positive diagonal of R (hand-computed 2×2)', () => {
    const q = Float64Array.from([3, 4, 1, 0]);
    orthonormalizeColumns(q, 2, 2);
    const expected = [0.6, 0.8, 0.8, -0.6];
    for (let i = 0; i < 4; i++) expect(Math.abs(q[i] - expected[i])).toBeLessThan(1e-15);
  });

  it('refuses more vectors than their length and a wrong length', () => {
    expect(() => orthonormalizeColumns(new Float64Array(6), 2, 3)).toThrow(LipschitzError);
    expect(() => orthonormalizeColumns(new Float64Array(5), 3, 2)).toThrow(/SHAPE|m·n/);
  });
});

describeBackends('choleskyQr2', () => {
  it('returns orthonormal columns spanning the input, and null for a rank-deficient input', async () => {
    const a = tf.randomNormal([300, 20], 0, 1, 'float32', 3) as tf.Tensor2D;
    await expectNoLeaks(() => choleskyQr2(a));
    const q = choleskyQr2(a);
    expect(q).not.toBeNull();
    if (q === null) return;
    expect(q.shape).toEqual([300, 20]);
    const values = await q.data();
    for (const s of singularValuesOracle(values, 300, 20)) expect(Math.abs(s - 1)).toBeLessThan(1e-5);
    // R = QᵀA is upper triangular with a positive diagonal.
    const rTensor = tf.tidy(() => tf.matMul(tf.transpose(q), a));
    const r = await rTensor.data();
    rTensor.dispose();
    for (let i = 0; i < 20; i++) {
      expect(r[i * 20 + i]).toBeGreaterThan(0);
      for (let j = 0; j < i; j++) expect(Math.abs(r[i * 20 + j])).toBeLessThan(1e-3);
    }
    q.dispose();
    const deficient = tf.zeros([10, 3]) as tf.Tensor2D;
    expect(choleskyQr2(deficient)).toBeNull();
    const wide = tf.zeros([3, 10]) as tf.Tensor2D;
    expect(() => choleskyQr2(wide)).toThrow(LipschitzError);
    tf.dispose([a, deficient, wide]);
  });
});
