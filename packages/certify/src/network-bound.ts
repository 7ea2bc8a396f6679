import { type ExportedLayer, LipschitzError, assertPositiveInteger, decodeTensor } from '@lipschitz/core';
import { convSpectralNorm, spectralNorm } from '@lipschitz/linalg';

/**
 * Relative slack per conv2d/dense layer for float32 evaluation (1e-5). See {@link networkLipschitzUpperBound}.
 */
export const FLOAT32_SLACK_PER_LINEAR_LAYER = 1e-5;
/** Relative slack for the float64 host computation of all the norms together (1e-9). */
export const HOST_FLOAT64_SLACK = 1e-9;

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
  /** The exact ℓ2 operator norm (float64), or for zero/valid padding an exact upper bound on it. */
  spectralNorm: number;
  /** How `spectralNorm` was computed. */
  method: LayerNormMethod;
}

/** Result of {@link networkLipschitzUpperBound}. */
export interface NetworkBound {
  /** `exactProduct · safetyFactor`: the sound ℓ2 Lipschitz bound to certify with. */
  lipschitzUpperBound: number;
  /** Product of the per-layer `spectralNorm`s (float64, no slack). */
  exactProduct: number;
  /** `(1 + 1e-9) · (1 + 1e-5)^{linear layers}`, see {@link networkLipschitzUpperBound}. */
  safetyFactor: number;
  /** Per-layer report. */
  layers: LayerNormReport[];
  /** Output shape without the batch axis. */
  outputShape: number[];
}

/** The part of a `lipschitz-model/1` file the bound needs. */
export interface BoundableModel {
  input: { shape: readonly number[] };
  layers: readonly ExportedLayer[];
}

const fn = 'networkLipschitzUpperBound';

function fail(code: 'SHAPE_MISMATCH' | 'UNSUPPORTED_CONFIGURATION' | 'CORRUPT_DATA', index: number, message: string): never {
  throw new LipschitzError(code, `${fn}: layer ${index}: ${message}`);
}

function layerNorm(layer: ExportedLayer, index: number, shape: number[]): { norm: number; method: LayerNormMethod; out: number[] } {
  switch (layer?.type) {
    case 'conv2d': {
      if (shape.length !== 3) fail('SHAPE_MISMATCH', index, `conv2d needs an [h, w, c] input, got [${shape.join(', ')}]. Put it before flatten.`);
      const { shape: ks, values } = decodeTensor(layer.kernel, `layer ${index} kernel`);
      if (ks.length !== 4) fail('CORRUPT_DATA', index, `conv2d kernel must be HWIO [kh, kw, cin, cout], got [${ks.join(', ')}].`);
      const [kh, kw, cin, cout] = ks;
      const [h, w, c] = shape;
      if (cin !== c) fail('SHAPE_MISMATCH', index, `conv2d kernel expects ${cin} input channels, the input has ${c}.`);
      if (layer.padding === 'circular') {
        if (kh > h || kw > w) fail('UNSUPPORTED_CONFIGURATION', index, `circular conv2d kernel ${kh}×${kw} is larger than its ${h}×${w} input; such a model cannot be certified.`);
        return { norm: convSpectralNorm(values, ks, [h, w]), method: 'circular-fft', out: [h, w, cout] };
      }
      if (layer.padding === 'zero-same') {
        // y = Crop ∘ Circ_{(h+kh−1)×(w+kw−1)} ∘ ZeroEmbed: both outer maps have norm ≤ 1.
        return { norm: convSpectralNorm(values, ks, [h + kh - 1, w + kw - 1]), method: 'zero-padded-circular-fft', out: [h, w, cout] };
      }
      if (layer.padding === 'valid') {
        if (kh > h || kw > w) fail('SHAPE_MISMATCH', index, `valid conv2d kernel ${kh}×${kw} is larger than its ${h}×${w} input.`);
        // y[i] = Σ_a K[a] x[i + a] never wraps: a crop of the circular conv at the input size.
        return { norm: convSpectralNorm(values, ks, [h, w]), method: 'valid-circular-fft', out: [h - kh + 1, w - kw + 1, cout] };
      }
      return fail('UNSUPPORTED_CONFIGURATION', index, `conv2d padding ${JSON.stringify((layer as { padding: unknown }).padding)} is not one of circular, zero-same, valid.`);
    }
    case 'dense': {
      if (shape.length !== 1) fail('SHAPE_MISMATCH', index, `dense needs a flat [features] input, got [${shape.join(', ')}]. Add a flatten layer before it.`);
      const { shape: ws, values } = decodeTensor(layer.weight, `layer ${index} weight`);
      if (ws.length !== 2) fail('CORRUPT_DATA', index, `dense weight must be [in, out], got [${ws.join(', ')}].`);
      if (ws[0] !== shape[0]) fail('SHAPE_MISMATCH', index, `dense weight expects ${ws[0]} inputs, the input has ${shape[0]}.`);
      return { norm: spectralNorm(values, ws[0], ws[1]), method: 'svd', out: [ws[1]] };
    }
    case 'invertibleDownsample': {
      const f = layer.factor;
      if (!Number.isInteger(f) || f < 1) fail('CORRUPT_DATA', index, `invertibleDownsample factor must be a positive integer, got ${String(f)}.`);
      if (shape.length !== 3 || shape[0] % f !== 0 || shape[1] % f !== 0) {
        fail('SHAPE_MISMATCH', index, `invertibleDownsample(${f}) needs an [h, w, c] input with h and w divisible by ${f}, got [${shape.join(', ')}].`);
      }
      return { norm: 1, method: 'one', out: [shape[0] / f, shape[1] / f, shape[2] * f * f] };
    }
    case 'flatten':
      return { norm: 1, method: 'one', out: [shape.reduce((a, b) => a * b, 1)] };
    case 'maxMin':
      if (shape[shape.length - 1] % 2 !== 0) fail('SHAPE_MISMATCH', index, `maxMin needs an even number of channels, got ${shape[shape.length - 1]}.`);
      return { norm: 1, method: 'one', out: [...shape] };
    case 'groupSort': {
      const g = layer.groupSize;
      if (!Number.isInteger(g) || g < 1 || shape[shape.length - 1] % g !== 0) {
        fail('SHAPE_MISMATCH', index, `groupSort groupSize ${String(g)} must be a positive integer dividing the ${shape[shape.length - 1]} channels.`);
      }
      return { norm: 1, method: 'one', out: [...shape] };
    }
    case 'relu':
      return { norm: 1, method: 'one', out: [...shape] };
    default:
      return fail('UNSUPPORTED_CONFIGURATION', index, `layer type ${JSON.stringify((layer as { type?: unknown })?.type)} cannot be bounded soundly; supported: conv2d, dense, invertibleDownsample, flatten, maxMin, groupSort, relu.`);
  }
}

