import type { ExportedLayer } from '@lipschitz/core';
import { type NetworkBound, networkLipschitzUpperBound } from '@lipschitz/model-format';

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
 * The spectra a bound computed with `singularValues: true` already holds (`bound.spectra`, one FFT per
 * layer for the bound and the report together), labelled for the report.
 */
export function spectraOfBound(bound: Pick<NetworkBound, 'spectra'>): ConvSpectrum[] {
  return (bound.spectra ?? []).map((s) => {
    const [kh, kw, cin, cout] = s.kernelShape;
    const [h, w] = s.inputSize;
    return { index: s.index, label: `${kh}×${kw} ${cin}→${cout} @ ${h}×${w}`, singularValues: Array.from(s.singularValues) };
  });
}

/**
 * Exact singular values (float64, FFT per frequency) of every circular `conv2d` of an exported model,
 * each at the spatial size it sees — `networkLipschitzUpperBound(…, { singularValues: true })` of
 * `@lipschitz/model-format` (its one shape walk), for a model that is not being certified (e.g. at
 * initialisation).
 */
export function convSpectra(layers: readonly ExportedLayer[], inputShape: readonly number[]): ConvSpectrum[] {
  return spectraOfBound(networkLipschitzUpperBound({ input: { shape: inputShape }, layers }, { singularValues: true }));
}
