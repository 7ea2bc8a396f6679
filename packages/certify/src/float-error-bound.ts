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
import { type HostLinearStats, hostForward64 } from './host-forward64';

/**
 * The unit roundoff the float32 error analysis uses: `u = 2⁻²⁴ + 2⁻⁵²`. IEEE binary32 round-to-nearest
 * has `u = 2⁻²⁴`; the extra `2⁻⁵²` covers a backend that accumulates in float64 and rounds each
 * partial sum to float32 (double rounding: `|fl32(fl64(r)) − r| ≤ (2⁻²⁴ + 2⁻⁵³ + 2⁻⁷⁷)|r|`), as the
 * tfjs cpu backend does.
 */
export const FLOAT32_UNIT_ROUNDOFF = 2 ** -24 + 2 ** -52;
/** The unit roundoff of the host's float64 forward pass (IEEE binary64 round-to-nearest), `2⁻⁵³`. */
export const FLOAT64_UNIT_ROUNDOFF = 2 ** -53;
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

/** `γ_n` with the float64 unit roundoff {@link FLOAT64_UNIT_ROUNDOFF} (Infinity when `n·u ≥ 1`). */
function float64Gamma(n: number): number {
  const nu = n * FLOAT64_UNIT_ROUNDOFF;
  return nu >= 1 ? Number.POSITIVE_INFINITY : nu / (1 - nu);
}

/**
 * The coefficients of the signed-sum rounding bound for one output of a linear layer with `n` terms
 * (its fan-in products and its bias): for every float32 evaluation of the sum s = Σ tᵢ covered by
 * {@link float32ErrorBound}'s theorem (any order and bracketing, with or without FMA, with float64
 * accumulation), `|ŝ − s| ≤ absolute · S + signed · |s|` with `S = Σ|tᵢ|` (no underflow), where
 * `signed = (n − 1)·u/2` and `absolute = u + (n − 1)·u/2 + (n − 1)·u·γ_n` (u = {@link FLOAT32_UNIT_ROUNDOFF}).
 *
 * **Proof.** The evaluation is a binary tree of n − 1 operations v (additions or fused multiply-adds),
 * plus a rounding of each product that is not fused. Each operation returns its exact result
 * `r_v = ŝ_left + ŝ_right` (resp. `w·h + ŝ_child`) times `1 + δ_v`, `|δ_v| ≤ u` (round-to-nearest in
 * float32, or a float64 partial sum, or float64 then float32). So
 * `ŝ − s = Σ_products (t̂ᵢ − tᵢ) + Σ_v δ_v r_v`, with `|t̂ᵢ − tᵢ| ≤ u|tᵢ|`. Now `r_v` is the exact sum
 * of the terms below v plus the rounding errors below v: the first lies in `[−N, P]` (P, N the sums
 * of the positive terms and of the magnitudes of the negative ones), so it is at most
 * `max(P, N) = (S + |s|)/2` in magnitude; the second is at most `γ_n·S` (Higham, Lemma 3.1, any
 * tree). Summing over the n − 1 operations gives the bound. It improves the classical `γ_n·S` by up
 * to 2× when the terms have mixed signs (then `|s| ≪ S`); with all terms of one sign it is `≈ n·u·S`.
 * @example
 * ```ts
 * const { absolute, signed } = float32SumErrorCoefficients(1569);
 * const bound = absolute * absSum + signed * Math.abs(sum);
 * ```
 * @see Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., SIAM 2002, §2.2 (the model
 *   fl(a op b) = (a op b)(1 + δ)), §3.1 (Lemma 3.1), §4.2 (summation as a tree of additions).
 */
export function float32SumErrorCoefficients(n: number): { absolute: number; signed: number } {
  const u = FLOAT32_UNIT_ROUNDOFF;
  const ops = Math.max(0, n - 1);
  return { absolute: u + (ops * u) / 2 + ops * u * float32Gamma(n), signed: (ops * u) / 2 };
}

/**
 * Per-example bound on the float32 evaluation error of a network over an ℓ2 ball:
 * for example n and every radius ε ≤ `overflowRadius[n]`,
 * `sup_{‖x′ − xₙ‖₂ ≤ ε} ‖f̃(x′) − f(x′)‖₂ ≤ constant[n] + perRadius · ε`
 * (f the exact network, f̃ any float32 evaluation of it; see {@link float32ErrorBound}), and the
 * exact network's logits at xₙ to within `centerError[n]`.
 */
