import type * as tfl from '@tensorflow/tfjs-layers';
import { fromLipschitzModel } from './from-lipschitz-model';
import { type ToLipschitzModelOptions, toLipschitzModel } from './to-lipschitz-model';

/**
 * A plain tfjs `LayersModel` computing the same function as `model` with explicit kernels (see
 * {@link fromLipschitzModel}): what a tfjs app loads to run a trained Lipschitz model at plain-conv
 * speed. Custom layers left: {@link circularPad}, {@link maxMin}, {@link groupSort},
 * {@link invertibleDownsample} (registered when this package is imported).
 *
 * Ownership: borrows `model`; the caller owns the result.
 *
 * @throws LipschitzError as {@link toLipschitzModel}.
 * @example
 * ```ts
 * const plain = await toPlainModel(model);
 * await plain.save(fileSystem('plain-small'));
 * ```
 */
export async function toPlainModel(model: tfl.LayersModel, options: Pick<ToLipschitzModelOptions, 'inputShape'> = {}): Promise<tfl.Sequential> {
  return fromLipschitzModel(await toLipschitzModel(model, options));
}
