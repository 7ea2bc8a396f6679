import type { LayerConfig, LayerModule } from './layer-base';

/** A stride-1 layer of this package that fixes its spatial input size at the first use. */
export interface SizeLearningLayer {
  readonly config: LayerConfig;
  /** Called once when the size becomes known (set by the factory of a strided wrapper). */
  onInputSize?: (size: [number, number]) => void;
}

/**
 * Records a spatial input size learned at the first use into the layer's `config.options.inputSize`
 * (so `layerFromConfig` / `loadModel` rebuild the same variables, e.g. OSSN's vector u or Cayley's α)
 * and tells the strided wrapper, if any.
 * @internal
 */
export function recordInputSize(layer: SizeLearningLayer, size: readonly number[]): void {
  const pair: [number, number] = [size[0], size[1]];
  if (layer.config.options.inputSize === undefined) layer.config.options.inputSize = pair;
  layer.onInputSize?.(pair);
}

/**
 * For a module built by `withStride`: when the inner stride-1 layer learns its size, record the outer
 * input size (`stride ×` the inner one) in the wrapper's config too.
 * @internal
 */
export function linkStridedInputSize(module: LayerModule, inner: SizeLearningLayer | null, stride: number): void {
  if (!inner || (module as unknown) === inner || stride === 1) return;
  inner.onInputSize = (size) => {
    if (module.config.options.inputSize === undefined) module.config.options.inputSize = [size[0] * stride, size[1] * stride];
  };
}