export interface Float32ErrorBound {
  /** The radius-independent part `aₙ` of the ℓ2 error bound (Infinity when the example overflows). */
  constant: Float64Array;
  /** The per-unit-radius part `b` (the same for every example). */
  perRadius: number;
  /** The largest radius at which no float32 partial sum can overflow (−1: overflow possible at x itself). */
  overflowRadius: Float64Array;
  /**
   * The logits of the exact network at each example computed in float64 on the host, `[count, classes]`
   * row-major; the certificate rule takes its margins from them (instead of the float32 logits minus
   * `√2·constant`). Absent: the rule uses the float32 logits and E(0) = `constant`.
   */
  centerLogits?: Float64Array;
  /** With `centerLogits`: `centerError[n] ≥ ‖centerLogits[n] − f(xₙ)‖₂` (Infinity if the host pass overflowed). */
  centerError?: Float64Array;
}

/** Result of {@link float32ErrorBound}. */
export interface Float32ErrorReport {
  /** The float32 logits `[count, classes]` row-major, computed by the backend from the exported layers. */
  logits: Float32Array;
  /** Number of classes C. */
  classes: number;
  /** Number of examples. */
  count: number;
  /** The error bound per example, with the host float64 logits (`centerLogits`, `centerError`). */
  error: Float32ErrorBound & { centerLogits: Float64Array; centerError: Float64Array };
  /**
   * The ℓ2 Lipschitz bound of the EXACT network: `lipschitzUpperBound` of the model-format bound, the
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
  /**
   * Which examples get the exact logits from the float64 host forward (`centerLogits`, `centerError`):
   * `'all'` (default), `'none'` (then `centerLogits` are the float32 logits and `centerError` = E(0)),
   * or `{ epsilons }`: only the examples whose float32 top-2 margin m̃ lies where the host logits can
   * decide a certificate at one of these radii, `√2(L + b)ε < m̃ ≤ √2(L + b)ε + 2√2·a` (about 1% of a
   * trained model's test set; the others keep the float32 logits and e₀ = E(0), also proven).
   */
  center?: 'all' | 'none' | { epsilons: readonly number[] };
}

interface LinearPlan {
  /** n: fan-in + 1 terms per output. */
  terms: number;
  /** Coefficient of S = ‖|W||h̃| + |b|‖ in the rounding bound ({@link float32SumErrorCoefficients}). */
  alpha: number;
  /** Coefficient of ‖W h̃ + b‖ in the rounding bound. */
  kappa: number;
  /** γ_n of float32 (the partial-sum growth for the overflow guard). */
  gamma: number;
  /** γ_n of the host float64 pass. */
  hostGamma: number;
  /** Upper bound on ‖|W|‖₂ (the operator with entries |W_ij|, one entry per product term). */
  absNorm: number;
  /** σ_k · (1 + HOST_NORM_SLACK): a bound on the exact operator norm (the model-format slack policy). */
  sigma: number;
  /** Product of the σ of the layers before: the reach factor L_k. */
  reach: number;
  /** Number of outputs m_k (per example). */
  outputs: number;
  /** Number of inputs per example. */
  inputs: number;
  /** Per-output absolute underflow term τ_k. */
  tau: number;
  /** 2⁻¹²⁶ · (max number of subnormal weights feeding one output) · √m_k. */
  subnormal: number;
  /** The forward of the same layer on |weights| (and |bias|). */
  abs: ExportedForward;
}

const fn = 'float32ErrorBound';

function isSubnormal(v: number): boolean {
  return v !== 0 && Math.abs(v) < FLOAT32_MIN_NORMAL;
}

/**
 * An upper bound on `‖S‖₂` for a non-negative `rows × cols` matrix S (row-major), by the
 * Collatz–Wielandt bound: for A = S·Sᵀ ≥ 0 and any u > 0, `ρ(A) ≤ max_i (Au)_i / u_i`
 * (Horn & Johnson, Matrix Analysis, 2nd ed., Thm 8.1.26), with u from a power iteration on A (kept
 * > 0 by a floor); at most the classical `√(‖S‖₁‖S‖∞)` (which is A's bound at u = 1, up to rounding).
 * All host sums have non-negative terms, so `1 + HOST_ROUNDING_SLACK` covers their rounding.
 */