/**
 * A sound upper bound on the ℓ2 Lipschitz constant of a `lipschitz-model/1` network (or of the plain
 * layers of a live model, from `LipschitzModule.exportLayers(inputShape)`), with a per-layer report.
 *
 * `L = Π_l ‖A_l‖₂ · safetyFactor`, where each `‖A_l‖₂` is computed on the host in float64 from the
 * stored float32 weights — never a power-iteration estimate:
 * - `conv2d`, circular padding: the exact norm, max over the DFT frequencies at the layer's input
 *   spatial size of σ_max(K̂(p, q)) (`convSpectralNorm` of `@lipschitz/linalg`);
 * - `conv2d`, `zero-same`: the zero-padded conv is `Crop ∘ Circ ∘ ZeroEmbed` with Circ the circular
 *   conv at size `(h + kh − 1) × (w + kw − 1)` (no wrapped tap reaches real data), so its norm is
 *   bounded by that circular conv's exact norm (an upper bound, not the exact value);
 * - `conv2d`, `valid`: a crop of the circular conv at the input size (bounded the same way);
 * - `dense`: σ_max of the `[in, out]` weight by float64 SVD;
 * - `invertibleDownsample` and `flatten` (permutations/reshapes) and `maxMin`, `groupSort`, `relu`
 *   (1-Lipschitz in ℓ2) count 1. Biases do not change a Lipschitz constant.
 * Other layer types are refused with `UNSUPPORTED_CONFIGURATION`.
 *
 * **Safety factor** `(1 + 1e-9) · (1 + 1e-5)^D`, D = number of conv2d/dense layers. The product of
 * exact norms bounds the network evaluated in exact arithmetic on the stored float32 weights; the
 * 1e-9 covers the float64 rounding of the host SVD/FFT (≈1e-15·n relative). The network actually runs
 * in float32. A float32 matrix product is exact for slightly perturbed weights, `fl(Wx) = (W + ΔW)x`
 * with `|ΔW| ≤ γ_n|W|` in the worst case and about `√n · 2⁻²⁴ |W|` in practice (Higham & Mary 2019);
 * for n ≤ 4096 that is ≤ 4e-6 < 1e-5. **Assumption** (not a proof): per layer, float32 evaluation
 * behaves like the exact map with a weight perturbation of relative ℓ2 size ≤ 1e-5. Worst-case
 * rounding of very long dot products, or of inputs far outside the stated range, can exceed it.
 *
 * Ownership: reads `model`; returns plain numbers. Runs on the host (no tensors).
 *
 * @throws LipschitzError `UNSUPPORTED_CONFIGURATION` (unknown layer type or padding, circular kernel
 *   larger than its input), `SHAPE_MISMATCH` (layers that do not chain), `CORRUPT_DATA` (bad tensors).
 * @example
 * ```ts
 * const { lipschitzUpperBound, layers } = networkLipschitzUpperBound(exported);
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7: product of exact per-layer σ_max); Sedghi,
 *   Gupta, Long, "The Singular Values of Convolutional Layers", ICLR 2019; Higham & Mary, "A New
 *   Approach to Probabilistic Rounding Error Analysis", SIAM J. Sci. Comput. 2019.
 */
export function networkLipschitzUpperBound(model: BoundableModel): NetworkBound {
  if (model == null || typeof model !== 'object' || !Array.isArray(model.layers) || model.input == null || !Array.isArray(model.input.shape)) {
    throw new LipschitzError('CORRUPT_DATA', `${fn}: model must have input.shape and layers (a lipschitz-model/1 object).`);
  }
  let shape = [...model.input.shape];
  shape.forEach((d, i) => {
    assertPositiveInteger(fn, `input.shape[${i}]`, d);
  });
  const layers: LayerNormReport[] = [];
  let exactProduct = 1;
  let linear = 0;
  model.layers.forEach((layer, index) => {
    const { norm, method, out } = layerNorm(layer, index, shape);
    if (!Number.isFinite(norm)) fail('CORRUPT_DATA', index, `its norm is ${norm}; the weights contain NaN or Infinity.`);
    if (layer.type === 'conv2d' || layer.type === 'dense') linear++;
    layers.push({ index, type: layer.type, inputShape: shape, outputShape: out, spectralNorm: norm, method });
    exactProduct *= norm;
    shape = out;
  });
  const safetyFactor = (1 + HOST_FLOAT64_SLACK) * (1 + FLOAT32_SLACK_PER_LINEAR_LAYER) ** linear;
  return { lipschitzUpperBound: exactProduct * safetyFactor, exactProduct, safetyFactor, layers, outputShape: shape };
}
