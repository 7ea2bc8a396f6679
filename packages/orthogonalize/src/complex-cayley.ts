import { LipschitzError } from '@lipschitz/core';
import { complexPositiveRealInverse, transposeLast } from '@lipschitz/linalg';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The Cayley transform of Trockman & Kolter (2021) for a batch of complex `nb × ns` matrices
 * `Z = zr + i·zi` (nb ≥ ns), with `U = Z[:ns]`, `V = Z[ns:]`:
 * `A = U − Uᴴ + VᴴV`, `Q = [(I + A)⁻¹(I − A); −2V(I + A)⁻¹]`, which has orthonormal columns (it is
 * the first ns columns of the Cayley transform of the skew-Hermitian `[Z 0] − [Z 0]ᴴ`). The complex
 * inverse is `complexPositiveRealInverse` of `@lipschitz/linalg` (a differentiable complex
 * Gauss–Jordan without pivoting: `I + A` has Hermitian part `I + VᴴV ⪰ I`, so it is safe and
 * ‖(I + A)⁻¹‖ ≤ 1), and `(I + A)⁻¹(I − A) = 2(I + A)⁻¹ − I`.
 *
 * **Skew convention.** The skew part here is `U − Uᴴ` (Trockman & Kolter's code), while the real
 * {@link cayley} uses `(U − Uᵀ)/2` (the skew-symmetric part of U). For a real `Z = [U; V]`,
 * `complexCayley(Z, 0)` equals `cayley([2U; V])`. Both are kept as they are, so trained layers keep
 * their numerics; pass `U/2` to switch between them.
 *
 * Ownership: arguments are borrowed; the results are owned by the caller. Runs in `tf.tidy`.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` (different shapes, not rank 3, or nb < ns).
 * @example
 * ```ts
 * const { re, im } = complexCayley(zr, zi); // [batch, nb, ns], orthonormal complex columns
 * ```
 * @see A. Trockman, J. Z. Kolter, "Orthogonalizing Convolutional Layers with the Cayley Transform",
 *   ICLR 2021 (its `cayley` function).
 */
export function complexCayley(zr: tf.Tensor3D, zi: tf.Tensor3D): { re: tf.Tensor3D; im: tf.Tensor3D } {
  if (zr.rank !== 3 || zi.rank !== 3 || zr.shape.some((d, i) => d !== zi.shape[i]) || zr.shape[1] < zr.shape[2]) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `complexCayley: zr and zi must have the same shape [batch, nb, ns] with nb >= ns, got [${zr.shape.join(', ')}] and [${zi.shape.join(', ')}]. Transpose wide matrices.`,
    );
  }
  return tf.tidy(() => complexCayleyTall(zr, zi));
}

function complexCayleyTall(zr: tf.Tensor3D, zi: tf.Tensor3D): { re: tf.Tensor3D; im: tf.Tensor3D } {
  const [batch, nb, ns] = zr.shape;
  const ur = tf.slice(zr, [0, 0, 0], [batch, ns, ns]);
  const ui = tf.slice(zi, [0, 0, 0], [batch, ns, ns]);
  let ar = tf.sub(ur, transposeLast(ur));
  let ai = tf.add(ui, transposeLast(ui));
  let vr: tf.Tensor3D | null = null;
  let vi: tf.Tensor3D | null = null;
  if (nb > ns) {
    vr = tf.slice(zr, [0, ns, 0], [batch, nb - ns, ns]);
    vi = tf.slice(zi, [0, ns, 0], [batch, nb - ns, ns]);
    const vrt = transposeLast(vr);
    const vit = transposeLast(vi);
    ar = tf.add(ar, tf.add(tf.matMul(vrt, vr), tf.matMul(vit, vi)));
    ai = tf.add(ai, tf.sub(tf.matMul(vrt, vi), tf.matMul(vit, vr)));
  }
  const eye = tf.expandDims(tf.eye(ns), 0);
  const sr = tf.add(ar, eye);
  const { re: rr, im: ri } = complexPositiveRealInverse(sr as tf.Tensor3D, ai as tf.Tensor3D);
  const topR = tf.sub(tf.mul(rr, 2), eye);
  const topI = tf.mul(ri, 2);
  if (vr === null || vi === null) return { re: topR as tf.Tensor3D, im: topI as tf.Tensor3D };
  const botR = tf.mul(tf.sub(tf.matMul(vr, rr), tf.matMul(vi, ri)), -2);
  const botI = tf.mul(tf.add(tf.matMul(vr, ri), tf.matMul(vi, rr)), -2);
  return { re: tf.concat([topR, botR], 1) as tf.Tensor3D, im: tf.concat([topI, botI], 1) as tf.Tensor3D };
}
