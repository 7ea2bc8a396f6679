import { LipschitzError, assertRank } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { circularPadBy } from './circular-pad';

/**
 * The adjoint (transpose) `Kᵀ` of the stride-1 circular convolution `K = circularConv2d(·, kernel)` of
 * `@lipschitz/blockconv` (padding ⌊k/2⌋ before and k − 1 − ⌊k/2⌋ after along each axis, as the
 * reference), applied to an NHWC map `y`:
 *
 * `(Kᵀy)[n, p, q, c] = Σ_{u,v,o} K[u, v, c, o] · y[n, (p − u + ⌊kh/2⌋) mod h, (q − v + ⌊kw/2⌋) mod w, o]`,
 *
 * computed as a circular cross-correlation with the spatially flipped, in/out-transposed kernel and the
 * **mirrored** padding offsets (k − 1 − ⌊k/2⌋ before, ⌊k/2⌋ after). It satisfies
 * `⟨K x, y⟩ = ⟨x, Kᵀ y⟩` for every kernel size. The reference's OSSN uses the flipped kernel with the
 * *same* padding as the forward conv, which is the adjoint only for odd k: for even k (every strided
 * layer after invertible downsampling) its power iteration does not estimate ‖K‖₂
 * (reference-bcop.md §4, "Measured defect"). Differentiable (slice, concat, reverse, transpose, conv2d).
 *
 * Ownership: arguments are borrowed; the result is owned by the caller.
 *
 * @param y NHWC map `[batch, h, w, cout]` (the output space of K).
 * @param kernel HWIO kernel `[kh, kw, cin, cout]` of K (kh ≤ h, kw ≤ w).
 * @returns `[batch, h, w, cin]`.
 * @throws LipschitzError `SHAPE_MISMATCH` when ranks or channel counts do not match or the kernel is
 *   larger than the map.
 * @example
 * ```ts
 * const x = circularConv2dAdjoint(y, kernel); // <circularConv2d(z, kernel), y> == <z, x> for every z
 * ```
 * Reference: Li et al. 2019, LConvNet `ossn.py` (its defect fixed); Miyato et al. 2018, "Spectral
 * Normalization for Generative Adversarial Networks" (power iteration with the operator's adjoint).
 */
export function circularConv2dAdjoint(y: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor4D {
  const fn = 'circularConv2dAdjoint';
  assertRank(fn, 'y (NHWC)', y.shape, 4);
  assertRank(fn, 'kernel (HWIO)', kernel.shape, 4);
  const [kh, kw, , cout] = kernel.shape;
  if (y.shape[3] !== cout) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: y has ${y.shape[3]} channels but kernel [${kernel.shape.join(', ')}] has ${cout} output channels. Pass y in the output space of the convolution.`,
    );
  }
  if (kh > y.shape[1] || kw > y.shape[2]) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: the kernel (${kh}×${kw}) must not be larger than the map (${y.shape[1]}×${y.shape[2]}).`,
    );
  }
  return tf.tidy(() => {
    const flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    // The forward padding (⌊k/2⌋ before, k − 1 − ⌊k/2⌋ after) mirrored.
    const padded = circularPadBy(y, { before: kh - 1 - Math.floor(kh / 2), after: Math.floor(kh / 2) }, { before: kw - 1 - Math.floor(kw / 2), after: Math.floor(kw / 2) });
    return tf.conv2d(padded, flipped, 1, 'valid');
  });
}
