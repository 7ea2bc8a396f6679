import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import { type OrthogonalizerSpec, bjorck, orthogonalize } from '@lipschitz/orthogonalize';
import * as tf from '@tensorflow/tfjs-core';
import type { BcopShape } from './bcop-initial-params';
import { assertBcopStack, bcopKernelFromOrthogonal } from './bcop-kernel-from-orthogonal';

/** Options of {@link bcopKernel}. */
export interface BcopKernelOptions extends BcopShape {
  /**
   * Björck iterations (order 1, β = 0.5, power-iteration scaling: the reference's settings).
   * Default 20, as the reference. Not allowed together with `orthogonalizer`.
   */
  iterations?: number;
  /**
   * Any orthogonalization scheme of `@lipschitz/orthogonalize` (e.g. `{ kind: 'bjorck', iterations: 30,
   * seed: 0 }`, `FAST_POLAR`, `{ kind: 'cayley' }`), applied to all `2(k − 1) + 1` matrices at once.
   * Default: the reference's Björck with `iterations`.
   */
  orthogonalizer?: Readonly<OrthogonalizerSpec>;
}

/**
 * The BCOP orthogonal convolution kernel (HWIO `[k, k, cin, cout]`) from its unconstrained
 * parameters `params` `[2(k − 1) + 1, cmax, cmax]`, `cmax = max(cin, cout)` (index 0 → H, then
 * P1, Q1, P2, Q2, …), exactly as the reference code:
 * 1. `ortho = bjorck(params)` — all matrices at once, `iterations` steps (or
 *    `orthogonalize(params, orthogonalizer)`); on wasm and cmax ≥ 40 one matrix at a time (its
 *    batched matMul is 10–100× slower), which gives the same matrices;
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
 *   for non-positive-integer channels, kernel size or iterations; `UNSUPPORTED_CONFIGURATION` when both
 *   `iterations` and `orthogonalizer` are given; whatever the orthogonalizer throws for a bad spec.
 */
export function bcopKernel(params: tf.Tensor3D, options: BcopKernelOptions): tf.Tensor4D {
  const fn = 'bcopKernel';
  assertBcopStack(fn, 'params', params, options);
  const { orthogonalizer } = options;
  if (orthogonalizer != null && options.iterations !== undefined) {
    throw new LipschitzError(
      'UNSUPPORTED_CONFIGURATION',
      `${fn}: pass either iterations or orthogonalizer, not both. Put the iteration count in the orthogonalizer spec, e.g. { kind: 'bjorck', iterations: ${options.iterations} }.`,
    );
  }
  const iterations = options.iterations ?? 20;
  assertPositiveInteger(fn, 'iterations', iterations);
  const shape: BcopShape = { inChannels: options.inChannels, outChannels: options.outChannels, kernelSize: options.kernelSize };
  const apply = (w: tf.Tensor) => (orthogonalizer == null ? bjorck(w, { iterations }) : orthogonalize(w, orthogonalizer));
  return tf.tidy(() => bcopKernelFromOrthogonal(orthogonalizeStack(params, apply), shape));
}

/**
 * Matrix size from which wasm orthogonalizes matrix by matrix. Measured (bcopKernel fwd+bwd, wasm):
 * n = 16 per-matrix 85–180 ms vs batched ~40 ms (op overhead dominates); n = 32 about equal;
 * n = 48 85 vs 150 ms; n = 64 130 vs 310–460 ms; n = 256 Björck alone 1.16 s vs 12.1 s.
 */
const WASM_PER_MATRIX_MIN_SIZE = 40;

/**
 * Orthogonalizes the `[count, n, n]` stack. Every scheme treats the matrices independently, so this is
 * one batched call, except on wasm for n ≥ 40: its BatchMatMul is 10–100× slower for a batch of
 * matrices than for a single one, so there each matrix is orthogonalized on its own and the results
 * are stacked (same matrices, different op count).
 */
function orthogonalizeStack(params: tf.Tensor3D, apply: (w: tf.Tensor) => tf.Tensor): tf.Tensor3D {
  const [count, n] = params.shape;
  if (count === 1 || n < WASM_PER_MATRIX_MIN_SIZE || tf.getBackend() !== 'wasm') return apply(params) as tf.Tensor3D;
  const matrices = tf.split(params, count, 0).map((m) => apply(tf.reshape(m, [n, n])));
  return tf.stack(matrices) as tf.Tensor3D;
}
