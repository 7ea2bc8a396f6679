import * as tf from '@tensorflow/tfjs-core';
import { checkMatrixTensor } from '@lipschitz/linalg';
import { gram, toTallBatch } from './matrix-batch';

/**
 * `‖WᵀW − I‖_F` on the smaller side (`WᵀW` for tall W, `WWᵀ` for wide), per matrix of the last two
 * axes: 0 exactly when W has orthonormal columns (tall) or rows (wide). Result shape: the leading axes
 * (a scalar for a single matrix). Differentiable (plain ops), e.g. as an orthogonality penalty.
 * Relation to singular values: `‖WᵀW − I‖_F = √Σ(σ_i² − 1)²`.
 *
 * Ownership: `w` is borrowed; the result is owned by the caller. Runs in `tf.tidy`.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` (rank < 2), `INVALID_ARGUMENT` (non-float32), `DISPOSED`.
 * @example
 * ```ts
 * const err = await orthogonalityError(bjorck(w)).data(); // ≈ 1e-6 after convergence
 * ```
 * @see Å. Björck, C. Bowie, SIAM J. Numer. Anal. 8 (1971).
 */
export function orthogonalityError(w: tf.Tensor): tf.Tensor {
  checkMatrixTensor('orthogonalityError', 'w', w);
  return tf.tidy(() => {
    const tall = toTallBatch(w);
    const n = tall.x.shape[2];
    const diff = tf.sub(gram(tall.x), tf.reshape(tf.eye(n), [1, n, n]));
    return tf.reshape(tf.norm(diff, 'euclidean', [1, 2]), w.shape.slice(0, -2));
  });
}
