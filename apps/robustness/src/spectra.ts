import { type ExportedLayer, decodeTensor } from '@lipschitz/core';
import { convSingularValues } from '@lipschitz/linalg';

/** The singular values of one convolution layer of a model (the paper's Figure 2). */
export interface ConvSpectrum {
  /** Index of the layer in the exported layer list. */
  index: number;
  /**
   * The convolution as the user asked for it, and as it is computed when they differ: `3×3, 1→32 @ 28×28`,
   * or `4×4 stride 2, 1→16 (as 2×2 4→16 @ 14×14 after invertible downsampling)`.
   */
  label: string;
  /** All singular values of the circular convolution at the layer's input size, descending. */
  singularValues: number[];
}

/**
 * Exact singular values (float64, FFT per frequency) of every circular `conv2d` of an exported model,
 * each at the spatial size it sees, found by walking the layer list from `inputShape`.
 */
export function convSpectra(layers: readonly ExportedLayer[], inputShape: readonly number[]): ConvSpectrum[] {
  let [h, w] = inputShape as [number, number, number];
  const spectra: ConvSpectrum[] = [];
  /** The factor of an invertible downsampling right before the current layer (a strided conv), else 1. */
  let stride = 1;
  layers.forEach((layer, index) => {
    if (layer.type === 'invertibleDownsample') {
      h /= layer.factor;
      w /= layer.factor;
      stride = layer.factor;
      return;
    }
    if (layer.type === 'conv2d') {
      const { shape, values } = decodeTensor(layer.kernel, `layers[${index}].kernel`);
      if (layer.padding === 'circular') {
        const sv = convSingularValues(values, shape, [h, w]);
        spectra.push({ index, label: convLabel(shape, [h, w], stride), singularValues: Array.from(sv) });
      }
    }
    stride = 1;
  });
  return spectra;
}

/**
 * A conv's label: `kh×kw, cin→cout @ h×w`; after an invertible downsampling by s, the strided conv the user
 * wrote first (`(s·kh)×(s·kw) stride s, cin/s²→cout`), then what is computed.
 */
export function convLabel(kernelShape: readonly number[], [h, w]: readonly number[], stride: number): string {
  const [kh, kw, cin, cout] = kernelShape;
  const inner = `${kh}×${kw} ${cin}→${cout} @ ${h}×${w}`;
  if (stride === 1) return `${kh}×${kw}, ${cin}→${cout} @ ${h}×${w}`;
  return `${kh * stride}×${kw * stride} stride ${stride}, ${cin / (stride * stride)}→${cout} (as ${inner} after invertible downsampling)`;
}
