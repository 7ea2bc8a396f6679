import { LipschitzError, assertPositiveNumber } from '@lipschitz/core';
import type * as tf from '@tensorflow/tfjs-core';
import type { Float32ErrorBound } from './float-error-bound';
import { checkLabelValues, checkLogitsAndLabels } from './inputs';

/**
 * How certification accounts for the float32 evaluation of the network.
 * - `'rigorous'` (default): a proven bound E(ε) on the float32 error over the whole ball
 *   ({@link float32ErrorBound}) is subtracted from the margin; nothing is assumed about rounding.
 * - `'assume-relative-1e-5'`: the old rule `margin > √2·ε·L`, which rests on the ASSUMPTION that each
 *   float32 layer behaves like the exact one with weights perturbed by at most 1e-5 relative (the
 *   slack inside `networkLipschitzUpperBound`'s L); large biases, activations or inputs break it.
 */
export type FloatErrorModel = 'rigorous' | 'assume-relative-1e-5';

/** Options of {@link certify}. */
export interface CertifyOptions {
  /** A sound upper bound L on the network's ℓ2 Lipschitz constant (e.g. from {@link networkLipschitzUpperBound}). */
  lipschitz: number;
  /** The ℓ2 radii ε at which certified accuracy is reported (each finite and ≥ 0). */
  epsilons: readonly number[];
  /** Default `'rigorous'`, which needs `floatError`. See {@link FloatErrorModel}. */
  floatErrorModel?: FloatErrorModel;
  /**
   * The float32 error bound of the network that produced `logits`, one entry per example, from
   * {@link float32ErrorBound} on the same inputs (and `lipschitz` then the bound of the exact network,
   * its `lipschitz`). Required by the default `floatErrorModel: 'rigorous'`.
   */
  floatError?: Float32ErrorBound;
}

/** Per-example certificates and accuracies computed by {@link certify}. */
export interface CertifyResult {
  /** `relu(z_t − max_{i≠t} z_i)` in float64 from the float32 logits; 0 when misclassified or tied. */
  margins: Float64Array;
  /**
   * Certified ℓ2 radii: the prediction provably cannot change within this distance. `'rigorous'`:
   * `(margin − 2√2·a) / (√2·L + √2·b)` capped at the overflow radius (E(ε) = a + b·ε); the old rule:
   * `margin / (√2 · L)`.
   */
  radii: Float64Array;
  /** `argmax_i z_i` (the first index on ties, as `tf.argMax`). */
  predictions: Int32Array;
  /** 1 where `predictions[n] === labels[n]`. */
  correct: Uint8Array;
  /** Fraction of correctly classified examples, in [0, 1]. */
  clean: number;
  /** For each ε (keyed `String(ε)`): fraction of examples correct with `margin > √2 · ε · L`. */
  certifiedAccuracy: Record<string, number>;
  /** The L the certificates use. */
  lipschitz: number;
  /** The float error model the certificates use. */
  floatErrorModel: FloatErrorModel;
  /** Number of examples. */
  count: number;
}

