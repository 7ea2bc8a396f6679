import type { ExportedLayer } from '@lipschitz/core';
import { convSingularValues, convSpectralNorm, spectralNorm } from '@lipschitz/linalg';
import { FLOAT32_SLACK_PER_LINEAR_LAYER, HOST_NORM_SLACK } from './slack-policy';
import { type ValidateOptions, type ValidatedLayer, type ValidatedNetwork, validateExportedLayers } from './validate-model';

/** How one layer's norm was obtained. */
export type LayerNormMethod =
  /** circular conv: max over the DFT frequencies at the layer's input size of σ_max(K̂). */
  | 'circular-fft'
  /** zero-padded conv: circular conv on the input zero-embedded at (h + kh − 1) × (w + kw − 1). */
  | 'zero-padded-circular-fft'
  /** valid conv: a crop of the circular conv at the input size. */
  | 'valid-circular-fft'
  /** dense: float64 SVD of the weight. */
  | 'svd'
  /** norm-1 by construction: a permutation, reshape, or a 1-Lipschitz activation. */
  | 'one';

/** One row of the per-layer report of {@link networkLipschitzUpperBound}. */
export interface LayerNormReport {
  /** Position in `layers`. */
  index: number;
  /** The layer's `type`. */
  type: ExportedLayer['type'];
  /** Input shape without the batch axis. */
  inputShape: number[];
  /** Output shape without the batch axis. */
  outputShape: number[];
  /** The exact ℓ2 operator norm (float64, no slack), or for zero/valid padding an exact upper bound on it. */
  spectralNorm: number;
  /** How `spectralNorm` was computed. */
  method: LayerNormMethod;
}

/** All singular values of one circular `conv2d` (descending, float64), when asked for with `singularValues: true`. */
export interface LayerSpectrum {
  /** Position in `layers`. */
  index: number;
  /** HWIO kernel shape. */
  kernelShape: [number, number, number, number];
  /** The spatial size the convolution acts on. */
  inputSize: [number, number];
  /** `h·w·min(cin, cout)` values, descending; `singularValues[0]` is the layer's `spectralNorm`. */
  singularValues: Float64Array;
}

/** Result of {@link networkLipschitzUpperBound}. */
export interface NetworkBound {
  /**
   * The sound ℓ2 bound of the exact network: `Π_l ‖A_l‖ · (1 + HOST_NORM_SLACK)` over the linear layers
   * (float64 norms × (1 + 1e-12) each, see {@link HOST_NORM_SLACK}). This is the number `exportModel` writes
   * into the file's `lipschitzUpperBound`, `robustness export`/`certify` print, `certify.json` holds and the
   * default, float-sound certificate (`floatErrorModel: 'rigorous'`) uses — the same quantity as a layer
   * module's `lipschitzUpperBound()`.
   */
  lipschitzUpperBound: number;
  /**
   * The bound of the old rule (`floatErrorModel: 'assume-relative-1e-5'`): `lipschitzUpperBound ·
   * (1 + FLOAT32_SLACK_PER_LINEAR_LAYER)^D` = `exactProduct · safetyFactor`, i.e. × (1 + 1e-5) per conv2d/dense
   * layer. It rests on an assumption (not a proof): that float32 evaluation behaves like the exact map with a
   * relative weight perturbation ≤ 1e-5 per layer (see {@link FLOAT32_SLACK_PER_LINEAR_LAYER}).
   */
  assumedFloat32Bound: number;
  /** Product of the per-layer `spectralNorm`s (float64, no slack). */
  exactProduct: number;
  /** `((1 + HOST_NORM_SLACK) · (1 + FLOAT32_SLACK_PER_LINEAR_LAYER))^D`, D = conv2d and dense layers. */
  safetyFactor: number;
  /** Number of conv2d and dense layers (D). */
  linearLayers: number;
  /** Per-layer report. */
  layers: LayerNormReport[];
  /** Every circular conv's singular values, present when `singularValues: true` was asked (computed once, with the norm). */
  spectra?: LayerSpectrum[];
  /** Output shape without the batch axis. */
  outputShape: number[];
}

/** The part of a `lipschitz-model/1` file the bound needs. */
export interface BoundableModel {
  input: { shape: readonly number[] };
  layers: readonly ExportedLayer[];
}

/** Options of {@link networkLipschitzUpperBound}. */
export interface NetworkBoundOptions extends ValidateOptions {
  /** Also return all singular values of every circular conv (for a spectrum plot), computed in the same pass. */
  singularValues?: boolean;
}

function layerNorm(row: ValidatedLayer, spectra: LayerSpectrum[] | null): { norm: number; method: LayerNormMethod } {
  const { layer, inputShape } = row;
  if (layer.type === 'conv2d' && row.weight) {
    const ks = row.weight.shape as [number, number, number, number];
    const [h, w] = inputShape;
    const [kh, kw] = ks;
    if (layer.padding === 'zero-same') {
      // y = Crop ∘ Circ_{(h+kh−1)×(w+kw−1)} ∘ ZeroEmbed: both outer maps have norm ≤ 1.
      return { norm: convSpectralNorm(row.weight.values, ks, [h + kh - 1, w + kw - 1]), method: 'zero-padded-circular-fft' };
    }
    if (layer.padding === 'valid') {
      // y[i] = Σ_a K[a] x[i + a] never wraps: a crop of the circular conv at the input size.
      return { norm: convSpectralNorm(row.weight.values, ks, [h, w]), method: 'valid-circular-fft' };
    }
    if (spectra) {
      const singularValues = convSingularValues(row.weight.values, ks, [h, w]);
      spectra.push({ index: row.index, kernelShape: [...ks], inputSize: [h, w], singularValues });
      return { norm: singularValues[0], method: 'circular-fft' };
    }
    return { norm: convSpectralNorm(row.weight.values, ks, [h, w]), method: 'circular-fft' };
  }
  if (layer.type === 'dense' && row.weight) {
    const [rows, cols] = row.weight.shape;
    return { norm: spectralNorm(row.weight.values, rows, cols), method: 'svd' };
  }
  return { norm: 1, method: 'one' };
}

