import { type NetworkBound, networkLipschitzUpperBound } from '@lipschitz/certify';
import type * as tfl from '@tensorflow/tfjs-layers';
import { lipschitzLayersOf, modelInputShape } from './to-lipschitz-model';

/**
 * A sound upper bound on the ℓ2 Lipschitz constant of a `LayersModel` for inputs of `inputShape`: the
 * model is converted to its `lipschitz-model/1` layer list (the kernels it applies now) and bounded by
 * `networkLipschitzUpperBound` of `@lipschitz/certify` — the exact float64 norm of every layer (σ_max of
 * each circular convolution by FFT at the input size, of each dense weight by SVD), with a per-layer report.
 * Its `lipschitzUpperBound` is the exact network's bound (each norm × (1 + 1e-12)), the number
 * `toLipschitzModel` writes and `certify` uses; `assumedFloat32Bound` is the old rule's (also × (1 + 1e-5)
 * per conv/dense layer, an assumption). Layers it cannot bound are refused by name, never skipped.
 *
 * Ownership: borrows the model. Reads the weights with `await data()`.
 *
 * @throws LipschitzError `UNSUPPORTED_CONFIGURATION` naming the first unsupported layer;
 *   `INVALID_ARGUMENT` when the input shape is unknown and not given; `SHAPE_MISMATCH` from the bound.
 * @example
 * ```ts
 * const { lipschitzUpperBound, layers } = await lipschitzUpperBound(model, [28, 28, 1]); // ≈ 1
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7).
 */
export async function lipschitzUpperBound(model: tfl.LayersModel, inputShape?: readonly number[]): Promise<NetworkBound> {
  const shape = modelInputShape('lipschitzUpperBound', model, inputShape);
  return networkLipschitzUpperBound({ input: { shape }, layers: await lipschitzLayersOf(model) });
}
