import { LipschitzError, assertPositiveNumber } from '@lipschitz/core';
import type * as tf from '@tensorflow/tfjs-core';
import { checkLabelValues, checkLogitsAndLabels } from './inputs';

/** Options of {@link certify}. */
export interface CertifyOptions {
  /** A sound upper bound L on the network's ℓ2 Lipschitz constant (e.g. from {@link networkLipschitzUpperBound}). */
  lipschitz: number;
  /** The ℓ2 radii ε at which certified accuracy is reported (each finite and ≥ 0). */
  epsilons: readonly number[];
}

/** Per-example certificates and accuracies computed by {@link certify}. */
export interface CertifyResult {
  /** `relu(z_t − max_{i≠t} z_i)` in float64 from the float32 logits; 0 when misclassified or tied. */
  margins: Float64Array;
  /** Certified ℓ2 radii `margin / (√2 · L)`: the prediction provably cannot change within this distance. */
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
  /** Number of examples. */
  count: number;
}

/**
 * Certified ℓ2 robustness from logits and a sound Lipschitz bound (the reference's
 * `accuracy_lowerbound_lnet`).
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
 * @throws LipschitzError `SHAPE_MISMATCH` on wrong ranks or sizes; `INVALID_ARGUMENT` on a
 *   non-positive L, a negative or non-finite ε, labels outside [0, C), non-finite logits.
 * @example
 * ```ts
 * const r = await certify(logits, labels, { lipschitz: 1.000002, epsilons: [1.58, 0.3] });
 * r.certifiedAccuracy['1.58']; r.radii[0];
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7); Tsuzuku et al., "Lipschitz-Margin Training",
 *   NeurIPS 2018 (the √2 factor).
 */
export async function certify(logits: tf.Tensor, labels: tf.Tensor, options: CertifyOptions): Promise<CertifyResult> {
  const fn = 'certify';
  const { n, c } = checkLogitsAndLabels(fn, logits, labels);
  const { lipschitz, epsilons } = options ?? ({} as CertifyOptions);
  assertPositiveNumber(fn, 'lipschitz', lipschitz);
  checkEpsilons(fn, epsilons);
  const z = await logits.data();
  const y = await labels.data();
  checkLabelValues(fn, y, c);
  return certifyValues(fn, z, y, n, c, lipschitz, epsilons);
}

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
    radii[i] = margin / scale;
  }
  const certifiedAccuracy: Record<string, number> = {};
  for (const epsilon of epsilons) {
    const threshold = scale * epsilon;
    let count = 0;
    for (let i = 0; i < n; i++) if (correct[i] === 1 && margins[i] > threshold) count++;
    certifiedAccuracy[String(epsilon)] = n === 0 ? 0 : count / n;
  }
  return { margins, radii, predictions, correct, clean: n === 0 ? 0 : cleanCount / n, certifiedAccuracy, lipschitz, count: n };
}
