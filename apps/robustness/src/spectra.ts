import type { TopLevelSpec } from '@lipschitz/app-kit';
import type { ExportedLayer } from '@lipschitz/core';
import { type NetworkBound, networkLipschitzUpperBound } from '@lipschitz/model-format';

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
 * The spectra a bound computed with `singularValues: true` already holds (`bound.spectra`, one FFT per
 * layer for the bound and the report together), labelled for the report.
 */
export function spectraOfBound(bound: Pick<NetworkBound, 'spectra'> & Partial<Pick<NetworkBound, 'layers'>>, layers?: readonly ExportedLayer[]): ConvSpectrum[] {
  return (bound.spectra ?? []).map((s) => {
    const previous = layers?.[s.index - 1];
    const walked = bound.layers?.[s.index - 1];
    const stride =
      previous?.type === 'invertibleDownsample'
        ? previous.factor
        : walked?.type === 'invertibleDownsample'
          ? Math.round(walked.inputShape[0] / walked.outputShape[0])
          : 1;
    return { index: s.index, label: convLabel(s.kernelShape, s.inputSize, stride), singularValues: Array.from(s.singularValues) };
  });
}


/**
 * Exact singular values (float64, FFT per frequency) of every circular `conv2d` of an exported model,
 * each at the spatial size it sees — `networkLipschitzUpperBound(…, { singularValues: true })` of
 * `@lipschitz/model-format` (its one shape walk), for a model that is not being certified (e.g. at
 * initialisation).
 */
export function convSpectra(layers: readonly ExportedLayer[], inputShape: readonly number[]): ConvSpectrum[] {
  return spectraOfBound(networkLipschitzUpperBound({ input: { shape: inputShape }, layers }, { singularValues: true }), layers);
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

/**
 * The Vega-Lite spec of the paper's Figure 2: one row of panels per `row` value (a layer, or a run), columns
 * "initialisation" and "after training", each a histogram of σ in bins of 0.02 over [0, 1.09] with the σ = 1 rule
 * (drawn once per panel). `values` are `{ [row]: string, when: 'initialisation' | 'after training', sigma }`.
 */
export function spectrumHistogramSpec(values: Record<string, string | number>[], row: string, options: { yTitle: string; rowOrder?: string[]; labelLimit: number }): TopLevelSpec {
  return {
    data: { values },
    facet: {
      row: { field: row, type: 'nominal', title: null, ...(options.rowOrder ? { sort: options.rowOrder } : {}), header: { labelAngle: 0, labelAlign: 'left', labelLimit: options.labelLimit, labelOrient: 'top' } },
      column: { field: 'when', type: 'nominal', title: null, sort: ['initialisation', 'after training'] },
    },
    spec: {
      width: 300,
      height: 110,
      layer: [
        {
          mark: 'bar',
          encoding: {
            x: { field: 'sigma', type: 'quantitative', bin: { step: 0.02, extent: [-0.01, 1.09], nice: false }, title: 'singular value σ', axis: { values: [0, 0.25, 0.5, 0.75, 1], format: '.2~f' } },
            y: { aggregate: 'count', type: 'quantitative', title: options.yTitle },
          },
        },
        // One rule per panel (without the aggregate it would be drawn once per singular value).
        { transform: [{ aggregate: [{ op: 'count', as: 'n' }], groupby: [row, 'when'] }], mark: { type: 'rule', color: '#b00020', strokeDash: [4, 3] }, encoding: { x: { datum: 1, type: 'quantitative' } } },
      ],
    },
  } as TopLevelSpec;
}
