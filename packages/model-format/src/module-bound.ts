import { type LipschitzModule, LipschitzError } from '@lipschitz/core';
import { type NetworkBound, type NetworkBoundOptions, boundValidatedNetwork } from './network-bound';
import { type ValidatedNetwork, validateExportedLayers } from './validate-model';

/** Result of {@link moduleLipschitzBound}: the bound and the validated layers it was computed from. */
export interface ModuleBound extends NetworkBound {
  /** The module's exported layers, validated and decoded (reuse them, e.g. for `exportedForward`). */
  network: ValidatedNetwork;
}

/**
 * The certificate bound of a live {@link LipschitzModule} for inputs of `inputShape`: the
 * `networkLipschitzUpperBound` of `model.exportLayers(inputShape)` — the same number `exportModel`
 * writes into the file and every certificate uses (the slack policy of `slack-policy.ts`). A module's
 * bound is the bound of its exported layers; there is no second opinion.
 *
 * Ownership: borrows the model (it is neither frozen nor disposed here).
 * @throws LipschitzError `INVALID_ARGUMENT` when `inputShape` is not an array; what the module's
 *   `exportLayers` throws (`UNSUPPORTED_CONFIGURATION` for layers the format cannot express);
 *   `CORRUPT_DATA` when the exported layers do not produce the module's `outputShape`.
 * @example
 * ```ts
 * const { lipschitzUpperBound, layers } = await moduleLipschitzBound(model, [28, 28, 1]);
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7).
 */
export async function moduleLipschitzBound(
  model: LipschitzModule,
  inputShape: readonly number[],
  options: NetworkBoundOptions = {},
): Promise<ModuleBound> {
  if (!Array.isArray(inputShape)) {
    throw new LipschitzError('INVALID_ARGUMENT', 'moduleLipschitzBound: inputShape must be the input shape without the batch axis, e.g. [28, 28, 1].');
  }
  const network = validateExportedLayers(await model.exportLayers(inputShape), inputShape, options);
  const expected = model.outputShape(inputShape);
  if (expected.length !== network.outputShape.length || expected.some((d, i) => d !== network.outputShape[i])) {
    throw new LipschitzError(
      'CORRUPT_DATA',
      `moduleLipschitzBound: ${model.name}'s exported layers give output [${network.outputShape.join(', ')}] but the module outputs [${expected.join(', ')}]; its exportLayers does not describe it.`,
    );
  }
  return { ...boundValidatedNetwork(network, options), network };
}
