import { type ExportedLayer, LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import {
  type DecodedTensor,
  type ExportedForward,
  HOST_NORM_SLACK,
  type NetworkBound,
  type ValidatedLayer,
  type ValidatedNetwork,
  boundValidatedNetwork,
  exportedForward,
  validateExportedLayers,
} from '@lipschitz/model-format';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The unit roundoff the float32 error analysis uses: `u = 2⁻²⁴ + 2⁻⁵²`. IEEE binary32 round-to-nearest
 * has `u = 2⁻²⁴`; the extra `2⁻⁵²` covers a backend that accumulates in float64 and rounds each
 * partial sum to float32 (double rounding: `|fl32(fl64(r)) − r| ≤ (2⁻²⁴ + 2⁻⁵³ + 2⁻⁷⁷)|r|`), as the
 * tfjs cpu backend does.
 */
export const FLOAT32_UNIT_ROUNDOFF = 2 ** -24 + 2 ** -52;
/** The smallest positive normal float32, `2⁻¹²⁶`: the absolute error of one flushed-to-zero result. */
export const FLOAT32_MIN_NORMAL = 2 ** -126;
/**
 * The largest magnitude any bounded quantity may reach, `2¹²⁷` (half the largest float32): beyond
 * it a float32 partial sum could overflow, and the example is not certified.
 */
export const FLOAT32_OVERFLOW_GUARD = 2 ** 127;
/**
 * Relative slack on every host float64 quantity of the bound (sums of squares, square roots, the
 * affine recursion: all terms non-negative, so relative errors only compound, by less than this).
 */
export const HOST_ROUNDING_SLACK = 1e-9;

/**
 * Higham's `γ_n = n·u / (1 − n·u)` with `u` = {@link FLOAT32_UNIT_ROUNDOFF}: a sum of `n` terms
 * (products and a bias) evaluated in float32 in any order, with or without FMA, differs from the
 * exact sum by at most `γ_n · Σ|terms|` (no underflow). `Infinity` when `n·u ≥ 1`.
 * @see Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., SIAM 2002, §3.1 (Lemma 3.1) and §3.5.
 */
export function float32Gamma(n: number): number {
  const nu = n * FLOAT32_UNIT_ROUNDOFF;
  return nu >= 1 ? Number.POSITIVE_INFINITY : nu / (1 - nu);
}

/**
 * Per-example bound on the float32 evaluation error of a network over an ℓ2 ball:
 * for example n and every radius ε ≤ `overflowRadius[n]`,
 * `sup_{‖x′ − xₙ‖₂ ≤ ε} ‖f̃(x′) − f(x′)‖₂ ≤ constant[n] + perRadius · ε`
 * (f the exact network, f̃ any float32 evaluation of it; see {@link float32ErrorBound}).
 */
export interface Float32ErrorBound {
  /** The radius-independent part `aₙ` of the ℓ2 error bound (Infinity when the example overflows). */
  constant: Float64Array;
  /** The per-unit-radius part `b` (the same for every example). */
  perRadius: number;
  /** The largest radius at which no float32 partial sum can overflow (−1: overflow possible at x itself). */
  overflowRadius: Float64Array;
}

/** Result of {@link float32ErrorBound}. */
export interface Float32ErrorReport {
  /** The float32 logits `[count, classes]` row-major, computed by the backend from the exported layers. */
  logits: Float32Array;
  /** Number of classes C. */
  classes: number;
  /** Number of examples. */
  count: number;
  /** The error bound per example. */
  error: Float32ErrorBound;
  /**
   * The ℓ2 Lipschitz bound of the EXACT network: `exactArithmeticBound` of the model-format bound, the
   * product of the float64 per-layer norms each times `1 + HOST_NORM_SLACK` (the one slack policy of
   * `@lipschitz/model-format`; the float32 rounding is what `error` accounts for, so no per-layer 1e-5 slack).
   */
  lipschitz: number;
  /** The per-layer norms (`boundValidatedNetwork` of `@lipschitz/model-format`). */
  network: NetworkBound;
}

/** Options of {@link float32ErrorBound}. */
export interface Float32ErrorBoundOptions {
  /** Examples per forward pass (default 100). */
  batchSize?: number;
  /**
   * `boundValidatedNetwork` (or `networkLipschitzUpperBound`) of the same layers, when the caller already
   * has it (e.g. certifying batch by batch); recomputed when absent.
   */
  network?: NetworkBound;
  /**
   * The layers already validated by `validateExportedLayers`/`validateExportedModel` of
   * `@lipschitz/model-format` (then `layers` may be `validated.layers.map((r) => r.layer)`); validated when absent.
   */
  validated?: ValidatedNetwork;
}

interface LinearPlan {
  /** Layer index. */
  index: number;
  /** γ for fan-in + 1 terms. */
  gamma: number;
  /** Upper bound on ‖|W|‖₂ (the operator with entries |W_ij|). */
  absNorm: number;
  /** σ_k · (1 + HOST_NORM_SLACK): a bound on the exact operator norm (the model-format slack policy). */
  sigma: number;
  /** Product of the σ of the layers before: the reach factor L_k. */
  reach: number;
  /** Number of outputs m_k (per example). */
  outputs: number;
  /** Per-output absolute underflow term τ_k. */
  tau: number;
  /** 2⁻¹²⁶ · (max number of subnormal weights feeding one output) · √m_k. */
  subnormal: number;
  /** The forward of the same layer on |weights| (and |bias|). */
  abs: ExportedForward;
}

const fn = 'float32ErrorBound';

function absTensor(t: DecodedTensor): DecodedTensor {
  return { shape: [...t.shape], values: t.values.map(Math.abs) };
}

function isSubnormal(v: number): boolean {
  return v !== 0 && Math.abs(v) < FLOAT32_MIN_NORMAL;
}

/**
 * Static per-layer quantities of a linear layer: fan-in, ‖|W|‖₂ ≤ √(‖|W|‖₁ ‖|W|‖∞) (for a conv, the
 * column/row sums of the operator are at most the per-input-channel / per-output-channel sums of
 * |kernel|), the largest row ℓ1 norm and the subnormal count per output.
 */
function linearStatics(row: ValidatedLayer) {
  const w = row.weight;
  if (row.type === 'dense' && w) {
    const [inputs, outputs] = w.shape;
    const colSums = new Float64Array(inputs); // Σ over outputs for one input: ‖|W|‖₁ of the operator x ↦ xW
    const rowSums = new Float64Array(outputs);
    const subnormals = new Float64Array(outputs);
    for (let i = 0; i < inputs; i++) {
      for (let o = 0; o < outputs; o++) {
        const v = w.values[i * outputs + o];
        const a = Math.abs(v);
        colSums[i] += a;
        rowSums[o] += a;
        if (isSubnormal(v)) subnormals[o]++;
      }
    }
    return { fanIn: inputs, colMax: Math.max(0, ...colSums), rowMax: Math.max(0, ...rowSums), subnormalMax: Math.max(0, ...subnormals) };
  }
  if (row.type === 'conv2d' && w) {
    const [kh, kw, cin, cout] = w.shape;
    const inSums = new Float64Array(cin);
    const outSums = new Float64Array(cout);
    const subnormals = new Float64Array(cout);
    for (let a = 0; a < kh * kw; a++) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) {
          const v = w.values[(a * cin + i) * cout + o];
          inSums[i] += Math.abs(v);
          outSums[o] += Math.abs(v);
          if (isSubnormal(v)) subnormals[o]++;
        }
      }
    }
    return { fanIn: kh * kw * cin, colMax: Math.max(0, ...inSums), rowMax: Math.max(0, ...outSums), subnormalMax: Math.max(0, ...subnormals) };
  }
  return null;
}

