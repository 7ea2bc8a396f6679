import { describeBackends, expectClose, expectNoLeaks, finiteDifferenceGradient, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { expect, it } from 'vitest';
import { inverseSquareRoot } from './inverse-square-root';

/** Host float64 A^{-1/2} by symmetric eigendecomposition (ml-matrix). */
function hostInverseSqrt(values: ArrayLike<number>, n: number): number[] {
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, values[i * n + j]);
  const eig = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const v = eig.eigenvectorMatrix;
  const d = Matrix.diag(eig.realEigenvalues.map((l) => 1 / Math.sqrt(l)));
  return v.mmul(d).mmul(v.transpose()).to1DArray();
}

describeBackends('inverseSquareRoot', () => {
  it('matches the float64 eigendecomposition on batched SPD matrices', async () => {
    const x = seededNormal([2, 6, 4], 1);
    const spd = tf.add(tf.matMul(tf.transpose(x, [0, 2, 1]), x), tf.mul(tf.eye(4), 0.5));
    const r = inverseSquareRoot(spd, { iterations: 30 });
    const data = await spd.data();
    await expectClose(r, [...hostInverseSqrt(data.subarray(0, 16), 4), ...hostInverseSqrt(data.subarray(16), 4)], { atol: 1e-4, rtol: 1e-3 });
    await expectClose(inverseSquareRoot(tf.tensor2d([[4, 0], [0, 9]]), { iterations: 25 }), [0.5, 0, 0, 1 / 3], { atol: 1e-6 });
  });

  it('gradient matches finite differences', async () => {
    const spd = tf.tensor2d([
      [2, 0.3, 0.1],
      [0.3, 1.5, -0.2],
      [0.1, -0.2, 1],
    ]);
    const r = seededNormal([3, 3], 2);
    const f = (x: tf.Tensor) => tf.sum(tf.mul(inverseSquareRoot(x, { iterations: 12 }), r)) as tf.Scalar;
    await expectClose(tf.grad(f)(spd), [...(await finiteDifferenceGradient(f, spd, 1e-2)).values()], { atol: 2e-3, rtol: 1e-2 });
  });

  it('leaves no tensors behind', async () => {
    const spd = tf.add(tf.eye(3), tf.mul(tf.ones([3, 3]), 0.1));
    await expectNoLeaks(() => inverseSquareRoot(spd, { iterations: 3 }));
    await expectNoLeaks(() => tf.grad((x: tf.Tensor) => tf.sum(inverseSquareRoot(x, { iterations: 3 })))(spd));
  });

  it('validates its arguments', () => {
    expect(() => inverseSquareRoot(tf.zeros([2, 3]))).toThrow(/^inverseSquareRoot: a must be square/);
    expect(() => inverseSquareRoot(tf.eye(2), { iterations: 0 })).toThrow(/^inverseSquareRoot: iterations must be a positive integer, got 0/);
  });
});
