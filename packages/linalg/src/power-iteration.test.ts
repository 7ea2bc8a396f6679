import { describeBackends, expectClose, expectNoLeaks, seededNormal, singularValuesOracle } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { powerIteration } from './power-iteration';

describeBackends('powerIteration', () => {
  it('converges to σ_max from below and warm-starts from the returned state', async () => {
    const w = seededNormal([2, 7, 4], 1);
    const data = await w.data();
    const exact = [0, 1].map((i) => singularValuesOracle(data.subarray(i * 28, (i + 1) * 28), 7, 4)[0]);
    const first = powerIteration(w, { iterations: 2, seed: 3 });
    const est1 = await first.spectralNormEstimate.data();
    expect(first.spectralNormEstimate.shape).toEqual([2]);
    expect(first.u.shape).toEqual([2, 7]);
    expect(first.v.shape).toEqual([2, 4]);
    for (let i = 0; i < 2; i++) expect(est1[i]).toBeLessThanOrEqual(exact[i] * (1 + 1e-6));
    let state = first;
    for (let k = 0; k < 60; k++) {
      const next = powerIteration(w, { u: state.u });
      tf.dispose([state.u, state.v, state.spectralNormEstimate]);
      state = next;
    }
    const est = await state.spectralNormEstimate.data();
    for (let i = 0; i < 2; i++) {
      expect(est[i]).toBeLessThanOrEqual(exact[i] * (1 + 1e-6));
      expect(est[i]).toBeGreaterThan(exact[i] * (1 - 1e-4));
    }
    // unit vectors
    await expectClose(tf.norm(state.u, 'euclidean', 1), [1, 1], { atol: 1e-5 });
  });

  it('the gradient of the estimate is u vᵀ (u, v held constant)', async () => {
    const w = seededNormal([5, 3], 4);
    const start = seededNormal([5], 5);
    const g = tf.grad((x: tf.Tensor) => powerIteration(x, { u: start, iterations: 3 }).spectralNormEstimate as tf.Scalar)(w);
    const { u, v } = powerIteration(w, { u: start, iterations: 3 });
    await expectClose(g, tf.mul(tf.reshape(u, [5, 1]), tf.reshape(v, [1, 3])), { atol: 1e-6 });
  });

  it('leaves no tensors behind', async () => {
    const w = seededNormal([4, 3], 6);
    await expectNoLeaks(() => powerIteration(w, { iterations: 3, seed: 1 }));
    await expectNoLeaks(() => tf.grad((x: tf.Tensor) => powerIteration(x, { seed: 1 }).spectralNormEstimate as tf.Scalar)(w));
  });

  it('validates its arguments', () => {
    const w = tf.zeros([4, 3]);
    expect(() => powerIteration(w, { iterations: 0 })).toThrow(/^powerIteration: iterations must be a positive integer, got 0/);
    expect(() => powerIteration(w, { u: tf.zeros([3]) })).toThrow(/^powerIteration: u must have shape \[4\], got \[3\]/);
    expect(() => powerIteration(w, { seed: 1.5 })).toThrow(/^powerIteration: seed must be an integer, got 1.5/);
    expect(() => powerIteration(tf.zeros([4]))).toThrow(/^powerIteration: w must have rank >= 2/);
  });
});