/** One validated layer as a network of its own (for the layer-by-layer forward). */
function single(row: ValidatedLayer): ValidatedNetwork {
  return { inputShape: row.inputShape, outputShape: row.outputShape, layers: [row] };
}

/** The same linear layer with |weights| and |bias|. */
function absRow(row: ValidatedLayer): ValidatedLayer {
  return { ...row, weight: row.weight ? absTensor(row.weight) : undefined, bias: row.bias ? absTensor(row.bias) : undefined };
}

/** ‖v‖₂ on the host in float64, rounded up by the host slack. `offset` is added to every entry. */
function hostNorm(values: ArrayLike<number>, start: number, length: number, offset: number, scale: number): { norm: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let i = start; i < start + length; i++) {
    const v = (Math.abs(values[i]) + offset) * scale;
    sum += v * v;
    if (v > max) max = v;
  }
  return { norm: Math.sqrt(sum) * (1 + HOST_ROUNDING_SLACK + length * 2 ** -52), max };
}

/**
 * A rigorous bound on the float32 evaluation error of a `lipschitz-model/1` network over the ℓ2 ball
 * of every radius ε around each input, plus the float32 logits it was computed with.
 *
 * **Theorem.** Let f be the network in exact real arithmetic on the stored float32 weights, and f̃ any
 * evaluation of it in IEEE-754 binary32 with round-to-nearest in which (i) each output of a conv2d or
 * dense layer is the sum, in any order and bracketing, with or without fused multiply-add, and
 * possibly with float64 accumulation, of its n products `w·h` and its bias; (ii) maxMin, groupSort,
 * relu, flatten, padding and invertibleDownsample only compare, select and move values; (iii)
 * subnormal results and operands may or may not be flushed to zero; (iv) a real input x′ is first
 * rounded to float32. Then for every x′ with `‖x′ − x‖₂ ≤ ε ≤ overflowRadius`:
 * `‖f̃(x′) − f(x′)‖₂ ≤ E(ε) = constant + perRadius · ε`, and no float32 value overflows.
 *
 * **Proof sketch.** Write `h_k` / `h̃_k` for the exact / float activations entering layer k and
 * `E_k` for a bound on `‖h̃_k(x′) − h_k(x′)‖₂` over the ball. Higham Lemma 3.1 (any order, `n = fan-in
 * + 1` rounded operations on each term's path) gives `|fl(Wh̃ + b) − (Wh̃ + b)| ≤ γ_n(|W||h̃| + |b|)`
 * componentwise, `γ_n = nu/(1 − nu)`; with flush-to-zero each of the ≤ 2n operations adds at most
 * 2⁻¹²⁶ (a flushed subnormal activation at most 2⁻¹²⁶|w|), giving the per-output term τ. So
 * `E_{k+1} ≤ σ_k E_k + γ_n ‖|W||h̃_k(x′)| + |b|‖₂ + √m τ` (σ_k ≥ ‖W‖₂). The selecting layers are exact in
 * float and 1-Lipschitz, so they keep E. For the middle term, `|h̃_k(x′)| ≤ |ĥ_k| + |h̃_k(x′) − ĥ_k|`
 * with `ĥ_k` the activations this function computed at x (itself a float evaluation at a point of the
 * ball), and `‖h̃_k(x′) − ĥ_k‖₂ ≤ E_k + L_k ε + E_k =: R_k` (L_k = Π σ of the layers before k). Hence
 * `‖|W||h̃_k(x′)| + |b|‖₂ ≤ C_k + ‖|W|‖₂ R_k` with `C_k = ‖|W||ĥ_k| + |b|‖₂`. C_k is computed on the
 * backend as the same layer applied to |ĥ_k| with |W| and |b|: all terms are ≥ 0, so the exact value is
 * at most `(computed + τ)/(1 − γ_n)`; its ℓ2 norm is taken on the host in float64, rounded up.
 * `‖|W|‖₂ ≤ √(‖|W|‖₁ ‖|W|‖∞)`; for a conv those are at most the largest per-input-channel and
 * per-output-channel sums of |kernel|. The input rounding gives `E_0 = u(‖x‖₂ + ε) + 2⁻¹²⁶√d`.
 * Every step is affine in (E_k, ε) with non-negative coefficients, so `E_D = a + b ε`; b does not
 * depend on the example. No overflow: every partial sum is at most `(1 + γ_n)(|W||h̃| + |b|)`
 * componentwise, and each component is at most `max_i C_{k,i} + ‖|W|‖₂ R_k` (affine in ε); the
 * example is certified only for radii where that stays ≤ 2¹²⁷. Subnormal weights (which a backend
 * may flush) add `2⁻¹²⁶ · (their count per output) · √m · (‖ĥ_k‖₂ + R_k)`.
 *
 * How {@link certify} uses it: see its `floatError` option (margin − √2·(E(0) + E(ε)) > √2·ε·L).
 *
 * Cost: one extra backend pass per conv/dense layer (the same op on absolute values) and a host read
 * of those outputs; the layers are run one by one through the same plain tfjs ops as the certifying
 * forward (`exportedForward` of `@lipschitz/model-format`). The layers are checked by the one validator
 * (`validateExportedLayers`) and σ_k and L come from the one bound (`boundValidatedNetwork`), so the
 * norms here are the same numbers `networkLipschitzUpperBound` reports.
 *
 * Ownership: `layers` and `images` (`[N, ...inputShape]`, values as given) are borrowed; everything
 * built is disposed before returning; the result holds plain arrays.
 *
 * @throws LipschitzError what `validateExportedLayers` of `@lipschitz/model-format` throws for the layers;
 *   `SHAPE_MISMATCH` when images do not match `inputShape`; `INVALID_ARGUMENT` on a bad batch size or
 *   non-finite pixels.
 * @example
 * ```ts
 * const r = await float32ErrorBound(exported.input.shape, exported.layers, images);
 * r.error.constant[0] + r.error.perRadius * 1.58; // ℓ2 bound on the float32 error over the 1.58-ball
 * ```
 * @see Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., SIAM 2002, §3.1, §3.5
 *   (γ_n, inner products in any order); Jeannerod & Rump, "Improved error bounds for inner products
 *   in floating-point arithmetic", SIMAX 2013 (the same form without the 1/(1 − nu)).
 */