function nonNegativeNormBound(s: Float64Array, rows: number, cols: number, colRow: number): number {
  const apply = (u: Float64Array) => {
    const t = new Float64Array(cols);
    for (let i = 0; i < rows; i++) {
      const ui = u[i];
      if (ui === 0) continue;
      for (let j = 0; j < cols; j++) t[j] += s[i * cols + j] * ui;
    }
    const r = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      let acc = 0;
      for (let j = 0; j < cols; j++) acc += s[i * cols + j] * t[j];
      r[i] = acc;
    }
    return r;
  };
  let u = new Float64Array(rows).fill(1);
  let best = Number.POSITIVE_INFINITY;
  for (let iteration = 0; iteration < 60; iteration++) {
    const r = apply(u);
    let ratio = 0;
    let top = 0;
    for (let i = 0; i < rows; i++) {
      ratio = Math.max(ratio, r[i] / u[i]);
      top = Math.max(top, r[i]);
    }
    best = Math.min(best, ratio);
    if (!(top > 0)) break;
    u = r.map((v) => Math.max(v / top, 1e-200));
  }
  // exact (S·Sᵀu)ᵢ ≤ computed · (1 + γ⁶⁴_{rows + cols}); the division and the square root round once each
  const bound = Math.sqrt(best) * (1 + HOST_ROUNDING_SLACK + 2 * (rows + cols + 2) * 2 ** -52);
  return Number.isFinite(bound) ? Math.min(bound, colRow) : colRow;
}

/**
 * Static per-layer quantities of a linear layer: fan-in, a bound on ‖|W|‖₂ (for a conv: on the
 * operator with one entry |kernel tap| per product term, bounded by ‖S‖₂ with S the `cin × cout`
 * matrix of per-channel sums of |kernel| over the taps — Collatz–Wielandt with a test vector constant
 * over space), the largest row ℓ1 norm and the subnormal count per output.
 */
function linearStatics(row: ValidatedLayer) {
  const w = row.weight;
  if (!w || (row.type !== 'dense' && row.type !== 'conv2d')) return null;
  const dense = row.type === 'dense';
  const taps = dense ? 1 : w.shape[0] * w.shape[1];
  const rows = dense ? w.shape[0] : w.shape[2];
  const cols = dense ? w.shape[1] : w.shape[3];
  const s = new Float64Array(rows * cols);
  const subnormals = new Float64Array(cols);
  for (let a = 0; a < taps; a++) {
    for (let i = 0; i < rows; i++) {
      for (let o = 0; o < cols; o++) {
        const v = w.values[(a * rows + i) * cols + o];
        s[i * cols + o] += Math.abs(v);
        if (isSubnormal(v)) subnormals[o]++;
      }
    }
  }
  const colSums = new Float64Array(rows); // Σ over outputs for one input
  const rowSums = new Float64Array(cols); // Σ over inputs for one output
  for (let i = 0; i < rows; i++) {
    for (let o = 0; o < cols; o++) {
      colSums[i] += s[i * cols + o];
      rowSums[o] += s[i * cols + o];
    }
  }
  const colMax = maxOf(colSums);
  const rowMax = maxOf(rowSums);
  const colRow = Math.sqrt(colMax * rowMax) * (1 + HOST_ROUNDING_SLACK);
  return { fanIn: taps * rows, absNorm: nonNegativeNormBound(s, rows, cols, colRow), rowMax, subnormalMax: maxOf(subnormals) };
}

function absTensor(t: DecodedTensor): DecodedTensor {
  return { shape: [...t.shape], values: t.values.map(Math.abs) };
}

/** One validated layer as a network of its own (for the layer-by-layer forward). */
function single(row: ValidatedLayer): ValidatedNetwork {
  return { inputShape: row.inputShape, outputShape: row.outputShape, layers: [row] };
}

/** The same linear layer with |weights| and |bias|. */
function absRow(row: ValidatedLayer): ValidatedLayer {
  return { ...row, weight: row.weight ? absTensor(row.weight) : undefined, bias: row.bias ? absTensor(row.bias) : undefined };
}

