import { LipschitzError } from '@lipschitz/core';

/**
 * A proven bound on the float32 evaluation error over the ℓ2 ball of every radius ε around each
 * example: `sup_{‖x′ − xₙ‖₂ ≤ ε} ‖f̃(x′) − f(x′)‖₂ ≤ E_n(ε) = constant[n] + perRadius · ε` for
 * ε ≤ `overflowRadius[n]` (`float32ErrorBound(...).error` of `@lipschitz/certify` computes one), and
 * optionally the exact network's logits at each example to within a proven error (`centerLogits`,
 * `centerError`, e.g. from a float64 host forward).
 */
export interface FloatErrorBall {
  /** E_n(0), the radius-independent part (Infinity when the example overflows). */
  constant: ArrayLike<number>;
  /** The per-unit-radius part (≥ 0, the same for every example). */
  perRadius: number;
  /** The largest radius the bound holds at (−1: not even at xₙ). */
  overflowRadius: ArrayLike<number>;
  /**
   * Optional: logits `[n, c]` row-major with `‖centerLogits[n] − f(xₙ)‖₂ ≤ centerError[n]` (f the exact
   * network). When given, margins are taken from them and `centerError` replaces E(0) in the rule.
   */
  centerLogits?: ArrayLike<number>;
  /** With `centerLogits`: the bound on their ℓ2 error per example (≥ 0; Infinity certifies nothing). */
  centerError?: ArrayLike<number>;
}

/**
 * How a certificate accounts for float32 evaluation: `'rigorous'` (a {@link FloatErrorBall} was
 * given; nothing assumed) or `'assume-relative-1e-5'` (the float32 slack inside L, an assumption; see
 * the slack policy).
 */
export type FloatErrorModel = 'rigorous' | 'assume-relative-1e-5';

/** The relative slack on the host's float64 threshold and margin of the rigorous rule. */
const THRESHOLD_SLACK = 1e-12;

