import { describeBackends, expectClose, expectNoLeaks, finiteDifferenceGradient, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { solve } from '@lipschitz/linalg';
import { batchSingularValues, maxDeviationFromOne } from '../test/oracle';
import { cayley, cayleyRectangular } from './cayley';

describeBackends('cayley', () => {
  it('square: orthogonal, and Q (I + S) = I − S for the skew part S (batched)', async () => {
    const a = seededNormal([3, 6, 6], 1);
    const q = cayley(a);
    expect(q.shape).toEqual([3, 6, 6]);
    expect(maxDeviationFromOne(await batchSingularValues(q))).toBeLessThan(2e-6);
    const s = tf.mul(tf.sub(a, tf.transpose(a, [0, 2, 1])), 0.5);
    const eye = tf.eye(6);
    await expectClose(tf.matMul(q, tf.add(eye, s)), tf.sub(eye, s), { atol: 2e-5 });
    // the same as the pivoted Gauss–Jordan solve of @lipschitz/linalg
    await expectClose(q, solve(tf.add(eye, s), tf.sub(eye, s)), { atol: 2e-5 });
    // a symmetric matrix has S = 0, hence Q = I
    const sym = tf.add(tf.eye(4), tf.ones([4, 4]));
    await expectClose(cayley(sym), tf.eye(4), { atol: 1e-6 });
  });

  it('tall (Stiefel form) has orthonormal columns and equals the first columns of the square Cayley of [[K, −Vᵀ], [V, 0]]', async () => {
    const a = seededNormal([9, 4], 2);
    const q = cayley(a);
    expect(q.shape).toEqual([9, 4]);
    expect(maxDeviationFromOne(await batchSingularValues(q))).toBeLessThan(2e-6);
    // B = [[U, 0], [2V, 0]] has skew part [[K, −Vᵀ], [V, 0]]
    const u = tf.slice(a, [0, 0], [4, 4]);
    const v = tf.slice(a, [4, 0], [5, 4]);
    const b = tf.concat([tf.concat([u, tf.zeros([4, 5])], 1), tf.concat([tf.mul(v, 2), tf.zeros([5, 5])], 1)], 0);
    await expectClose(q, cayleyRectangular(b, 4), { atol: 2e-5 });
    // wide is the transpose of tall
    await expectClose(cayley(tf.transpose(a)), tf.transpose(q), { atol: 1e-6 });
  });

  it('the block-recursive inverse handles odd sizes, larger matrices and large skew parts', async () => {
    // ‖S‖ ≈ 100 makes I + S ill-conditioned (cond ≈ ‖S‖): float32 error grows with it, for any method
    for (const [n, scale, tol] of [
      [7, 1, 2e-5],
      [33, 1, 2e-5],
      [16, 30, 1e-4],
    ]) {
      const a = tf.mul(seededNormal([n, n], n), scale);
      const q = cayley(a);
      expect(maxDeviationFromOne(await batchSingularValues(q))).toBeLessThan(tol);
      const s = tf.mul(tf.sub(a, tf.transpose(a)), 0.5);
      await expectClose(q, solve(tf.add(tf.eye(n), s), tf.sub(tf.eye(n), s)), { atol: 1e-4 });
    }
  });

  it('cayleyRectangular: orthonormal columns, the first columns of cayley', async () => {
    const a = seededNormal([2, 7, 7], 3);
    const q = cayleyRectangular(a, 3);
    expect(q.shape).toEqual([2, 7, 3]);
    expect(maxDeviationFromOne(await batchSingularValues(q))).toBeLessThan(2e-6);
    await expectClose(q, tf.slice(cayley(a), [0, 0, 0], [2, 7, 3]), { atol: 2e-6 });
  });

  it('gradients match finite differences (square, tall, rectangular)', async () => {
    for (const [shape, f] of [
      [[3, 3], (x: tf.Tensor) => cayley(x)],
      [[5, 3], (x: tf.Tensor) => cayley(x)],
      [[4, 4], (x: tf.Tensor) => cayleyRectangular(x, 2)],
    ] as [number[], (x: tf.Tensor) => tf.Tensor][]) {
      const a = seededNormal(shape, shape[0] * 7);
      const r = seededNormal(f(a).shape, 99);
      const loss = (x: tf.Tensor) => tf.sum(tf.mul(f(x), r)) as tf.Scalar;
      await expectClose(tf.grad(loss)(a), [...(await finiteDifferenceGradient(loss, a, 1e-2)).values()], { atol: 3e-3, rtol: 1e-2 });
    }
  });

  it('leaves no tensors behind', async () => {
    const a = seededNormal([2, 5, 3], 4);
    await expectNoLeaks(() => cayley(a));
    await expectNoLeaks(() => tf.grad((x: tf.Tensor) => tf.sum(cayley(x)))(a));
    const sq = seededNormal([4, 4], 5);
    await expectNoLeaks(() => cayleyRectangular(sq, 2));
  });

  it('validates its arguments', () => {
    expect(() => cayley(tf.zeros([3]))).toThrow(/^cayley: a must have rank >= 2/);
    expect(() => cayleyRectangular(tf.zeros([3, 2]), 1)).toThrow(/^cayleyRectangular: a must be square in its last two axes, got shape \[3, 2\]/);
    expect(() => cayleyRectangular(tf.zeros([3, 3]), 4)).toThrow(/^cayleyRectangular: columns must be at most 3 \(the size of a\), got 4/);
    expect(() => cayleyRectangular(tf.zeros([3, 3]), 0)).toThrow(/^cayleyRectangular: columns must be a positive integer, got 0/);
  });
});
