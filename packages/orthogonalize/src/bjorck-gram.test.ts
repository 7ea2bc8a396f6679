import { describeBackends, expectClose, expectNoLeaks, finiteDifferenceGradient, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { bjorckScalar, geometricSigmas, knownMatrix } from '../test/known-matrices';
import { batchSingularValues, maxDeviationFromOne } from '../test/oracle';
import { bjorck } from './bjorck';
import { bjorckGram } from './bjorck-gram';

describeBackends('bjorckGram', () => {
  it('returns bjorck’s result (same seed) for tall, wide and batched matrices, orders 1 and 2', async () => {
    for (const [shape, order, iterations] of [
      [[40, 8], 1, 20],
      [[8, 40], 1, 20],
      [[3, 24, 6], 1, 20],
      [[2, 5, 5], 1, 20],
      [[30, 6], 2, 10],
    ] as [number[], number, number][]) {
      const w = seededNormal(shape, shape.length * 10 + order);
      const want = bjorck(w, { seed: 4, order, iterations });
      const got = bjorckGram(w, { seed: 4, order, iterations, form: 'gram' });
      expect(got.shape).toEqual(shape);
      await expectClose(got, want, { atol: 2e-6 });
      expect(maxDeviationFromOne(await batchSingularValues(got))).toBeLessThan(2e-6);
    }
  });

  it('unconverged iterates equal bjorck’s too (each σ follows the same scalar map; scaling none)', async () => {
    const sigmas = [1.3, 0.8, 0.3];
    const { values } = knownMatrix(9, 3, sigmas, 5);
    const w = tf.tensor2d(values, [9, 3]);
    for (const refinementSteps of [0, 1, 3]) {
      const got = bjorckGram(w, { iterations: 3, scaling: 'none', refinementSteps, form: 'gram' });
      await expectClose(got, bjorck(w, { iterations: 3, scaling: 'none' }), { atol: 2e-6 });
      const want = sigmas.map((s) => bjorckScalar(s, 3)).sort((a, b) => b - a);
      await expectClose((await batchSingularValues(got))[0], want, { atol: 2e-6 });
    }
  });

  it('cond 2e3: like bjorck it needs 24 iterations (20 leave σ_min ≈ 0.96); 2 refinement steps keep float32 precision', async () => {
    const { values } = knownMatrix(48, 12, geometricSigmas(12, 1, 2000), 3);
    const w = tf.tensor2d(values, [48, 12]);
    expect(maxDeviationFromOne(await batchSingularValues(bjorckGram(w, { seed: 1 })))).toBeGreaterThan(1e-2);
    expect(maxDeviationFromOne(await batchSingularValues(bjorckGram(w, { seed: 1, iterations: 24 })))).toBeLessThan(1e-6);
  });

  it('gradient equals bjorck’s gradient, and matches finite differences (scaling none)', async () => {
    const w = seededNormal([10, 4], 7);
    const r = seededNormal([10, 4], 8);
    const loss = (f: (x: tf.Tensor) => tf.Tensor) => (x: tf.Tensor) => tf.sum(tf.mul(f(x), r)) as tf.Scalar;
    const gGram = tf.grad(loss((x) => bjorckGram(x, { seed: 3 })))(w);
    const gRef = tf.grad(loss((x) => bjorck(x, { seed: 3 })))(w);
    await expectClose(gGram, gRef, { atol: 1e-4, rtol: 1e-3 });
    const small = tf.mul(seededNormal([5, 3], 9), 0.3);
    const r2 = seededNormal([5, 3], 10);
    const f = (x: tf.Tensor) => tf.sum(tf.mul(bjorckGram(x, { iterations: 4, scaling: 'none', refinementSteps: 1 }), r2)) as tf.Scalar;
    await expectClose(tf.grad(f)(small), [...(await finiteDifferenceGradient(f, small, 1e-2)).values()], { atol: 2e-3, rtol: 1e-2 });
  });

  it('form auto runs plain Björck on square matrices (identical result) and the Gram form on tall ones', async () => {
    const square = seededNormal([6, 6], 12);
    await expectClose(bjorckGram(square, { seed: 2 }), bjorck(square, { seed: 2 }), { atol: 0 });
    const tallW = seededNormal([30, 5], 13);
    await expectClose(bjorckGram(tallW, { seed: 2 }), bjorckGram(tallW, { seed: 2, form: 'gram' }), { atol: 0 });
  });

  it('leaves no tensors behind', async () => {
    const w = seededNormal([2, 9, 3], 11);
    await expectNoLeaks(() => bjorckGram(w, { iterations: 4 }));
    await expectNoLeaks(() => tf.grad((x: tf.Tensor) => tf.sum(bjorckGram(x, { iterations: 4 })))(w));
  });

  it('validates its arguments', () => {
    const w = tf.zeros([4, 2]);
    expect(() => bjorckGram(w, { iterations: 2, refinementSteps: 3 })).toThrow(/^bjorckGram: refinementSteps \(3\) must not exceed iterations \(2\)/);
    expect(() => bjorckGram(w, { refinementSteps: -1 })).toThrow(/^bjorckGram: refinementSteps must be a non-negative integer, got -1/);
    expect(() => bjorckGram(w, { iterations: 0 })).toThrow(/^bjorckGram: iterations must be a positive integer, got 0/);
    expect(() => bjorckGram(tf.zeros([4]))).toThrow(/^bjorckGram: w must have rank >= 2/);
    expect(() => bjorckGram(w, { form: 'direct' as never })).toThrow(/^bjorckGram: form must be one of "auto", "gram", got "direct"/);
  });
});