/**
 * Certified ℓ2 robustness from logits and a sound Lipschitz bound (the reference's
 * `accuracy_lowerbound_lnet`), made sound for float32 evaluation.
 *
 * **Default rule (`floatErrorModel: 'rigorous'`).** Given float32 logits z̃ = f̃(x) of the network at x,
 * L ≥ the Lipschitz constant of the exact network f, and E(ε) = a + b·ε ≥ ‖f̃(x′) − f(x′)‖₂ for every x′
 * with ‖x′ − x‖₂ ≤ ε and every float32 evaluation f̃ ({@link float32ErrorBound}; E(0) = a bounds the
 * error at x itself), example n with label t is certified at ε iff it is correct, ε ≤ the overflow
 * radius, and `z̃_t − max_{j≠t} z̃_j > (√2·L·ε + √2·(E(0) + E(ε))) · (1 + 1e-12)`, i.e. margin −
 * √2·(2a + b·ε) > √2·L·ε.
 * **Guarantee:** then for every x′ in the ball, the exact network AND every float32 evaluation of it
 * covered by {@link float32ErrorBound}'s theorem (this backend's included) predict t, strictly.
 * Proof: for j ≠ t, `f_t(x′) − f_j(x′) ≥ f_t(x) − f_j(x) − √2·L·ε` (the map v ↦ v_t − v_j has norm √2);
 * `f_t(x) − f_j(x) ≥ z̃_t − z̃_j − (|e_t(x)| + |e_j(x)|)` with e = f̃ − f and z̃ = f̃(x), and
 * `|e_t| + |e_j| ≤ √2‖e‖₂ ≤ √2·E(0)`; likewise `f̃_t(x′) − f̃_j(x′) ≥ f_t(x′) − f_j(x′) − √2·E(ε)`.
 * Adding: `f̃_t(x′) − f̃_j(x′) ≥ z̃_t − z̃_j − √2·L·ε − √2·(E(0) + E(ε)) > 0`, and the exact margin
 * `f_t(x′) − f_j(x′)` is larger still by the last subtracted `√2·E(ε)`.
 * The factor 1 + 1e-12 absorbs the host's float64 rounding of the threshold and of the margin.
 *
 * **Old rule (`floatErrorModel: 'assume-relative-1e-5'`)** — rests on an assumption, see
 * {@link FloatErrorModel}:
 *
 * For example n with label t: `M_n = relu(z_t − max_{i≠t} z_i)` and the certified radius is
 * `r_n = M_n / (√2 · L)`. Why: if f is L-Lipschitz in ℓ2, `z_t − z_i` is `√2·L`-Lipschitz, so no
 * perturbation with `‖δ‖₂ ≤ r_n` can make another logit overtake `z_t`. An example counts as certified
 * at ε iff it is correctly classified and `M_n > √2 · ε · L` (strict), so a misclassified example
 * (M = 0) or a tie is never certified. Margins are computed in float64 from the float32 logits (the
 * difference of two float32 values is exact in float64).
 *
 * Reads the tensors with `await data()`. Ownership: `logits` (`[N, C]`) and `labels` (int32 `[N]`)
 * are borrowed; the result holds plain arrays.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` on wrong ranks or sizes, or a `floatError` of another
 *   length; `INVALID_ARGUMENT` on a non-positive L, a negative or non-finite ε, labels outside [0, C),
 *   non-finite logits, an unknown `floatErrorModel`, or `'rigorous'` without `floatError`.
 * @example
 * ```ts
 * const b = await float32ErrorBound(exported.input.shape, exported.layers, images);
 * const logits = tf.tensor2d(b.logits, [b.count, b.classes]);
 * const r = await certify(logits, labels, { lipschitz: b.lipschitz, epsilons: [1.58, 0.3], floatError: b.error });
 * r.certifiedAccuracy['1.58']; r.radii[0];
 * // the old rule, on logits alone:
 * await certify(logits, labels, { lipschitz: 1.000002, epsilons: [1.58], floatErrorModel: 'assume-relative-1e-5' });
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7); Tsuzuku et al., "Lipschitz-Margin Training",
 *   NeurIPS 2018 (the √2 factor).
 */
export async function certify(logits: tf.Tensor, labels: tf.Tensor, options: CertifyOptions): Promise<CertifyResult> {
  const fn = 'certify';
  const { n, c } = checkLogitsAndLabels(fn, logits, labels);
  const { lipschitz, epsilons, floatErrorModel, floatError } = options ?? ({} as CertifyOptions);
  assertPositiveNumber(fn, 'lipschitz', lipschitz);
  checkEpsilons(fn, epsilons);
  const model = checkFloatErrorModel(fn, floatErrorModel);
  if (model === 'rigorous') checkFloatError(fn, floatError, n);
  const z = await logits.data();
  const y = await labels.data();
  checkLabelValues(fn, y, c);
  return certifyValues(fn, z, y, n, c, lipschitz, epsilons, model === 'rigorous' ? floatError : undefined);
}

/** Returns the float error model (default `'rigorous'`) or throws on an unknown one. @internal */
export function checkFloatErrorModel(fn: string, model: unknown): FloatErrorModel {
  if (model === undefined || model === 'rigorous') return 'rigorous';
  if (model === 'assume-relative-1e-5') return model;
  throw new LipschitzError('INVALID_ARGUMENT', `${fn}: floatErrorModel must be 'rigorous' (default) or 'assume-relative-1e-5', got ${JSON.stringify(model)}.`);
}

