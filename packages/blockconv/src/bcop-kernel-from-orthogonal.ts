import { LipschitzError, assertRank } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { type BcopShape, checkedParamsShape } from './bcop-initial-params';
import { blockOrthTaps, convolveWithTaps } from './block-conv';
import { symmetricProjector } from './symmetric-projector';

/** @internal Validates BCOP parameters (or their orthogonalized stack) against `shape`. */
export function assertBcopStack(fn: string, name: string, stack: tf.Tensor, shape: BcopShape): [number, number] {
  const [count, cmax] = checkedParamsShape(fn, shape);
  assertRank(fn, name, stack.shape, 3);
  if (stack.shape[0] !== count || stack.shape[1] !== cmax || stack.shape[2] !== cmax) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: ${name} must have shape [${count}, ${cmax}, ${cmax}] = [2(kernelSize − 1) + 1, cmax, cmax] with cmax = max(inChannels, outChannels) = ${cmax} for inChannels ${shape.inChannels}, outChannels ${shape.outChannels}, kernelSize ${shape.kernelSize}; got [${stack.shape.join(', ')}]. Create parameters with bcopInitialParams.`,
    );
  }
  return [count, cmax];
}

/**
 * Steps 2–6 of the BCOP kernel construction from an already orthogonalized stack
 * `ortho = [H₀, R₁, R₂, …]` of shape `[2(k − 1) + 1, cmax, cmax]` (see `bcopKernel`, which runs Björck
 * first). With `H = H₀[:cin, :cout]`, projectors `P_i = R_{2i−1,m} R_{2i−1,m}ᵀ`, `Q_i = R_{2i,m} R_{2i,m}ᵀ` of
 * rank `⌊cmax/2⌋` (first columns kept), `B_i = blockOrth(P_i, Q_i)` and the grid
 * `p = B_1 □ B_2 □ … □ B_{k−1}` (`k × k` blocks of `cmax × cmax`), the HWIO kernel is
 * - `cin ≤ cout`: `kernel[u, v] = H @ p[v, u]` (an isometry: all `cin·h·w` singular values are 1);
 * - `cin > cout`: `kernel[u, v] = p[v, u]ᵀ @ H` (a co-isometry: all `cout·h·w` singular values are 1);
 * - `k = 1`: `kernel[0, 0] = H`.
 * This is exactly the reference weight: `kernel[u, v, c, o] = weight_OIHW[o, c, u, v]`.
 * Computed without transposes: `H` is folded into the block-convolution chain (`H □ B₁ᵗ □ … ` for
 * `cin ≤ cout`, `B_{k−1}ᵗᵀ □ … □ B₁ᵗᵀ □ H` otherwise, `ᵗ` = spatial transpose, `ᵀ` = per-tap transpose).
 *
 * Ownership: `ortho` is borrowed; the result `[k, k, cin, cout]` is owned by the caller.
 * Differentiable with respect to `ortho`.
 *
 * @example
 * ```ts
 * const kernel = bcopKernelFromOrthogonal(ortho, { inChannels: 4, outChannels: 8, kernelSize: 3 });
 * ```
 * Reference: Li et al. 2019, Alg. 1; LConvNet `BCOP.forward` (reference-bcop.md §1.3, with the fixed
 * loop of step 5 and the non-square handling of step 6).
 * @throws LipschitzError `SHAPE_MISMATCH` when `ortho` does not have the shape above;
 *   `INVALID_ARGUMENT` for bad channel counts or kernel size.
 */
export function bcopKernelFromOrthogonal(ortho: tf.Tensor3D, shape: BcopShape): tf.Tensor4D {
  const fn = 'bcopKernelFromOrthogonal';
  const [, n] = assertBcopStack(fn, 'ortho', ortho, shape);
  const { inChannels: cin, outChannels: cout, kernelSize: k } = shape;
  return tf.tidy(() => {
    const h = tf.reshape(tf.slice(ortho, [0, 0, 0], [1, cin, cout]), [cin, cout]);
    if (k === 1) return tf.reshape(h, [1, 1, cin, cout]) as tf.Tensor4D;
    const flipped = cin > cout;
    // Matrix m of the stack as [n, n]. Everything below is 2-D: tfjs-backend-wasm's BatchMatMul is
    // 10–100× slower for a batch of matrices than for one (measured, n = 128/256).
    const at = (m: number) => tf.reshape(tf.slice(ortho, [m, 0, 0], [1, n, n]), [n, n]);
    // Pair i (0-based): P = R_m R_mᵀ of matrix 2i + 1, Q of matrix 2i + 2, rank ⌊cmax/2⌋; taps of
    // B_iᵗ (prod = PQ) or of its per-tap transpose (prod = QP).
    const taps = (i: number) => {
      const p = symmetricProjector(at(2 * i + 1));
      const q = symmetricProjector(at(2 * i + 2));
      return blockOrthTaps(p, q, flipped ? tf.matMul(q, p) : tf.matMul(p, q), true);
    };
    const sideBySide = (i: number) => tf.concat(taps(i), 1); // [n, 4n]
    if (!flipped) {
      // kernel = H □ B₁ᵗ □ B₂ᵗ □ … □ B_{k−1}ᵗ, H as a 1×1 block kernel [1, 1, cin, n].
      let grid: tf.Tensor = tf.reshape(h, [1, 1, cin, n]);
      for (let i = 0; i < k - 1; i++) grid = convolveWithTaps(grid, sideBySide(i), 2, 2);
      return grid as tf.Tensor4D;
    }
    // kernel = B_{k−1}ᵗᵀ □ … □ B₁ᵗᵀ □ H.
    let grid: tf.Tensor = tf.reshape(tf.stack(taps(k - 2)), [2, 2, n, n]);
    for (let i = k - 3; i >= 0; i--) grid = convolveWithTaps(grid, sideBySide(i), 2, 2);
    return tf.reshape(tf.matMul(tf.reshape(grid, [k * k * n, n]), h), [k, k, n, cout]) as tf.Tensor4D;
  });
}