/**
 * The bound of an already validated network (see {@link networkLipschitzUpperBound}); use it when the
 * network was validated once for several purposes (bound and forward).
 * @example
 * ```ts
 * const bound = boundValidatedNetwork(validateExportedModel(file));
 * ```
 */
export function boundValidatedNetwork(network: ValidatedNetwork, options: { singularValues?: boolean } = {}): NetworkBound {
  const spectra: LayerSpectrum[] | null = options.singularValues ? [] : null;
  const layers: LayerNormReport[] = [];
  let exactProduct = 1;
  let lipschitzUpperBound = 1;
  let linearLayers = 0;
  for (const row of network.layers) {
    const { norm, method } = layerNorm(row, spectra);
    layers.push({ index: row.index, type: row.type, inputShape: row.inputShape, outputShape: row.outputShape, spectralNorm: norm, method });
    exactProduct *= norm;
    if (method !== 'one') {
      linearLayers++;
      lipschitzUpperBound *= norm * (1 + HOST_NORM_SLACK);
    }
  }
  const float32Factor = (1 + FLOAT32_SLACK_PER_LINEAR_LAYER) ** linearLayers;
  const safetyFactor = ((1 + HOST_NORM_SLACK) * (1 + FLOAT32_SLACK_PER_LINEAR_LAYER)) ** linearLayers;
  return {
    assumedFloat32Bound: lipschitzUpperBound * float32Factor,
    lipschitzUpperBound,
    exactProduct,
    safetyFactor,
    linearLayers,
    layers,
    ...(spectra ? { spectra } : {}),
    outputShape: network.outputShape,
  };
}

/**
 * A sound upper bound on the ℓ2 Lipschitz constant of a `lipschitz-model/1` network (or of the plain
 * layers of a live model, from `LipschitzModule.exportLayers(inputShape)`), with a per-layer report.
 * The layers are first checked by the one validator ({@link validateExportedLayers}).
 *
 * `lipschitzUpperBound = Π_l ‖A_l‖₂ · (1 + 1e-12)^D` (the exact network's bound) and, for the old rule,
 * `assumedFloat32Bound = Π_l ‖A_l‖₂ · ((1 + 1e-12) · (1 + 1e-5))^D` (the slack policy, `slack-policy.ts`), where each
 * `‖A_l‖₂` is computed on the host in float64 from the stored float32 weights — never a
 * power-iteration estimate:
 * - `conv2d`, circular padding: the exact norm, max over the DFT frequencies at the layer's input
 *   spatial size of σ_max(K̂(p, q)) (`convSpectralNorm` of `@lipschitz/linalg`);
 * - `conv2d`, `zero-same`: the zero-padded conv is `Crop ∘ Circ ∘ ZeroEmbed` with Circ the circular
 *   conv at size `(h + kh − 1) × (w + kw − 1)` (no wrapped tap reaches real data), so its norm is
 *   bounded by that circular conv's exact norm (an upper bound, not the exact value);
 * - `conv2d`, `valid`: a crop of the circular conv at the input size (bounded the same way);
 * - `dense`: σ_max of the `[in, out]` weight by float64 SVD;
 * - `invertibleDownsample` and `flatten` (permutations/reshapes) and `maxMin`, `groupSort`, `relu`
 *   (1-Lipschitz in ℓ2) count 1. Biases do not change a Lipschitz constant.
 *
 * **Assumption** (not a proof), the float32 factor of `assumedFloat32Bound` only: per linear layer, float32 evaluation behaves like
 * the exact map with a weight perturbation of relative ℓ2 size ≤ 1e-5 (see {@link FLOAT32_SLACK_PER_LINEAR_LAYER}).
 *
 * Ownership: reads `model`; returns plain numbers. Runs on the host (no tensors).
 *
 * @throws LipschitzError `CORRUPT_DATA` (unknown layer type or field, layers that do not chain, bad
 *   tensors, an all-zero weight), `LIMIT_EXCEEDED` (sizes above the limits).
 * @example
 * ```ts
 * const { lipschitzUpperBound, layers } = networkLipschitzUpperBound(exported);
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7: product of exact per-layer σ_max); Sedghi,
 *   Gupta, Long, "The Singular Values of Convolutional Layers", ICLR 2019; Higham & Mary, "A New
 *   Approach to Probabilistic Rounding Error Analysis", SIAM J. Sci. Comput. 2019.
 */
export function networkLipschitzUpperBound(model: BoundableModel, options: NetworkBoundOptions = {}): NetworkBound {
  const network = validateExportedLayers(model?.layers, model?.input?.shape, options);
  return boundValidatedNetwork(network, options);
}
