import { LipschitzError } from '@lipschitz/core';
import {
  denseMatrixOf,
  describeBackends,
  expectClose,
  expectNoLeaks,
  finiteDifferenceGradient,
  seededNormal,
  singularValuesOracle,
} from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { flatten, groupSort, invertibleDownsample, maxMin, relu, upsampleNearest } from './index';

/** ‖Jᵀg‖ for y = f(x): the gradient of ⟨f(x), g⟩ with respect to x. */
async function vjpNorm(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, g: tf.Tensor): Promise<number> {
  const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(f(input), g)))(x);
  const n = tf.norm(grad);
  const value = (await n.data())[0];
  tf.dispose([grad, n]);
  return value;
}

describeBackends('activations', () => {
  it('maxMin pairs channel i with i + C/2, on vectors and NHWC maps', async () => {
    const m = maxMin();
    await expectClose(m.apply(tf.tensor2d([[1, -2, 3, 4]])), [3, 4, 1, -2]);
    const x = tf.tensor4d([5, 1, 2, 7, -1, -3, 0, 0], [1, 1, 2, 4]);
    // pixel 0: a=[5,1], b=[2,7] → [5,7,2,1]; pixel 1: a=[-1,-3], b=[0,0] → [0,0,-1,-3]
    await expectClose(m.apply(x), [5, 7, 2, 1, 0, 0, -1, -3]);
    expect(await m.lipschitzUpperBound([6, 6, 4])).toBe(1);
    expect(await m.exportLayers([4])).toEqual([{ type: 'maxMin' }]);
  });

  it('maxMin and groupSort are gradient-norm preserving: ‖Jᵀg‖ = ‖g‖', async () => {
    const x = seededNormal([3, 4, 4, 8], 1);
    const g = seededNormal([3, 4, 4, 8], 2);
    const gNorm = (await tf.norm(g).data())[0];
    for (const layer of [maxMin(), groupSort({ groupSize: 2 }), groupSort({ groupSize: 4 }), groupSort({ groupSize: 8 })]) {
      const n = await vjpNorm((t) => layer.apply(t), x, g);
      expect(Math.abs(n - gNorm) / gNorm, layer.name).toBeLessThan(1e-6);
    }
    // ReLU is 1-Lipschitz but not GNP: it drops the gradient of negative units.
    const nRelu = await vjpNorm((t) => relu().apply(t), x, g);
    expect(nRelu).toBeLessThan(0.9 * gNorm);
  });

  it('maxMin equals the composite split/maximum/minimum/concat, values and gradients, on maps and vectors', async () => {
    const composite = (t: tf.Tensor) => {
      const [a, b] = tf.split(t, 2, t.rank - 1);
      return tf.concat([tf.maximum(a, b), tf.minimum(a, b)], t.rank - 1);
    };
    for (const shape of [[2, 3, 5, 6], [4, 10], [3, 2]]) {
      const x = seededNormal(shape, 11);
      const g = seededNormal(shape, 12);
      await expectClose(maxMin().apply(x), composite(x), { atol: 0 });
      const ours = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(maxMin().apply(t), g)))(x);
      const theirs = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(composite(t), g)))(x);
      await expectClose(ours, theirs, { atol: 0 });
    }
  });

  it('maxMin gradient: finite differences, and ties route each gradient entry exactly one way', async () => {
    const x = seededNormal([1, 2, 2, 4], 13);
    const g = seededNormal([1, 2, 2, 4], 14);
    const f = (t: tf.Tensor) => tf.sum(tf.mul(maxMin().apply(t), g)) as tf.Scalar;
    const analytic = await tf.grad(f)(x).data();
    const numeric = await finiteDifferenceGradient(f, x, 1e-3);
    for (const [i, v] of numeric) expect(Math.abs(analytic[i] - v), `entry ${i}`).toBeLessThan(2e-3);
    // a = b everywhere: max takes a, min takes b, so ∂a = ∂max and ∂b = ∂min (a permutation, norm kept).
    const tie = tf.tensor2d([[1, -2, 1, -2]]);
    const dy = tf.tensor2d([[3, 5, 7, 11]]);
    await expectClose(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(maxMin().apply(t), dy)))(tie), [3, 5, 7, 11], { atol: 0 });
  });

  it('groupSort sorts each group descending', async () => {
    await expectClose(groupSort({ groupSize: 4 }).apply(tf.tensor2d([[1, 4, 2, 3, -1, -5, 9, 0]])), [4, 3, 2, 1, 9, 0, -1, -5]);
    await expectClose(groupSort({ groupSize: 2 }).apply(tf.tensor2d([[1, 4, 3, 2]])), [4, 1, 3, 2]);
    await expectClose(groupSort({ groupSize: 3 }).apply(tf.tensor2d([[2, 3, 1]])), [3, 2, 1]);
  });

  it('relu, flatten, invertibleDownsample: values and exact bounds', async () => {
    await expectClose(relu().apply(tf.tensor1d([-1, 2])), [0, 2]);
    const x = tf.reshape(tf.range(0, 16), [1, 4, 4, 1]);
    // out[0, y, x, (i*2 + j)] = in[0, 2y + i, 2x + j]
    const d = invertibleDownsample({ factor: 2 }).apply(x);
    expect(d.shape).toEqual([1, 2, 2, 4]);
    await expectClose(d, [0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15]);
    expect(flatten().apply(tf.zeros([2, 7, 7, 32])).shape).toEqual([2, 1568]);
    // Exact operator norms from the impulse response (float64 SVD oracle).
    for (const [layer, shape, exact] of [
      [invertibleDownsample({ factor: 2 }), [4, 4, 2], 1],
      [flatten(), [3, 3, 2], 1],
      [upsampleNearest({ factor: 2 }), [3, 3, 1], 2],
    ] as const) {
      const { values, rows, cols } = await denseMatrixOf((t) => layer.apply(t), [...shape]);
      const sv = singularValuesOracle(values, rows, cols);
      expect(sv[0]).toBeCloseTo(exact, 6);
      expect(sv[sv.length - 1]).toBeCloseTo(exact, 6);
      expect(await layer.lipschitzUpperBound([...shape])).toBeGreaterThanOrEqual(sv[0] - 1e-12);
    }
  });

  it('upsampleNearest copies pixels and refuses export', async () => {
    const u = upsampleNearest({ factor: 2 });
    await expectClose(u.apply(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1])), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    await expect(u.exportLayers([2, 2, 1])).rejects.toThrow(/upsampleNearest.exportLayers: the lipschitz-model\/1 format has no upsampling/);
  });

  it('validators', async () => {
    expect(() => maxMin().apply(tf.zeros([1, 3]))).toThrow(/maxMin.apply: the last \(channel\) axis must have an even size/);
    expect(() => groupSort({ groupSize: 1 })).toThrow(/groupSort: groupSize must be at least 2/);
    expect(() => groupSort({ groupSize: 1.5 })).toThrow(LipschitzError);
    expect(() => groupSort({ groupSize: 4 }).apply(tf.zeros([1, 6]))).toThrow(/groupSort.apply: the channel count must be a multiple of groupSize 4/);
    expect(() => invertibleDownsample({ factor: 0 })).toThrow(/invertibleDownsample: factor must be a positive integer/);
    expect(() => invertibleDownsample({ factor: 2 }).apply(tf.zeros([1, 3, 4, 1]))).toThrow(/invertibleDownsample.apply: expected an NHWC input whose height and width are multiples of 2/);
    expect(() => upsampleNearest({ factor: -1 })).toThrow(/upsampleNearest: factor must be a positive integer/);
    const m = maxMin();
    m.dispose();
    m.dispose();
    expect(() => m.apply(tf.zeros([1, 2]))).toThrow(/maxMin.apply: this object was disposed/);
  });

  it('no leaks', async () => {
    const x = seededNormal([2, 4, 4, 4], 3);
    for (const layer of [maxMin(), groupSort({ groupSize: 4 }), relu(), flatten(), invertibleDownsample({ factor: 2 }), upsampleNearest({ factor: 2 })]) {
      await expectNoLeaks(() => layer.apply(x));
      await expectNoLeaks(() => tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t)))(x));
    }
  });
});
