import { type LipschitzModule, LipschitzError } from '@lipschitz/core';
import { type NetworkBound, networkLipschitzUpperBound } from './network-bound';

/** Result of {@link modelLipschitzUpperBound}. */
export interface ModelBound extends NetworkBound {
  /** What the module's own `lipschitzUpperBound(inputShape)` returned. */
  moduleLipschitzUpperBound: number;
}

/**
 * The sound ℓ2 Lipschitz bound of a live {@link LipschitzModule} for inputs of `inputShape`:
 * {@link networkLipschitzUpperBound} on `model.exportLayers(inputShape)` (exact float64 per-layer
 * norms times the float32 slack, with the per-layer report), raised to the module's own
 * `lipschitzUpperBound(inputShape)` when that is larger and finite. The max of two sound bounds is
 * sound; taking it means a layer whose export under-describes it cannot lower the certificate.
 *
 * Ownership: borrows the model (it is neither frozen nor disposed here).
 *
 * @throws LipschitzError `INVALID_ARGUMENT` when `inputShape` is not an array, and what
 *   {@link networkLipschitzUpperBound} or the module's `exportLayers` throw.
 * @example
 * ```ts
 * const { lipschitzUpperBound, layers } = await modelLipschitzUpperBound(critic, [64, 64, 3]);
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7).
 */
export async function modelLipschitzUpperBound(model: LipschitzModule, inputShape: readonly number[]): Promise<ModelBound> {
  if (!Array.isArray(inputShape)) {
    throw new LipschitzError('INVALID_ARGUMENT', 'modelLipschitzUpperBound: inputShape must be the input shape without the batch axis, e.g. [28, 28, 1].');
  }
  const layers = await model.exportLayers(inputShape);
  const bound = networkLipschitzUpperBound({ input: { shape: inputShape }, layers });
  const own = await model.lipschitzUpperBound(inputShape);
  const lipschitzUpperBound = Number.isFinite(own) ? Math.max(bound.lipschitzUpperBound, own) : bound.lipschitzUpperBound;
  return { ...bound, lipschitzUpperBound, moduleLipschitzUpperBound: own };
}
