import { LipschitzError } from '@lipschitz/core';
import { describeBackends, expectClose, expectNoLeaks, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { geometricSigmas, knownMatrix } from '../test/known-matrices';
import { batchSingularValues } from '../test/oracle';
import { bjorck } from './bjorck';
import { REPROJECTED_BJORCK, orthogonalize } from './orthogonalize';
import { scaledPolar } from './scaled-polar';

/** A batch of `[rows, cols]` matrices with known singular values (σ_min/σ_max = `ratio`) and polar factors. */
function knownBatch(batch: number, rows: number, cols: number, max: number, ratio: number, seed: number) {
  const r = Math.min(rows, cols);
  const values = new Float32Array(batch * rows * cols);
  const polar = new Float64Array(batch * rows * cols);
  const rms: number[] = [];
  for (let b = 0; b < batch; b++) {
    const sigmas = geometricSigmas(r, max * (1 + b), 1 / ratio);
    const m = knownMatrix(rows, cols, sigmas, seed + b);
    values.set(m.values, b * rows * cols);
    polar.set(m.polar, b * rows * cols);
    rms.push(Math.sqrt(sigmas.reduce((a, s) => a + s * s, 0) / r));
  }
  return { values, polar, rms };
}

describeBackends('scaledPolar', () => {
  it('returns c·UVᵀ: every singular value equals c = ‖w‖_F/√min(m, n), the polar factor is w’s (tall, wide, square, batched)', async () => {
    for (const [batch, rows, cols, ratio] of [
      [1, 40, 8, 0.1],
      [1, 8, 40, 0.1],
      [1, 12, 12, 0.3],
      [3, 16, 16, 0.06],
      [2, 30, 10, 0.5],
    ] as const) {
      const { values, polar, rms } = knownBatch(batch, rows, cols, 0.2, ratio, rows * 10 + cols);
      const shape = batch === 1 ? [rows, cols] : [batch, rows, cols];
      const w = tf.tensor(values, shape);
      const p = scaledPolar(w);
      expect(p.shape).toEqual(shape);
      const svs = await batchSingularValues(p);
      svs.forEach((s, b) => {
        for (const sigma of s) expect(Math.abs(sigma / rms[b] - 1), `${shape} matrix ${b}`).toBeLessThan(2e-6);
      });
      // the polar factor is unchanged: p / c = U Vᵀ of w (float64 host value)
      const got = await tf.div(p, tf.reshape(tf.tensor1d(rms), batch === 1 ? [1, 1] : [batch, 1, 1])).data();
      let maxError = 0;
      for (let i = 0; i < got.length; i++) maxError = Math.max(maxError, Math.abs(got[i] - polar[i]));
      expect(maxError, `${shape}`).toBeLessThan(2e-6);
    }
  });

  it('is idempotent, and leaves the reference orthogonalizer’s result unchanged', async () => {
    const w = tf.add(tf.mul(bjorck(seededNormal([24, 6], 3), { iterations: 30, seed: 1 }), 0.05), seededNormal([24, 6], 4, 0.004));
    const p = scaledPolar(w);
    await expectClose(scaledPolar(p), p, { atol: 1e-7, rtol: 2e-6 });
    await expectClose(orthogonalize(p), orthogonalize(w), { atol: 2e-6 });
    // and on the re-projected parameter the reduced preset already returns the polar factor
    await expectClose(orthogonalize(p, REPROJECTED_BJORCK), orthogonalize(w), { atol: 2e-6 });
  });

  it('below lowerBound it only moves σ towards c (polar factor kept); a second call converges', async () => {
    const { values, polar } = knownBatch(1, 20, 5, 1, 0.01, 5);
    const w = tf.tensor2d(values, [20, 5]);
    const once = scaledPolar(w);
    const twice = scaledPolar(once);
    const [s1] = await batchSingularValues(once);
    const [s2] = await batchSingularValues(twice);
    const c = Math.sqrt(s2.reduce((a, s) => a + s * s, 0) / 5);
    expect(Math.max(...s1) / Math.min(...s1)).toBeGreaterThan(1 + 1e-3);
    for (const s of s2) expect(Math.abs(s / c - 1)).toBeLessThan(2e-6);
    const got = await tf.div(twice, c).data();
    // the polar factor of a float32 matrix with cond 100 is only defined to ~eps·cond
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - polar[i])).toBeLessThan(1e-5);
  });

  it('is a constant for autodiff (zero gradient)', async () => {
    const w = seededNormal([6, 3], 8);
    const g = tf.grad((x: tf.Tensor) => tf.sum(scaledPolar(x)))(w);
    await expectClose(g, tf.zeros([6, 3]), { atol: 0 });
  });

  it('leaves no tensors behind', async () => {
    const w = seededNormal([2, 9, 4], 11);
    await expectNoLeaks(() => scaledPolar(w));
    const wide = tf.transpose(w, [0, 2, 1]);
    await expectNoLeaks(() => scaledPolar(wide));
  });

  it('validates its arguments', () => {
    const w = tf.zeros([4, 2]);
    expect(() => scaledPolar(tf.zeros([4]))).toThrow(LipschitzError);
    expect(() => scaledPolar(tf.zeros([4]))).toThrow(/^scaledPolar: w must have rank >= 2/);
    expect(() => scaledPolar(tf.zeros([4, 2], 'int32'))).toThrow(/^scaledPolar: w must be float32/);
    expect(() => scaledPolar(w, { lowerBound: 0 })).toThrow(/^scaledPolar: lowerBound/);
    expect(() => scaledPolar(w, { lowerBound: 1 })).toThrow(/^scaledPolar: lowerBound/);
    expect(() => scaledPolar(w, { iterations: 0 })).toThrow(/^scaledPolar: iterations must be a positive integer, got 0/);
    expect(() => scaledPolar(w, { iterations: 2, refinementSteps: 3 })).toThrow(/^scaledPolar: refinementSteps \(3\) must not exceed iterations \(2\)/);
    expect(() => scaledPolar(w, { refinementSteps: -1 })).toThrow(/^scaledPolar: refinementSteps must be a non-negative integer, got -1/);
    const disposed = tf.zeros([3, 3]);
    disposed.dispose();
    expect(() => scaledPolar(disposed)).toThrow(/^scaledPolar: w was disposed/);
    expect(() => scaledPolar('w' as never)).toThrow(/^scaledPolar: w must be a tf.Tensor/);
  });
});
