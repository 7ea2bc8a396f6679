import { LipschitzError } from '@lipschitz/core';
import { describeBackends, expectClose, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { polarFactor } from '../test/helpers';
import { symmetricProjector } from './symmetric-projector';

/** n × n orthogonal matrices (float64 polar factors of deterministic well-conditioned matrices). */
function orthogonal(n: number, seed: number): Float32Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * n + j] = (i === j ? 1 : 0) + 0.4 * Math.sin(seed + 1.3 * i + 2.1 * j + 0.7 * i * j);
  return Float32Array.from(polarFactor(m, n));
}

/** Host R_m R_mᵀ with the first `rank` columns of a row-major rows × n matrix. */
function hostProjector(r: ArrayLike<number>, rows: number, n: number, rank: number): Float64Array {
  const p = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < rows; j++) for (let k = 0; k < rank; k++) p[i * rows + j] += r[i * n + k] * r[j * n + k];
  return p;
}

describeBackends('symmetricProjector', () => {
  it('is R_m R_mᵀ with the first ⌊n/2⌋ columns, a symmetric idempotent of that rank', async () => {
    for (const n of [1, 2, 5, 6]) {
      const r = orthogonal(n, n);
      const p = symmetricProjector(tf.tensor2d(r, [n, n]));
      expect(p.shape).toEqual([n, n]);
      const rank = Math.floor(n / 2);
      await expectClose(p, hostProjector(r, n, n, rank), { atol: 1e-6 });
      await expectClose(p, tf.transpose(p), { atol: 1e-7 });
      await expectClose(tf.matMul(p, p), p, { atol: 1e-6 });
      expect((await tf.sum(tf.mul(p, tf.eye(n))).data())[0]).toBeCloseTo(rank, 5); // trace = rank
    }
  });

  it('is batched over leading dimensions and takes an explicit rank (including 0 and n)', async () => {
    const n = 4;
    const stack = [0, 1, 2, 3, 4, 5].map((s) => orthogonal(n, s));
    const r = tf.tensor4d(stack.flatMap((m) => Array.from(m)), [2, 3, n, n]);
    for (const rank of [0, 1, 3, 4]) {
      const p = symmetricProjector(r, rank);
      expect(p.shape).toEqual([2, 3, n, n]);
      await expectClose(
        p,
        stack.flatMap((m) => Array.from(hostProjector(m, n, n, rank))),
        { atol: 1e-6 },
      );
    }
    // A tall non-square input: rows × n with n = 2 columns.
    const tall = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    await expectClose(symmetricProjector(tall), hostProjector([1, 2, 3, 4, 5, 6], 3, 2, 1), { atol: 1e-5 });
  });

  it('has the gradient of R_m R_mᵀ (∂<P, G>/∂R = (G + Gᵀ) R_m on the kept columns, 0 elsewhere)', async () => {
    const n = 4;
    const r = tf.tensor2d(orthogonal(n, 9), [n, n]);
    const g = tf.tensor2d([1, 2, 0, -1, 0.5, 1, 3, 0, -2, 1, 1, 1, 0, 0, 2, -1], [n, n]);
    const dr = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(symmetricProjector(x), g)))(r);
    const rm = tf.slice(r, [0, 0], [n, 2]);
    const expected = tf.concat([tf.matMul(tf.add(g, tf.transpose(g)), rm), tf.zeros([n, 2])], 1);
    await expectClose(dr, expected, { atol: 1e-5 });
    // rank 0 still differentiates (to zero) instead of disconnecting r.
    const d0 = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(symmetricProjector(x, 0), g)))(r);
    await expectClose(d0, new Float32Array(n * n), { atol: 0 });
  });

  it('does not leak', async () => {
    const r = tf.tensor3d([...orthogonal(4, 1), ...orthogonal(4, 2)], [2, 4, 4]);
    await expectNoLeaks(() => symmetricProjector(r));
    await expectNoLeaks(() => symmetricProjector(r, 0));
    await expectNoLeaks(() => symmetricProjector(r, 4));
  });

  it('validates its arguments', () => {
    const r = tf.zeros([3, 4]);
    expect(() => symmetricProjector(tf.zeros([4]))).toThrow(/^symmetricProjector: r must be a matrix or a batch of matrices \[\.\.\., rows, n\], got shape \[4\]/);
    expect(() => symmetricProjector(r, 5)).toThrow(/^symmetricProjector: rank must be at most the number of columns 4, got 5/);
    try {
      symmetricProjector(r, -1);
      expect.fail('did not throw');
    } catch (e) {
      expect(LipschitzError.isInstance(e) && e.code).toBe('INVALID_ARGUMENT');
      expect((e as Error).message).toMatch(/^symmetricProjector: rank must be a non-negative integer, got -1/);
    }
  });
});
