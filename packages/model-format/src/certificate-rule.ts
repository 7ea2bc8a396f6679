import { LipschitzError } from '@lipschitz/core';

/** Per-example certificates and accuracies of the certificate rule ({@link certifyLogitValues}). */
export interface CertifyResult {
  /** `relu(z_t − max_{i≠t} z_i)` in float64 from the float32 logits; 0 when misclassified or tied. */
  margins: Float64Array;
  /** Certified ℓ2 radii `max(0, margin − 2·δ) / (√2 · L)`: the prediction provably cannot change within this distance. */
  radii: Float64Array;
  /** `argmax_i z_i` (the first index on ties, as `tf.argMax`). */
  predictions: Int32Array;
  /** 1 where `predictions[n] === labels[n]`. */
  correct: Uint8Array;
  /** Fraction of correctly classified examples, in [0, 1]. */
  clean: number;
  /** For each ε (keyed `String(ε)`): fraction of examples correct with `margin − 2·δ > √2 · ε · L`. */
  certified: Record<string, number>;
  /** The L the certificates use. */
  lipschitzUpperBound: number;
  /** Number of examples. */
  count: number;
  /** @deprecated Use `certified` (same object); removed in the next minor release. */
  certifiedAccuracy: Record<string, number>;
  /** @deprecated Use `lipschitzUpperBound` (same number); removed in the next minor release. */
  lipschitz: number;
}

/**
 * The certificate rule, the one place it is written: for example n with label t and float32 logits
 * z, `M_n = relu(z_t − max_{i≠t} z_i)` (float64; the difference of two float32 values is exact in
 * float64), the radius is `r_n = max(0, M_n − 2·δ_n) / (√2 · L)`, and n is certified at ε iff it is
 * correctly classified and `M_n − 2·δ_n > √2 · ε · L` (strict, so a misclassified example or a tie is
 * never certified). `δ_n` is an optional per-example allowance for the floating-point evaluation error
 * (`floatErrors`, a bound on ‖f̃(x_n) − f(x_n)‖₂, e.g. from a float-sound analysis); without it δ = 0
 * and the float32 error is covered by the safety factor inside L (an assumption, see the slack policy).
 * Why: if f is L-Lipschitz in ℓ2, `z_t − z_i` is `√2·L`-Lipschitz, and the float error can move each
 * difference by at most 2δ.
 *
 * `certify`, `certifyModel`, `certifyExportedModel` (@lipschitz/certify), training-time `evaluate`
 * (@lipschitz/train) and the web page all call this function, so they count the same examples.
 *
 * Ownership: reads host arrays (`z` row-major `[n, c]`); returns fresh arrays.
 * @throws LipschitzError `INVALID_ARGUMENT` on a non-finite logit or allowance, or a negative allowance.
 * @example
 * ```ts
 * const r = certifyLogitValues('myFn', logits, labels, n, 10, bound.lipschitzUpperBound, [1.58]);
 * r.certified['1.58'];
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7); Tsuzuku et al., "Lipschitz-Margin Training",
 *   NeurIPS 2018 (the √2 factor).
 */
export function certifyLogitValues(
  fn: string,
  z: ArrayLike<number>,
  y: ArrayLike<number>,
  n: number,
  c: number,
  lipschitzUpperBound: number,
  epsilons: readonly number[],
  floatErrors?: ArrayLike<number>,
): CertifyResult {
  if (floatErrors !== undefined && floatErrors.length !== n) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: floatErrors has ${floatErrors.length} entries for ${n} examples; return one δ per example.`);
  }
  const margins = new Float64Array(n);
  const radii = new Float64Array(n);
  const usable = new Float64Array(n);
  const predictions = new Int32Array(n);
  const correct = new Uint8Array(n);
  const scale = Math.SQRT2 * lipschitzUpperBound;
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
    let delta = 0;
    if (floatErrors !== undefined) {
      delta = floatErrors[i];
      if (!(delta >= 0) || !Number.isFinite(delta)) {
        throw new LipschitzError('INVALID_ARGUMENT', `${fn}: floatErrors[${i}] is ${delta}; every δ must be a finite number >= 0.`);
      }
    }
    usable[i] = margin - 2 * delta;
    radii[i] = Math.max(0, usable[i]) / scale;
  }
  const certified: Record<string, number> = {};
  for (const epsilon of epsilons) {
    const threshold = scale * epsilon;
    let count = 0;
    for (let i = 0; i < n; i++) if (correct[i] === 1 && usable[i] > threshold) count++;
    certified[String(epsilon)] = n === 0 ? 0 : count / n;
  }
  return {
    margins,
    radii,
    predictions,
    correct,
    clean: n === 0 ? 0 : cleanCount / n,
    certified,
    lipschitzUpperBound,
    count: n,
    certifiedAccuracy: certified,
    lipschitz: lipschitzUpperBound,
  };
}
