import { LipschitzError, assertNonNegativeInteger } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The symmetric projector `P = R_m R_mᵀ`, where `R_m` keeps the first `rank` columns of `R`
 * (default `⌊n/2⌋` for `n` columns), batched over leading dimensions. When `R` has orthonormal
 * columns, `P` is the orthogonal projector onto the span of its first `rank` columns:
 * `P = Pᵀ = P²`, rank `rank`. This is how BCOP turns an orthogonalized square matrix into the
 * projectors of its 2×2 orthogonal blocks (the reference's `R * mask` then `R Rᵀ`; here the columns
 * are selected with `slice`, which is differentiable on every backend and halves the work).
 *
 * Ownership: `r` is borrowed; the result `[..., rows, rows]` is owned by the caller.
 *
 * @param r `[..., rows, n]`, usually orthogonal `n × n` matrices.
 * @param rank the number of leading columns kept, `0 ≤ rank ≤ n`; default `⌊n/2⌋` (the reference's
 *   fixed rank `⌊cmax/2⌋`).
 * @example
 * ```ts
 * const p = symmetricProjector(orthogonalMatrices); // [k, n, n], each of rank ⌊n/2⌋
 * ```
 * Reference: Li et al. 2019, Alg. 1 and LConvNet `bcop.py` (reference-bcop.md §1.3 step 3).
 * @throws LipschitzError `SHAPE_MISMATCH` when `r` has rank < 2; `INVALID_ARGUMENT` when `rank` is not
 *   an integer in `[0, n]`.
 */
export function symmetricProjector(r: tf.Tensor, rank?: number): tf.Tensor {
  const fn = 'symmetricProjector';
  if (r.rank < 2) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: r must be a matrix or a batch of matrices [..., rows, n], got shape [${r.shape.join(', ')}].`);
  }
  const rows = r.shape[r.rank - 2];
  const n = r.shape[r.rank - 1];
  const keep = rank ?? Math.floor(n / 2);
  assertNonNegativeInteger(fn, 'rank', keep);
  if (keep > n) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: rank must be at most the number of columns ${n}, got ${keep}.`);
  }
  const batchShape = r.shape.slice(0, -2);
  const batch = batchShape.reduce((a, b) => a * b, 1);
  return tf.tidy(() => {
    const r3 = tf.reshape(r, [batch, rows, n]);
    let p: tf.Tensor;
    if (keep === 0) {
      // Keep the result connected to r for gradients (it is identically zero).
      p = tf.mul(tf.matMul(r3, tf.transpose(r3, [0, 2, 1])), 0);
    } else {
      const rm = keep === n ? r3 : tf.slice(r3, [0, 0, 0], [batch, rows, keep]);
      p = tf.matMul(rm, tf.transpose(rm, [0, 2, 1]));
    }
    return tf.reshape(p, [...batchShape, rows, rows]);
  });
}
