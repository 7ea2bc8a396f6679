import { LipschitzError } from '@lipschitz/core';
import { describeBackends, expectClose, expectNoLeaks, finiteDifferenceGradient, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { Matrix, inverse as mlInverse, solve as mlSolve } from 'ml-matrix';
import { expect, it } from 'vitest';
import { checkedInverse, checkedSolve, conditionNumber, inverse, solve } from './solve';

/** Host float64 reference (ml-matrix LU) for each matrix of a batch. */
async function hostSolve(a: tf.Tensor, b: tf.Tensor): Promise<number[]> {
  const n = a.shape[a.rank - 1];
  const k = b.shape[b.rank - 1];
  const ad = await a.data();
  const bd = await b.data();
  const out: number[] = [];
  for (let i = 0; i < ad.length / (n * n); i++) {
    const am = new Matrix(n, n);
    const bm = new Matrix(n, k);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) am.set(r, c, ad[i * n * n + r * n + c]);
      for (let c = 0; c < k; c++) bm.set(r, c, bd[i * n * k + r * k + c]);
    }
    out.push(...mlSolve(am, bm).to1DArray());
  }
  return out;
}

/** A well-conditioned matrix: 2I + 0.3·N(0,1)/√n noise. */
function wellConditioned(shape: number[], seed: number): tf.Tensor {
  const n = shape[shape.length - 1];
  return tf.tidy(() => tf.add(tf.mul(tf.eye(n), 2), seededNormal(shape, seed, 0.3 / Math.sqrt(n))));
}