/** Per-example certificates and accuracies of the certificate rule ({@link certifyLogitValues}). */
export interface CertifyResult {
  /**
   * `relu(z_t − max_{i≠t} z_i)` in float64 from the float32 logits, or from the ball's `centerLogits`
   * when it has them; 0 when misclassified or tied.
   */
  margins: Float64Array;
  /**
   * Certified ℓ2 radii: the prediction provably cannot change within this distance. With a δ per
   * example `max(0, margin − 2·δ) / (√2 · L)`; with a {@link FloatErrorBall} (E(ε) = a + b·ε)
   * `(margin/(1 + 1e-12) − √2·(e₀ + a)) / (√2·L + √2·b)` with e₀ = `centerError` (or a without
   * `centerLogits`), shrunk by 1e-12 and capped at the overflow radius.
   */
  radii: Float64Array;
  /** `argmax_i z_i` (the first index on ties, as `tf.argMax`). */
  predictions: Int32Array;
  /** 1 where `predictions[n] === labels[n]`. */
  correct: Uint8Array;
  /** Fraction of correctly classified examples, in [0, 1]. */
  clean: number;
  /**
   * For each ε (keyed `String(ε)`): fraction of examples correct with `margin − 2·δ > √2 · ε · L`, or with
   * a {@link FloatErrorBall} `margin > (√2·L·ε + √2·(e₀ + E(ε)))·(1 + 1e-12)` and ε ≤ the overflow radius
   * (e₀ = `centerError` with `centerLogits`, else E(0)).
   */
  certified: Record<string, number>;
  /** The L the certificates use. */
  lipschitzUpperBound: number;
  /** Number of examples. */
  count: number;
  /** `'rigorous'` when a {@link FloatErrorBall} was given, else `'assume-relative-1e-5'`. */
  floatErrorModel: FloatErrorModel;
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
 * and the float32 error is covered by the safety factor inside L (L = `assumedFloat32Bound` of
 * `networkLipschitzUpperBound`: an assumption, see the slack policy).
 * Why: if f is L-Lipschitz in ℓ2, `z_t − z_i` is `√2·L`-Lipschitz, and the float error can move each
 * difference by at most 2δ.
 *
 * **Float-sound rule** (`floatErrors` a {@link FloatErrorBall}, L the bound of the EXACT network,
 * `lipschitzUpperBound` of `networkLipschitzUpperBound`): with margins `M_n = z̄_t − max_{j≠t} z̄_j` of the center logits z̄ (the
 * ball's `centerLogits`, with `e₀ = centerError[n] ≥ ‖z̄ − f(x)‖₂`; without them z̄ = z, the float32
 * logits, and e₀ = E(0)), n is certified at ε iff it is correct (argmax of z is t), ε ≤ `overflowRadius[n]`, and
 * `M_n > (√2·L·ε + √2·(e₀ + E(ε))) · (1 + 1e-12)`.
 * **Guarantee:** for every x′ in the ball, the exact network AND every float32 evaluation covered by
 * the bound predict t, strictly. Proof: for j ≠ t, `f_t(x′) − f_j(x′) ≥ f_t(x) − f_j(x) − √2·L·ε`
 * (v ↦ v_t − v_j has norm √2); `f_t(x) − f_j(x) ≥ z̄_t − z̄_j − √2·e₀` (`|e_t| + |e_j| ≤ √2‖e‖₂` for
 * e = z̄ − f(x); without center logits z̄ = f̃(x) and ‖e‖₂ ≤ E(0)); so the exact margin on the ball is
 * `> √2·E(ε) ≥ 0`, and `f̃_t(x′) − f̃_j(x′) ≥ f_t(x′) − f_j(x′) − √2·E(ε) > 0`. The factor 1 + 1e-12
 * absorbs the host's float64 rounding of threshold and margin.
 *
 * `certify`, `certifyModel`, `certifyExportedModel` (@lipschitz/certify), training-time `evaluate`
 * (@lipschitz/train) and the web page all call this function, so they count the same examples.
 *
 * Ownership: reads host arrays (`z` row-major `[n, c]`); returns fresh arrays.
 * @throws LipschitzError `INVALID_ARGUMENT` on a non-finite logit or allowance, or a negative allowance.
 * @example
 * ```ts
 * const r = certifyLogitValues('myFn', logits, labels, n, 10, bound.assumedFloat32Bound, [1.58]); // the old rule
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
  floatErrors?: ArrayLike<number> | FloatErrorBall,
): CertifyResult {
  const ball = floatErrors !== undefined && isFloatErrorBall(floatErrors) ? floatErrors : undefined;
  if (ball) {
    if (ball.constant.length !== n || ball.overflowRadius.length !== n || !(ball.perRadius >= 0) || !Number.isFinite(ball.perRadius)) {
      throw new LipschitzError(
        'SHAPE_MISMATCH',
        `${fn}: floatError must have one constant and overflowRadius per example (${n}) and a finite perRadius >= 0. Pass float32ErrorBound(...).error for the same inputs.`,
      );
    }
    if ((ball.centerLogits === undefined) !== (ball.centerError === undefined)) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: floatError.centerLogits and floatError.centerError go together; pass both (float32ErrorBound(...).error has them) or neither.`);
    }
    if (ball.centerLogits !== undefined && (ball.centerLogits.length !== n * c || ball.centerError?.length !== n)) {
      throw new LipschitzError(
        'SHAPE_MISMATCH',
        `${fn}: floatError.centerLogits must have ${n * c} values ([${n}, ${c}]) and centerError ${n}. Pass float32ErrorBound(...).error for the same inputs.`,
      );
    }
  } else if (floatErrors !== undefined && (floatErrors as ArrayLike<number>).length !== n) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: floatErrors has ${(floatErrors as ArrayLike<number>).length} entries for ${n} examples; return one δ per example.`);
  }
  const deltas = ball ? undefined : (floatErrors as ArrayLike<number> | undefined);
  const center = ball?.centerLogits;
  const centerError = ball?.centerError;
  // e₀: the error of the logits the margins come from (centerError, or E(0) of the float32 logits)
  const offsets = new Float64Array(n);
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
    let margin = Math.max(0, z[row + t] - otherMax);
    if (center !== undefined && centerError !== undefined) {
      let centerOther = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < c; j++) if (j !== t && center[row + j] > centerOther) centerOther = center[row + j];
      const e0 = centerError[i];
      const m = center[row + t] - centerOther;
      // NaN logits or a NaN/negative error certify nothing
      margin = isCorrect && m > 0 && e0 >= 0 ? m : 0;
      offsets[i] = e0 >= 0 ? e0 : Number.POSITIVE_INFINITY;
    } else if (ball) offsets[i] = ball.constant[i];
    margins[i] = margin;
    if (ball) {
      // E(ε) = a + bε: margin > (√2Lε + √2(e₀ + E(ε)))(1 + s)  ⇔  ε < (margin/(1 + s) − √2(e₀ + a))/(√2L + √2b).
      const a = ball.constant[i];
      const r = (margin / (1 + THRESHOLD_SLACK) - Math.SQRT2 * (offsets[i] + a)) / (scale + Math.SQRT2 * ball.perRadius);
      radii[i] = isCorrect && r > 0 ? Math.min(r * (1 - THRESHOLD_SLACK), ball.overflowRadius[i]) : 0;
      if (!(radii[i] > 0)) radii[i] = 0;
      continue;
    }
    let delta = 0;
    if (deltas !== undefined) {
      delta = deltas[i];
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
    for (let i = 0; i < n; i++) {
      if (correct[i] !== 1) continue;
      if (ball) {
        const e = offsets[i] + ball.constant[i] + ball.perRadius * epsilon; // e₀ + E(ε)
        if (epsilon <= ball.overflowRadius[i] && margins[i] > (threshold + Math.SQRT2 * e) * (1 + THRESHOLD_SLACK)) count++;
      } else if (usable[i] > threshold) count++;
    }
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
    floatErrorModel: ball ? 'rigorous' : 'assume-relative-1e-5',
    certifiedAccuracy: certified,
    lipschitz: lipschitzUpperBound,
  };
}

function isFloatErrorBall(value: ArrayLike<number> | FloatErrorBall): value is FloatErrorBall {
  return typeof (value as FloatErrorBall).perRadius === 'number' || (value as FloatErrorBall).constant !== undefined;
}
