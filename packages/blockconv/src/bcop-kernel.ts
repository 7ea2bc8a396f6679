import { assertPositiveInteger } from '@lipschitz/core';
import { bjorck } from '@lipschitz/orthogonalize';
import * as tf from '@tensorflow/tfjs-core';
import type { BcopShape } from './bcop-initial-params';
import { assertBcopStack, bcopKernelFromOrthogonal } from './bcop-kernel-from-orthogonal';

/** Options of {@link bcopKernel}. */
export interface BcopKernelOptions extends BcopShape {
  /**
   * Björck iterations (order 1, β = 0.5, power-iteration scaling: the reference's settings).
   * Default 20, as the reference.
   */
  iterations?: number;
}

/**
 * The BCOP orthogonal convolution kernel (HWIO `[k, k, cin, cout]`) from its unconstrained
 * parameters `params` `[2(k − 1) + 1, cmax, cmax]`, `cmax = max(cin, cout)` (index 0 → H, then
 * P1, Q1, P2, Q2, …), exactly as the reference code:
 * 1. `ortho = bjorck(params)` — all matrices at once (batched), `iterations` steps;
 * 2. `H = ortho[0][:cin, :cout]`; projectors `P_i, Q_i = R_m R_mᵀ` on the first `⌊cmax/2⌋` columns;
 * 3. `p = blockOrth(P1, Q1) □ blockOrth(P2, Q2) □ … □ blockOrth(P_{k−1}, Q_{k−1})` (the fixed loop);
 * 4. `cin ≤ cout`: `kernel[u, v] = H @ p[v, u]`; `cin > cout`: `kernel[u, v] = p[v, u]ᵀ @ H`; `k = 1`: H
 *    (see {@link bcopKernelFromOrthogonal}).
 * Result: `kernel[u, v, c, o] = reference_weight[o, c, u, v]`. With {@link circularConv2d} the layer
 * is orthogonal (`cin = cout`), an isometry (`cin < cout`: all `cin·h·w` singular values 1) or a
 * co-isometry (`cin > cout`: all `cout·h·w` singular values 1), up to Björck's convergence.
 * Differentiable with respect to `params` through every unrolled Björck step.
 *
 * Ownership: `params` is borrowed; the kernel is owned by the caller. Runs in `tf.tidy`.
 *
 * @example
 * ```ts
 * const params = tf.variable(bcopInitialParams({ inChannels: 16, outChannels: 16, kernelSize: 3, seed: 0 }));
 * const y = circularConv2d(x, bcopKernel(params, { inChannels: 16, outChannels: 16, kernelSize: 3 }));
 * ```
 * Reference: Li, Haque, Anil, Lucas, Grosse, Jacobsen, "Preventing Gradient Attenuation in Lipschitz
 * Constrained Convolutional Networks", NeurIPS 2019, Alg. 1; LConvNet `bcop.py` (reference-bcop.md §1).
 * @throws LipschitzError `SHAPE_MISMATCH` when `params` does not have the shape above; `INVALID_ARGUMENT`
 *   for non-positive-integer channels, kernel size or iterations.
 */
export function bcopKernel(params: tf.Tensor3D, options: BcopKernelOptions): tf.Tensor4D {
  const fn = 'bcopKernel';
  assertBcopStack(fn, 'params', params, options);
  const iterations = options.iterations ?? 20;
  assertPositiveInteger(fn, 'iterations', iterations);
  const shape: BcopShape = { inChannels: options.inChannels, outChannels: options.outChannels, kernelSize: options.kernelSize };
  return tf.tidy(() => bcopKernelFromOrthogonal(bjorck(params, { iterations }) as tf.Tensor3D, shape));
}
