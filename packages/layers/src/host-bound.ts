import { convSpectralNorm } from '@lipschitz/linalg';
import { HOST_NORM_SLACK, networkLipschitzUpperBound } from '@lipschitz/model-format';
import type { LayerModule } from './layer-base';

/**
 * @deprecated The host-rounding slack is `HOST_NORM_SLACK` of `@lipschitz/model-format` (the one slack
 * policy of the project, documented there); this alias equals it and is removed in the next minor release.
 */
export const HOST_BOUND_SLACK = HOST_NORM_SLACK;

/**
 * The exact-arithmetic bound of a module's exported layers at `inputShape`: the product of their exact
 * float64 norms, each times `1 + HOST_NORM_SLACK` (`lipschitzUpperBound` of `networkLipschitzUpperBound`,
 * `@lipschitz/model-format`). Every layer of this package bounds itself this way, so a layer's bound and
 * the bound of the file it exports are computed by the same code.
 * @internal
 */
export async function boundOfExportedLayers(module: Pick<LayerModule, 'exportLayers'>, inputShape: readonly number[]): Promise<number> {
  const layers = await module.exportLayers(inputShape);
  return networkLipschitzUpperBound({ input: { shape: inputShape }, layers }).lipschitzUpperBound;
}

/**
 * Exact σ_max (plus `HOST_NORM_SLACK`) of the circular convolution with HWIO `kernel` on
 * `[h, w]` inputs, from `convSpectralNorm` (float64 FFT + SVD per frequency, `@lipschitz/linalg`).
 * @deprecated The layers of this package bound themselves through `networkLipschitzUpperBound` of
 * `@lipschitz/model-format` on their exported layers; use that. Removed in the next minor release.
 */
export function circularConvNorm(kernel: ArrayLike<number>, shape: [number, number, number, number], size: [number, number]): number {
  return convSpectralNorm(kernel, shape, size) * (1 + HOST_BOUND_SLACK);
}
