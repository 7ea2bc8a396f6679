import { type ExportedLayer, type ExportedModel, encodeTensor } from '@lipschitz/core';
import { exportedModel as model, normalValues } from '@lipschitz/test-utils';
import { convSpectralNorm, spectralNorm } from '@lipschitz/linalg';
import { type ExportedForward, exportedForward, validateExportedModel } from '@lipschitz/model-format';

// The seeded layers and the model wrapper are shared with the other packages' tests (one copy, in test-utils).
export { exportedConv as conv, exportedDense as dense, exportedModel as model, normalValues } from '@lipschitz/test-utils';

/**
 * A small random conv net whose conv/dense layers are each divided by their exact circular spectral
 * norm at their input size (so the network is 1-Lipschitz up to the float32 slack):
 * [6,6,2] → conv3 circ 2→4 → maxMin → downsample2 → [3,3,16] → conv2 circ 16→8 → maxMin → flatten 72 → dense 72→10.
 */
export function unitConvNet(seed: number): ExportedModel {
  const normalized = (shape: [number, number, number, number], s: number, inputSize: [number, number]): ExportedLayer => {
    const values = normalValues(shape.reduce((a, b) => a * b, 1), s);
    const norm = convSpectralNorm(Float32Array.from(values), shape, inputSize);
    return { type: 'conv2d', padding: 'circular', kernel: encodeTensor(shape, values.map((v) => v / norm)), bias: encodeTensor([shape[3]], normalValues(shape[3], s + 1, 0.05)) };
  };
  const w = normalValues(72 * 10, seed + 20);
  const wNorm = spectralNorm(Float32Array.from(w), 72, 10);
  return model([6, 6, 2], [
    normalized([3, 3, 2, 4], seed, [6, 6]),
    { type: 'maxMin' },
    { type: 'invertibleDownsample', factor: 2 },
    normalized([2, 2, 16, 8], seed + 10, [3, 3]),
    { type: 'maxMin' },
    { type: 'flatten' },
    { type: 'dense', weight: encodeTensor([72, 10], w.map((v) => v / wNorm)), bias: encodeTensor([10], normalValues(10, seed + 21, 0.05)) },
  ]);
}

/** The float32 forward pass of a `lipschitz-model/1` object (validated first), as `certifyExportedModel` runs it. */
export function forwardOf(model: ExportedModel): ExportedForward {
  return exportedForward(validateExportedModel(model));
}