function checkFloatError(fn: string, floatError: Float32ErrorBound | undefined, n: number): asserts floatError is Float32ErrorBound {
  if (floatError == null) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `${fn}: the default floatErrorModel 'rigorous' needs options.floatError, the float32 error bound of the network at these inputs (float32ErrorBound(...).error, with lipschitz from the same call). Pass floatErrorModel: 'assume-relative-1e-5' to certify logits alone under the old assumption.`,
    );
  }
  if (floatError.constant?.length !== n || floatError.overflowRadius?.length !== n || !(floatError.perRadius >= 0)) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: floatError must have one constant and overflowRadius per example (${n}) and perRadius >= 0. Pass float32ErrorBound(...).error for the same inputs.`);
  }
}

/** The relative slack on the host's float64 threshold and margin (see {@link certify}). */
const THRESHOLD_SLACK = 1e-12;

/** Throws unless `epsilons` is an array of finite numbers ≥ 0. @internal */
export function checkEpsilons(fn: string, epsilons: unknown): asserts epsilons is readonly number[] {
  if (!Array.isArray(epsilons)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: epsilons must be an array of radii >= 0, e.g. [1.58, 0.3].`);
  }
  for (const e of epsilons) {
    if (typeof e !== 'number' || !Number.isFinite(e) || e < 0) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: every epsilon must be a finite number >= 0, got ${String(e)}.`);
    }
  }
}

/** {@link certify} on host arrays (row-major `[n, c]` logits). @internal */
export function certifyValues(
  fn: string,
  z: ArrayLike<number>,
  y: ArrayLike<number>,
  n: number,
  c: number,
  lipschitz: number,
  epsilons: readonly number[],
  floatError?: Float32ErrorBound,
): CertifyResult {
  const margins = new Float64Array(n);
  const radii = new Float64Array(n);
  const predictions = new Int32Array(n);
  const correct = new Uint8Array(n);
  const scale = Math.SQRT2 * lipschitz;
  let cleanCount = 0;
  for (let i = 0; i < n; i++) {
    const row = i * c;
    const t = y[i];
    let best = 0;
    let otherMax = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < c; j++) {
      const v = z[row + j];
      if (!Number.isFinite(v)) {
        throw new LipschitzError('INVALID_ARGUMENT', `${fn}: logit [${i}, ${j}] is ${v}; logits must be finite. Check the model for overflow.`);
      }
      if (v > z[row + best]) best = j;
      if (j !== t && v > otherMax) otherMax = v;
    }
    predictions[i] = best;
    const isCorrect = best === t;
    correct[i] = isCorrect ? 1 : 0;
    if (isCorrect) cleanCount++;
    const margin = Math.max(0, z[row + t] - otherMax);
    margins[i] = margin;
    if (floatError) {
      // E(ε) = a + bε: margin > (√2Lε + √2(E(0) + E(ε)))(1 + s)  ⇔  ε < (margin/(1 + s) − 2√2a)/(√2L + √2b).
      const a = floatError.constant[i];
      const r = (margin / (1 + THRESHOLD_SLACK) - 2 * Math.SQRT2 * a) / (scale + Math.SQRT2 * floatError.perRadius);
      radii[i] = isCorrect && r > 0 ? Math.min(r * (1 - THRESHOLD_SLACK), floatError.overflowRadius[i]) : 0;
      if (!(radii[i] > 0)) radii[i] = 0;
    } else {
      radii[i] = margin / scale;
    }
  }
  const certifiedAccuracy: Record<string, number> = {};
  for (const epsilon of epsilons) {
    const threshold = scale * epsilon;
    let count = 0;
    for (let i = 0; i < n; i++) {
      if (correct[i] !== 1) continue;
      if (floatError) {
        const e = 2 * floatError.constant[i] + floatError.perRadius * epsilon; // E(0) + E(ε)
        if (epsilon <= floatError.overflowRadius[i] && margins[i] > (threshold + Math.SQRT2 * e) * (1 + THRESHOLD_SLACK)) count++;
      } else if (margins[i] > threshold) count++;
    }
    certifiedAccuracy[String(epsilon)] = n === 0 ? 0 : count / n;
  }
  return {
    margins,
    radii,
    predictions,
    correct,
    clean: n === 0 ? 0 : cleanCount / n,
    certifiedAccuracy,
    lipschitz,
    floatErrorModel: floatError ? 'rigorous' : 'assume-relative-1e-5',
    count: n,
  };
}