describeBackends('solve / inverse', () => {
  it('solve matches the float64 host solution (batched, several right-hand sides)', async () => {
    const a = tf.add(seededNormal([2, 3, 6, 6], 1), tf.mul(tf.eye(6), 0.5));
    const b = seededNormal([2, 3, 6, 4], 2);
    const x = solve(a, b);
    expect(x.shape).toEqual([2, 3, 6, 4]);
    await expectClose(x, await hostSolve(a, b), { atol: 1e-4, rtol: 1e-4 });
  });

  it('pivots: a zero leading entry and a permutation matrix', async () => {
    await expectClose(solve(tf.tensor2d([[0, 1], [1, 0]]), tf.tensor2d([[3], [5]])), [5, 3], { atol: 0 });
    const a = tf.tensor2d([
      [0, 2, 1],
      [1e-3, 1, 0],
      [4, 0, 1],
    ]);
    const b = tf.tensor2d([[1], [2], [3]]);
    await expectClose(solve(a, b), await hostSolve(a, b), { atol: 1e-5, rtol: 1e-5 });
  });

  it('inverse matches the host inverse and A·A⁻¹ = I', async () => {
    const a = wellConditioned([3, 5, 5], 3);
    const inv = inverse(a);
    const data = await a.data();
    const want: number[] = [];
    for (let i = 0; i < 3; i++) {
      const m = new Matrix(5, 5);
      for (let r = 0; r < 5; r++) for (let c = 0; c < 5; c++) m.set(r, c, data[i * 25 + r * 5 + c]);
      want.push(...mlInverse(m).to1DArray());
    }
    await expectClose(inv, want, { atol: 1e-5, rtol: 1e-5 });
    await expectClose(tf.matMul(a, inv), tf.tile(tf.reshape(tf.eye(5), [1, 5, 5]), [3, 1, 1]), { atol: 1e-5 });
  });

  it('gradients of solve (in a and in b) match finite differences', async () => {
    const a = wellConditioned([3, 3], 4);
    const b = seededNormal([3, 2], 5);
    const r = seededNormal([3, 2], 6);
    const fa = (x: tf.Tensor) => tf.sum(tf.mul(solve(x, b), r)) as tf.Scalar;
    const fb = (x: tf.Tensor) => tf.sum(tf.mul(solve(a, x), r)) as tf.Scalar;
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(solve(x, y), r)) as tf.Scalar)([a, b]);
    await expectClose(ga, [...(await finiteDifferenceGradient(fa, a, 1e-2)).values()], { atol: 2e-3, rtol: 1e-2 });
    await expectClose(gb, [...(await finiteDifferenceGradient(fb, b, 1e-2)).values()], { atol: 2e-3, rtol: 1e-2 });
  });

  it('gradient of inverse matches finite differences (batched)', async () => {
    const a = wellConditioned([2, 3, 3], 7);
    const r = seededNormal([2, 3, 3], 8);
    const f = (x: tf.Tensor) => tf.sum(tf.mul(inverse(x), r)) as tf.Scalar;
    const g = tf.grad(f)(a);
    await expectClose(g, [...(await finiteDifferenceGradient(f, a, 1e-2)).values()], { atol: 2e-3, rtol: 1e-2 });
  });

  it('leaves no tensors behind', async () => {
    const a = wellConditioned([2, 4, 4], 9);
    const b = seededNormal([2, 4, 1], 10);
    await expectNoLeaks(() => solve(a, b));
    await expectNoLeaks(() => inverse(a));
    await expectNoLeaks(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(solve(x, y)))([a, b]));
    await expectNoLeaks(() => tf.grad((x: tf.Tensor) => tf.sum(inverse(x)))(a));
    await expectNoLeaks(() => checkedSolve(a, b));
    await expectNoLeaks(() => checkedInverse(a));
  });

  it('singular and ill-conditioned input: solve gives non-finite values, checked* throw NUMERICAL_ERROR', async () => {
    const singular = tf.tensor2d([
      [1, 2],
      [2, 4],
    ]);
    const x = await solve(singular, tf.tensor2d([[1], [1]])).data();
    expect(Array.from(x).some((v) => !Number.isFinite(v))).toBe(true);
    await expect(checkedSolve(singular, tf.tensor2d([[1], [1]]))).rejects.toThrow(/^checkedSolve: matrix 0 is singular/);
    const ill = tf.tensor2d([
      [1, 0],
      [0, 1e-6],
    ]);
    await expect(checkedInverse(ill)).rejects.toThrow(/^checkedInverse: matrix 0 is ill-conditioned \(condition number 1\.000e\+6 > 100000\)/);
    await expect(checkedInverse(ill)).rejects.toSatisfy((e) => LipschitzError.isInstance(e) && e.code === 'NUMERICAL_ERROR');
    await expectClose(await checkedInverse(ill, { maxCondition: 1e7 }), [1, 0, 0, 1e6], { rtol: 1e-6 });
    expect((await conditionNumber(tf.tensor2d([[1, 0], [0, 1 / 1024]])))[0]).toBe(1024);
  });

  it('validates its arguments', async () => {
    expect(() => solve(tf.zeros([2, 3]), tf.zeros([2, 1]))).toThrow(/^solve: a must be square in its last two axes, got shape \[2, 3\]/);
    expect(() => solve(tf.eye(2), tf.zeros([3, 1]))).toThrow(/^solve: b must have shape \[2, k\] to match a \[2, 2\], got \[3, 1\]/);
    expect(() => solve(tf.eye(2), tf.zeros([2]))).toThrow(/^solve: b must have rank >= 2/);
    expect(() => inverse(tf.zeros([2, 2], 'int32'))).toThrow(/^inverse: a must be float32, got int32/);
    expect(() => inverse(tf.zeros([3]))).toThrow(/^inverse: a must have rank >= 2/);
    expect(() => inverse([[1]] as never)).toThrow(/^inverse: a must be a tf.Tensor/);
    const gone = tf.eye(2);
    gone.dispose();
    expect(() => solve(gone, tf.ones([2, 1]))).toThrow(/^solve: a was disposed/);
    await expect(checkedSolve(tf.eye(2), tf.ones([2, 1]), { maxCondition: 0 })).rejects.toThrow(/^checkedSolve: maxCondition must be a number >= 1, got 0/);
    await expect(conditionNumber(tf.tensor2d([[Number.NaN, 0], [0, 1]]))).rejects.toThrow(/^conditionNumber: matrix 0 has a non-finite entry/);
  });
});