/** ‖v‖₂ of `length` values from `start`, each `(|v| + offset)·scale`, on the host in float64, rounded up; and the largest. */
function hostNorm(values: ArrayLike<number>, start: number, length: number, offset: number, scale: number): { norm: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let i = start; i < start + length; i++) {
    const v = (Math.abs(values[i]) + offset) * scale;
    sum += v * v;
    if (v > max) max = v;
  }
  return { norm: normUp(sum, length), max: max * (1 + HOST_ROUNDING_SLACK) };
}

function maxOf(values: Float64Array): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return max;
}

/** `√(sum of squares)` of `length` float64 terms, rounded up. */
function normUp(squares: number, length: number): number {
  return Math.sqrt(squares) * (1 + HOST_ROUNDING_SLACK + length * 2 ** -52);
}

/**
 * A rigorous bound on the float32 evaluation error of a `lipschitz-model/1` network over the ℓ2 ball
 * of every radius ε around each input, the float32 logits it was computed with, and the exact
 * network's logits at each input, computed in float64 on the host to within a proven error.
 *
 * **Theorem.** Let f be the network in exact real arithmetic on the stored float32 weights, and f̃ any
 * evaluation of it in IEEE-754 binary32 with round-to-nearest in which (i) each output of a conv2d or
 * dense layer is the sum of its n products `w·h` and its bias (n − 1 = fan-in) as a binary tree of
 * n − 1 additions or fused multiply-adds, in any order and bracketing, each rounded to float32
 * (directly, or as a float64 partial sum, or float64 then float32), each unfused product rounded to
 * float32; (ii) maxMin, groupSort, relu, flatten, padding and invertibleDownsample only compare,
 * select and move values; (iii) subnormal results and operands may or may not be flushed to zero;
 * (iv) a real input x′ is first rounded to float32. Then for every x′ with
 * `‖x′ − x‖₂ ≤ ε ≤ overflowRadius`: `‖f̃(x′) − f(x′)‖₂ ≤ E(ε) = constant + perRadius · ε`, and no
 * float32 value overflows. Moreover `‖centerLogits − f(x)‖₂ ≤ centerError` (x as given, not rounded).
 *
 * **Proof sketch.** Write `h_k` / `h̃_k` for the exact / float activations entering layer k at x′, `ĥ_k`
 * for the float32 activations this function computed at x (a float evaluation at a point of the ball)
 * and `E_k` for a bound on `‖h̃_k − h_k‖₂` over the ball; then `‖h̃_k − ĥ_k‖₂ ≤ R_k := 2E_k + L_k ε`
 * (L_k = Π σ of the layers before k). For a linear layer, with S = |W||h̃_k| + |b| and s = W h̃_k + b
 * (exact, on the float inputs), {@link float32SumErrorCoefficients} gives per output
 * `|fl(s) − s| ≤ α S + κ|s| + τ` (τ: flushed subnormals, each of the ≤ 2n operations adding at most
 * 2⁻¹²⁶, a flushed subnormal activation at most 2⁻¹²⁶|w|). So `E_{k+1} ≤ σ_k E_k + α‖S‖₂ + κ‖s‖₂ + √m τ`
 * (σ_k ≥ ‖W‖₂), with `‖S‖₂ ≤ C_k + ‖|W|‖₂ R_k` and `‖s‖₂ ≤ P_k + σ_k R_k`. Here `C_k ≥ ‖|W||ĥ_k| + |b|‖₂`
 * is computed on the backend as the same layer applied to |ĥ_k| with |W| and |b| (all terms ≥ 0, so
 * the exact value is at most `(computed + τ)/(1 − γ_n)`), its ℓ2 norm on the host in float64, rounded
 * up; and `P_k = (‖ŷ_k‖₂ + α C_k + √m τ)/(1 − κ) ≥ ‖W ĥ_k + b‖₂` from the backend's output ŷ_k = fl(W ĥ_k + b)
 * (the same rounding bound at ĥ). The selecting layers are exact in float and 1-Lipschitz, so they
 * keep E and R. `‖|W|‖₂` is bounded by the Collatz–Wielandt bound of the non-negative matrix of
 * |weights| (for a conv, of the per-channel sums of |kernel| over the taps: test vector constant over
 * space), at most `√(‖|W|‖₁ ‖|W|‖∞)`. The input rounding gives `E_0 = u(‖x‖₂ + ε) + 2⁻¹²⁶√d`. Every
 * step is affine in (E_k, ε) with non-negative coefficients, so `E_D = a + b ε`; b does not depend on
 * the example. No overflow: every partial sum is at most `(1 + γ_n) S` componentwise, and each
 * component of S is at most `max_o C_{k,o} + ‖|W|‖₂ R_k` (affine in ε), the inputs at most `max|x| + ε`;
 * the example is certified only for radii where these stay ≤ 2¹²⁷. Subnormal weights (which a backend
 * may flush) add `2⁻¹²⁶ · (their count per output) · √m · (‖ĥ_k‖₂ + R_k)`.
 * **Center.** {@link hostForward64} evaluates the network at x in float64 (ẑ_k); per linear layer
 * `‖fl64(W ẑ + b) − (W ẑ + b)‖₂ ≤ γ⁶⁴_n ‖|W||ẑ| + |b|‖₂ + √m·n·2⁻¹⁰⁷⁴` (Higham, Lemma 3.1, u = 2⁻⁵³, and
 * the underflow of each product; the host sum of non-negative terms is exact to `1 + γ⁶⁴_n`), so
 * `c_{k+1} = σ_k c_k + γ⁶⁴_n ‖Ŝ‖₂ + √m·n·2⁻¹⁰⁷⁴`, c_0 = 0, bounds `‖ẑ_k − h_k(x)‖₂`. An example without
 * the host pass (`center` option) gets the float32 logits and `centerError = a` (= E(0)).
 *
 * How {@link certify} uses it: see its `floatError` option
 * (`margin(centerLogits) − √2·centerError > √2·ε·L + √2·E(ε)`).
 *
 * Cost: one extra backend pass per conv/dense layer (the same op on absolute values) and a host read
 * of those outputs and of the layers' outputs; the layers are run one by one through the same plain
 * tfjs ops as the certifying forward (`exportedForward` of `@lipschitz/model-format`); the float64 host
 * forward (about twice the network's multiply-adds per example in JavaScript, ~10× the backend's
 * time) for the examples `center` selects. The layers are checked by the one validator
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
 * r.error.centerLogits.subarray(0, r.classes); // the exact logits of image 0, within r.error.centerError[0]
 * ```
 * @see Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., SIAM 2002, §2.2, §3.1, §4.2
 *   (γ_n, sums as trees of roundings in any order); Horn & Johnson, Matrix Analysis, 2nd ed.,
 *   Thm 8.1.26 (Collatz–Wielandt). Jeannerod & Rump, "Improved error bounds for inner products in
 *   floating-point arithmetic", SIMAX 34(2), 2013, remove the 1/(1 − nu) of γ_n for a single
 *   round-to-nearest format; not used here (double rounding is covered instead, and at n·u ≈ 1e-4
 *   the factor is 1.0001).
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
  const u = FLOAT32_UNIT_ROUNDOFF;
  const slack = 1 + HOST_ROUNDING_SLACK;
  const steps: ExportedForward[] = [];
  const plans: (LinearPlan | null)[] = [];
  let perRadius = u; // b_0: rounding of x′ to float32
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
      const terms = statics.fanIn + 1;
      const { absolute: alpha, signed: kappa } = float32SumErrorCoefficients(terms);
      const sigma = report.spectralNorm * (1 + HOST_NORM_SLACK);
      // FTZ: ≤ 2n results flushed (each ≤ 2⁻¹²⁶, amplified ≤ 2× by the later additions), flushed
      // subnormal activations (≤ 2⁻¹²⁶ Σ|w|), a flushed bias (≤ 2⁻¹²⁶).
      const tau = FLOAT32_MIN_NORMAL * (4 * terms + 2 * statics.rowMax + 2);
      const subnormal = FLOAT32_MIN_NORMAL * statics.subnormalMax * Math.sqrt(outputs) * slack;
      const inputs = row.inputShape.reduce((a, b) => a * b, 1);
      const abs = exportedForward(single(absRow(row)), fn);
      plans.push({ terms, alpha, kappa, gamma: float32Gamma(terms), hostGamma: float64Gamma(terms), absNorm: statics.absNorm, sigma, reach, outputs, inputs, tau, subnormal, abs });
      // b_{k+1} = σ b + (α‖|W|‖₂ + κσ + ζ)(L_k + 2b)
      perRadius = (sigma * perRadius + (alpha * statics.absNorm + kappa * sigma + subnormal) * (reach + 2 * perRadius)) * slack;
      reach *= sigma;
    });
    const n = images.shape[0];
    const inputSize = got.reduce((a, b) => a * b, 1);
    const classes = validated.outputShape.reduce((a, b) => a * b, 1);
    const constant = new Float64Array(n);
    const overflowRadius = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
    const logits = new Float32Array(n * classes);
    const centerLogits = new Float64Array(n * classes);
    const centerError = new Float64Array(n);
    const mode = options.center ?? 'all';
    if (mode !== 'all' && mode !== 'none' && !Array.isArray(mode?.epsilons)) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: options.center must be 'all', 'none' or { epsilons: [...] }, got ${JSON.stringify(mode)}.`);
    }
    const host = mode === 'none' ? null : hostForward64(validated);
    const lipschitz = network.lipschitzUpperBound;
    const wanted = (a: number, top2: number): boolean => {
      if (mode === 'all') return true;
      if (mode === 'none' || !(top2 > 0)) return false;
      return mode.epsilons.some((e) => {
        const t = Math.SQRT2 * (lipschitz + perRadius) * e;
        return top2 > t * (1 - 1e-9) && top2 <= (t + 2 * Math.SQRT2 * a) * (1 + 1e-9);
      });
    };
    for (let offset = 0; offset < n; offset += batchSize) {
      const size = Math.min(batchSize, n - offset);
      const [raw, ...outputs] = tf.tidy(() => {
        const batch = tf.slice(images, offset, size);
        let h = tf.cast(batch, 'float32');
        const kept: tf.Tensor[] = [batch, h];
        validated.layers.forEach((_, index) => {
          const plan = plans[index];
          if (plan) kept.push(plan.abs.predict(tf.abs(h)));
          if (plan && plan.subnormal > 0) kept.push(h);
          h = steps[index].predict(h);
          if (plan && index < validated.layers.length - 1) kept.push(h); // the pre-activations ŷ
        });
        kept.push(h);
        return kept;
      });
      let values: ArrayLike<number>[];
      let x: ArrayLike<number>;
      try {
        [x, ...values] = await Promise.all([raw, ...outputs].map((t) => t.data() as Promise<ArrayLike<number>>));
      } finally {
        tf.dispose([raw, ...outputs]);
      }
      const z = values[values.length - 1];
      logits.set(z as Float32Array, offset * classes);
      for (let i = 0; i < size * inputSize; i++) {
        if (!Number.isFinite(x[i]) || !Number.isFinite(values[0][i])) {
          throw new LipschitzError('INVALID_ARGUMENT', `${fn}: image ${offset + Math.floor(i / inputSize)} has a NaN or infinite pixel. Pass finite inputs.`);
        }
      }
      const refine: number[] = [];
      for (let e = 0; e < size; e++) {
        const input = hostNorm(x, e * inputSize, inputSize, 0, 1);
        // a_0 = u‖x‖ + 2⁻¹²⁶√d (inputs rounded to float32, subnormal inputs flushed).
        let a = (u * input.norm + FLOAT32_MIN_NORMAL * Math.sqrt(inputSize)) * slack;
        let b = u;
        // the inputs x′ themselves: |x′ᵢ| ≤ max|x| + ε ≤ 2¹²⁷
        let radius = FLOAT32_OVERFLOW_GUARD - input.max;
        let slot = 1;
        validated.layers.forEach((_, index) => {
          const plan = plans[index];
          if (!plan) return;
          const m = plan.outputs;
          const c = values[slot++];
          // C = ‖|W||ĥ| + |b|‖₂ at the float32 activations ĥ at x: all terms ≥ 0, exact ≤ (computed + τ)/(1 − γ)
          const abs = hostNorm(c, e * m, m, plan.tau, 1 / (1 - plan.gamma));
          let hNorm = 0;
          if (plan.subnormal > 0) {
            const hv = values[slot++];
            hNorm = hostNorm(hv, e * plan.inputs, plan.inputs, 0, 1).norm;
          }
          // ‖W ĥ + b‖₂ ≤ (‖ŷ‖₂ + α C + √m τ)/(1 − κ), ŷ the backend's output (the last layer's: the logits)
          const y = index < validated.layers.length - 1 ? values[slot++] : z;
          const pre = plan.kappa < 1 ? (hostNorm(y, e * m, m, 0, 1).norm + plan.alpha * abs.norm + Math.sqrt(m) * plan.tau) / (1 - plan.kappa) : Number.POSITIVE_INFINITY;
          // R_k = 2a + (L_k + 2b)ε: ĥ is itself a float evaluation at a point of the ball.
          // Overflow: (1 + γ)(max C + ‖|W|‖₂ R_k) ≤ 2¹²⁷.
          const room = FLOAT32_OVERFLOW_GUARD / (1 + plan.gamma) - abs.max - 2 * plan.absNorm * a;
          const slope = plan.absNorm * (plan.reach + 2 * b);
          const layerRadius = !(room >= 0) || !Number.isFinite(abs.norm) ? -1 : slope > 0 ? room / slope : Number.POSITIVE_INFINITY;
          radius = Math.min(radius, layerRadius);
          // a_{k+1} = σa + α(C + 2‖|W|‖₂a) + κ(P + 2σa) + √m τ + ζ(‖ĥ‖ + 2a)
          a =
            (plan.sigma * a +
              plan.alpha * (abs.norm + 2 * plan.absNorm * a) +
              plan.kappa * (pre + 2 * plan.sigma * a) +
              Math.sqrt(m) * plan.tau +
              plan.subnormal * (hNorm + 2 * a)) *
            slack;
          b = (plan.sigma * b + (plan.alpha * plan.absNorm + plan.kappa * plan.sigma + plan.subnormal) * (plan.reach + 2 * b)) * slack;
        });
        const i = offset + e;
        constant[i] = Number.isFinite(a) && radius >= 0 ? a : Number.POSITIVE_INFINITY;
        overflowRadius[i] = Number.isNaN(radius) || radius < 0 ? -1 : radius;
        // without the host pass: the float32 logits, within E(0) = a of f(x)
        for (let j = 0; j < classes; j++) centerLogits[i * classes + j] = z[e * classes + j];
        centerError[i] = constant[i];
        let first = Number.NEGATIVE_INFINITY;
        let second = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < classes; j++) {
          const v = z[e * classes + j];
          if (v > first) [first, second] = [v, first];
          else if (v > second) second = v;
        }
        if (host && Number.isFinite(constant[i]) && wanted(constant[i], first - second)) refine.push(e);
      }
      if (host && refine.length > 0) {
        const subset = new Float64Array(refine.length * inputSize);
        refine.forEach((e, k) => {
          for (let q = 0; q < inputSize; q++) subset[k * inputSize + q] = x[e * inputSize + q];
        });
        const result = host.run(subset, refine.length);
        refine.forEach((e, k) => {
          // c_{k+1} = σc + γ⁶⁴‖Ŝ‖ + √m·n·2⁻¹⁰⁷⁴, Ŝ = |W||ẑ| + |b| on the host (non-negative terms: exact ≤ computed·(1 + γ⁶⁴))
          let c = 0;
          let linear = 0;
          for (const plan of plans) {
            if (!plan) continue;
            const stats: HostLinearStats = result.linear[linear++];
            const absNorm = normUp(stats.absSquares[k], plan.outputs) * (1 + plan.hostGamma);
            c = (plan.sigma * c + plan.hostGamma * absNorm + Math.sqrt(plan.outputs) * plan.terms * 2 ** -1074) * slack;
          }
          const i = offset + e;
          let finite = Number.isFinite(c);
          for (let j = 0; j < classes; j++) if (!Number.isFinite(result.logits[k * classes + j])) finite = false;
          if (finite) {
            centerLogits.set(result.logits.subarray(k * classes, (k + 1) * classes), i * classes);
            centerError[i] = c;
          }
        });
      }
    }
    return {
      logits,
      classes,
      count: n,
      error: { constant, perRadius, overflowRadius, centerLogits, centerError },
      lipschitz,
      network,
    };
  } finally {
    for (const step of steps) step.dispose();
    for (const plan of plans) plan?.abs.dispose();
  }
}
