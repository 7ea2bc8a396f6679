import { type ExportedLayer, type ExportedModel, MODEL_FORMAT, SeededRandom, encodeTensor } from '@lipschitz/core';

/** Row-major N(0, std²) float64 values from a seed (host side, independent of any backend). */
export function normalValues(size: number, seed: number, std = 1): Float64Array {
  const rng = new SeededRandom(seed);
  return Float64Array.from({ length: size }, () => rng.normal() * std);
}

/** A seeded `conv2d` layer of a `lipschitz-model/1` file (kernel N(0, scale²), bias N(0, 0.01)). */
export function conv(
  kernelShape: [number, number, number, number],
  seed: number,
  padding: 'circular' | 'zero-same' | 'valid' = 'circular',
  { scale = 1, bias = true }: { scale?: number; bias?: boolean } = {},
): ExportedLayer {
  const size = kernelShape.reduce((a, b) => a * b, 1);
  const kernel = encodeTensor(kernelShape, normalValues(size, seed, scale));
  if (!bias) return { type: 'conv2d', padding, kernel };
  return { type: 'conv2d', padding, kernel, bias: encodeTensor([kernelShape[3]], normalValues(kernelShape[3], seed + 1, 0.1)) };
}

/** A seeded `dense` layer of a `lipschitz-model/1` file (weight N(0, scale²), bias N(0, 0.01)). */
export function dense(inputs: number, outputs: number, seed: number, { scale = 1, bias = true }: { scale?: number; bias?: boolean } = {}): ExportedLayer {
  const weight = encodeTensor([inputs, outputs], normalValues(inputs * outputs, seed, scale));
  if (!bias) return { type: 'dense', weight };
  return { type: 'dense', weight, bias: encodeTensor([outputs], normalValues(outputs, seed + 1, 0.1)) };
}

/** A `lipschitz-model/1` object around `layers` (its stated bound, 1234, is deliberately wrong: readers recompute it). */
export function model(inputShape: number[], layers: ExportedLayer[], range: [number, number] = [0, 1]): ExportedModel {
  return { format: MODEL_FORMAT, input: { shape: inputShape, range }, layers, lipschitzUpperBound: 1234 };
}
