import { type ExportedLayer, decodeTensor } from '@lipschitz/core';
import { convSingularValues } from '@lipschitz/linalg';

/** The singular values of one convolution layer of a model (the paper's Figure 2). */
export interface ConvSpectrum {
  /** Index of the layer in the exported layer list. */
  index: number;
  /** `kh×kw cin→cout @ h×w`. */
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
  layers.forEach((layer, index) => {
    if (layer.type === 'invertibleDownsample') {
      h /= layer.factor;
      w /= layer.factor;
    } else if (layer.type === 'conv2d') {
      const { shape, values } = decodeTensor(layer.kernel, `layers[${index}].kernel`);
      if (layer.padding === 'circular') {
        const sv = convSingularValues(values, shape, [h, w]);
        spectra.push({ index, label: `${shape[0]}×${shape[1]} ${shape[2]}→${shape[3]} @ ${h}×${w}`, singularValues: Array.from(sv) });
      }
    }
  });
  return spectra;
}