export async function float32ErrorBound(
  inputShape: readonly number[],
  layers: readonly ExportedLayer[],
  images: tf.Tensor,
  options: Float32ErrorBoundOptions = {},
): Promise<Float32ErrorReport> {
  const batchSize = options.batchSize ?? 100;
  assertPositiveInteger(fn, 'batchSize', batchSize);
  const validated = options.validated ?? validateExportedLayers(layers, inputShape);
  if (validated.layers.length !== layers.length) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: options.validated has ${validated.layers.length} layers, the model ${layers.length}. Pass validateExportedLayers of the same layers.`);
  }
  const network = options.network ?? boundValidatedNetwork(validated);
  if (network.layers.length !== layers.length) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: options.network has ${network.layers.length} layers, the model ${layers.length}. Pass networkLipschitzUpperBound of the same layers.`);
  }
  const got = images.shape.slice(1);
  if (images.rank < 2 || got.length !== inputShape.length || got.some((d, i) => d !== inputShape[i])) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: images have shape [${images.shape.join(', ')}] but the model takes [N, ${inputShape.join(', ')}].`);
  }
  const hostSlack = 1 + HOST_NORM_SLACK;
  const steps: ExportedForward[] = [];
  const plans: (LinearPlan | null)[] = [];
  let perRadius = FLOAT32_UNIT_ROUNDOFF; // b_0: rounding of x′ to float32
  let reach = 1;
  try {
    validated.layers.forEach((row, index) => {
      steps.push(exportedForward(single(row), fn));
      const statics = linearStatics(row);
      if (statics === null) {
        plans.push(null);
        return;
      }
      const report = network.layers[index];
      const outputs = report.outputShape.reduce((a, b) => a * b, 1);
      const n = statics.fanIn + 1;
      const gamma = float32Gamma(n);
      const absNorm = Math.sqrt(statics.colMax * statics.rowMax) * (1 + HOST_ROUNDING_SLACK);
      const sigma = report.spectralNorm * hostSlack;
      // FTZ: ≤ 2n results flushed (each ≤ 2⁻¹²⁶, amplified ≤ 2× by the later additions), flushed
      // subnormal activations (≤ 2⁻¹²⁶ Σ|w|), a flushed bias (≤ 2⁻¹²⁶).
      const tau = FLOAT32_MIN_NORMAL * (4 * n + 2 * statics.rowMax + 2);
      const subnormal = FLOAT32_MIN_NORMAL * statics.subnormalMax * Math.sqrt(outputs) * (1 + HOST_ROUNDING_SLACK);
      plans.push({ index, gamma, absNorm, sigma, reach, outputs, tau, subnormal, abs: exportedForward(single(absRow(row)), fn) });
      // b_{k+1} = σ b + (γ‖|W|‖₂ + ζ)(L_k + 2b)
      perRadius = (sigma * perRadius + (gamma * absNorm + subnormal) * (reach + 2 * perRadius)) * (1 + HOST_ROUNDING_SLACK);
      reach *= sigma;
    });
    const n = images.shape[0];
    const inputSize = got.reduce((a, b) => a * b, 1);
    const constant = new Float64Array(n);
    const overflowRadius = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
    let classes = -1;
    let logits = new Float32Array(0);
    for (let offset = 0; offset < n; offset += batchSize) {
      const size = Math.min(batchSize, n - offset);
      const outputs = tf.tidy(() => {
        let h = tf.cast(tf.slice(images, offset, size), 'float32');
        const kept: tf.Tensor[] = [h];
        layers.forEach((_, index) => {
          const plan = plans[index];
          if (plan) kept.push(plan.abs.predict(tf.abs(h)));
          if (plan && plan.subnormal > 0) kept.push(h);
          h = steps[index].predict(h);
        });
        kept.push(h);
        return kept;
      });
      let values: ArrayLike<number>[];
      try {
        values = await Promise.all(outputs.map((t) => t.data() as Promise<Float32Array>));
      } finally {
        tf.dispose(outputs);
      }
      const out = outputs[outputs.length - 1];
      if (classes < 0) {
        classes = out.size / size;
        logits = new Float32Array(n * classes);
      }
      logits.set(values[values.length - 1] as Float32Array, offset * classes);
      for (let e = 0; e < size; e++) {
        const x = values[0];
        let finite = true;
        for (let i = e * inputSize; i < (e + 1) * inputSize; i++) if (!Number.isFinite(x[i])) finite = false;
        if (!finite) {
          throw new LipschitzError('INVALID_ARGUMENT', `${fn}: image ${offset + e} has a NaN or infinite pixel. Pass finite inputs.`);
        }
        // a_0 = u‖x‖ + 2⁻¹²⁶√d (inputs rounded to float32, subnormal inputs flushed).
        let a = (FLOAT32_UNIT_ROUNDOFF * hostNorm(x, e * inputSize, inputSize, 0, 1).norm + FLOAT32_MIN_NORMAL * Math.sqrt(inputSize)) * (1 + HOST_ROUNDING_SLACK);
        let b = FLOAT32_UNIT_ROUNDOFF;
        let radius = Number.POSITIVE_INFINITY;
        let slot = 1;
        for (const plan of plans) {
          if (!plan) continue;
          const c = values[slot++];
          const m = plan.outputs;
          const abs = hostNorm(c, e * m, m, plan.tau, 1 / (1 - plan.gamma));
          let hNorm = 0;
          if (plan.subnormal > 0) {
            const hv = values[slot++];
            const inSize = hv.length / size;
            hNorm = hostNorm(hv, e * inSize, inSize, 0, 1).norm;
          }
          // Overflow: (1 + γ)(max C + ‖|W|‖₂ R_k) ≤ 2¹²⁷ with R_k = 2a + (L_k + 2b) ε.
          const room = FLOAT32_OVERFLOW_GUARD / (1 + plan.gamma) - abs.max - 2 * plan.absNorm * a;
          const slope = plan.absNorm * (plan.reach + 2 * b);
          const layerRadius = !(room >= 0) || !Number.isFinite(abs.norm) ? -1 : slope > 0 ? room / slope : Number.POSITIVE_INFINITY;
          radius = Math.min(radius, layerRadius);
          // a_{k+1} = σ a + γ(C + 2‖|W|‖₂ a) + √m τ + ζ(‖ĥ‖ + 2a)
          a =
            (plan.sigma * a + plan.gamma * (abs.norm + 2 * plan.absNorm * a) + Math.sqrt(m) * plan.tau + plan.subnormal * (hNorm + 2 * a)) *
            (1 + HOST_ROUNDING_SLACK);
          b = (plan.sigma * b + (plan.gamma * plan.absNorm + plan.subnormal) * (plan.reach + 2 * b)) * (1 + HOST_ROUNDING_SLACK);
        }
        const i = offset + e;
        constant[i] = Number.isFinite(a) && radius >= 0 ? a : Number.POSITIVE_INFINITY;
        overflowRadius[i] = Number.isNaN(radius) ? -1 : radius;
      }
    }
    return {
      logits,
      classes: Math.max(classes, 0),
      count: n,
      error: { constant, perRadius, overflowRadius },
      lipschitz: network.exactArithmeticBound,
      network,
    };
  } finally {
    for (const s of steps) s.dispose();
    for (const p of plans) p?.abs.dispose();
  }
}
