import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkMatrixTensor, positiveRealInverse, transposeLast } from '@lipschitz/linalg';
import { batchEye } from './matrix-batch';

function toBatch(a: tf.Tensor): tf.Tensor3D {
  const r = a.shape[a.rank - 2];
  const c = a.shape[a.rank - 1];
  return tf.reshape(a, [a.size / (r * c), r, c]);
}

/** @internal Cayley of a tall batch `[B, m, n]` (m ≥ n) in the Stiefel form; square when m = n. */
function cayleyTall(a: tf.Tensor3D): tf.Tensor3D {
  const [batch, m, n] = a.shape;
  const u = m === n ? a : (tf.slice(a, [0, 0, 0], [batch, n, n]) as tf.Tensor3D);
  let s = tf.mul(tf.sub(u, transposeLast(u)), 0.5) as tf.Tensor3D; // skew part K
  let v: tf.Tensor3D | undefined;
  if (m > n) {
    v = tf.slice(a, [0, n, 0], [batch, m - n, n]) as tf.Tensor3D;
    s = tf.add(s, tf.matMul(transposeLast(v), v)) as tf.Tensor3D; // A = K + VᵀV
  }
  const eye = batchEye(batch, n);
  const inv = positiveRealInverse(tf.add(eye, s) as tf.Tensor3D);
  const x = tf.sub(tf.mul(inv, 2), eye) as tf.Tensor3D; // (I + A)⁻¹(I − A) = 2(I + A)⁻¹ − I
  if (v === undefined) return x;
  const y = tf.mul(tf.matMul(v, inv), -2); // −2 V (I + A)⁻¹
  return tf.concat([x, y], 1) as tf.Tensor3D;
}

/**
 * The Cayley transform: an orthogonal matrix from an unconstrained one, differentiably.
 *
 * Square `a` (n × n): with `S = (A − Aᵀ)/2` (its skew-symmetric part), `Q = (I − S)(I + S)⁻¹`
 * (= `(I + S)⁻¹(I − S)` = `2(I + S)⁻¹ − I`, the factors commute). `I + S` is never singular
 * (its eigenvalues are 1 + iθ). Q is orthogonal with no eigenvalue −1.
 * Tall `a` (m × n, m > n): the Stiefel form of Trockman & Kolter: `a = [U; V]`, `A = K + VᵀV` with
 * `K = (U − Uᵀ)/2`, `Q = [(I + A)⁻¹(I − A); −2V(I + A)⁻¹]` — the first n columns of the Cayley transform
 * of the m × m skew matrix `[[K, −Vᵀ], [V, 0]]`, so QᵀQ = I (n × n inverse only). Wide `a` is transposed.
 * Batched over leading axes. `(I + A)⁻¹` is computed by recursive Schur-complement block elimination
 * without pivoting, which is safe because the symmetric part of `I + A` is `I + VᵀV ≻ 0`; it is
 * matMul-bound and differentiable with tfjs's own gradients (no n-step elimination loop).
 *
 * Unlike Björck this is a parametrisation, not a projection: `cayley(a)` is not the polar factor of a.
 *
 * Ownership: `a` is borrowed; the result (same shape) is owned by the caller. Runs in `tf.tidy`.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` (rank < 2), `INVALID_ARGUMENT` (non-float32), `DISPOSED`.
 * @example
 * ```ts
 * const q = cayley(tf.randomNormal([8, 8]));        // 8×8 orthogonal
 * const stiefel = cayley(tf.randomNormal([10, 4])); // 10×4 with orthonormal columns
 * ```
 * @see A. Cayley, 1846; A. Trockman, J. Z. Kolter, "Orthogonalizing Convolutional Layers with the
 *   Cayley Transform", ICLR 2021; Helfrich et al., "Orthogonal recurrent neural networks with scaled
 *   Cayley transform", ICML 2018.
 */
export function cayley(a: tf.Tensor): tf.Tensor {
  checkMatrixTensor('cayley', 'a', a);
  return tf.tidy(() => {
    const a3 = toBatch(a);
    const wide = a3.shape[1] < a3.shape[2];
    const q = cayleyTall(wide ? transposeLast(a3) : a3);
    return tf.reshape(wide ? transposeLast(q) : q, a.shape);
  });
}

/**
 * The first `columns` columns of the square Cayley transform of `a` (`[..., m, m]` → `[..., m, columns]`):
 * `(2(I + S)⁻¹ − I) E` with `S = (A − Aᵀ)/2` and `E` the first `columns` columns of I (block-recursive
 * inverse as in {@link cayley}). The columns are orthonormal. Differentiable.
 *
 * Ownership: `a` is borrowed; the result is owned by the caller. Runs in `tf.tidy`.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` (non-square a), `INVALID_ARGUMENT` (columns not in 1..m, non-float32), `DISPOSED`.
 * @example
 * ```ts
 * const q = cayleyRectangular(tf.randomNormal([16, 16]), 4); // 16×4, orthonormal columns
 * ```
 * @see A. Trockman, J. Z. Kolter, "Orthogonalizing Convolutional Layers with the Cayley Transform", ICLR 2021.
 */
export function cayleyRectangular(a: tf.Tensor, columns: number): tf.Tensor {
  checkMatrixTensor('cayleyRectangular', 'a', a);
  const m = a.shape[a.rank - 1];
  if (a.shape[a.rank - 2] !== m) {
    throw new LipschitzError('SHAPE_MISMATCH', `cayleyRectangular: a must be square in its last two axes, got shape [${a.shape.join(', ')}].`);
  }
  assertPositiveInteger('cayleyRectangular', 'columns', columns);
  if (columns > m) {
    throw new LipschitzError('INVALID_ARGUMENT', `cayleyRectangular: columns must be at most ${m} (the size of a), got ${columns}.`);
  }
  return tf.tidy(() => {
    const a3 = toBatch(a);
    const batch = a3.shape[0];
    const s = tf.mul(tf.sub(a3, transposeLast(a3)), 0.5);
    const eye = batchEye(batch, m);
    const inv = positiveRealInverse(tf.add(eye, s) as tf.Tensor3D);
    const q = tf.slice(tf.sub(tf.mul(inv, 2), eye), [0, 0, 0], [batch, m, columns]);
    return tf.reshape(q, [...a.shape.slice(0, -1), columns]);
  });
}
