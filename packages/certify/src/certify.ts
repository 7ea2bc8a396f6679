import { LipschitzError, assertPositiveNumber } from '@lipschitz/core';
import { type CertifyResult, type FloatErrorModel, type NetworkBound, certifyLogitValues } from '@lipschitz/model-format';
import type * as tf from '@tensorflow/tfjs-core';
import type { Float32ErrorBound } from './float-error-bound';
import { checkLabelValues, checkLogitsAndLabels } from './inputs';

export type { CertifyResult } from '@lipschitz/model-format';

/**
 * How certification accounts for the float32 evaluation of the network.
 * - `'rigorous'` (default): a proven bound E(ε) on the float32 error over the whole ball
 *   ({@link float32ErrorBound}) is subtracted from the margin; nothing is assumed about rounding.
 * - `'assume-relative-1e-5'`: the old rule `margin > √2·ε·L`, which rests on the ASSUMPTION that each
 *   float32 layer behaves like the exact one with weights perturbed by at most 1e-5 relative (the
 *   `FLOAT32_SLACK_PER_LINEAR_LAYER` inside `networkLipschitzUpperBound`'s `assumedFloat32Bound`); large
 *   biases, activations or inputs break it.
 */
export type { FloatErrorModel } from '@lipschitz/model-format';

/** Options of {@link certify}: the certificate bound, the radii and optional float allowances. */
export interface CertifyOptions {
  /**
   * The network's certificate bound, as `networkLipschitzUpperBound`/`moduleLipschitzBound` of
   * `@lipschitz/model-format` (or `certifyModel`'s `report.bound`) return it: the default rule uses its
   * `lipschitzUpperBound` (the exact network's), the old rule its `assumedFloat32Bound` (with the float32
   * safety factor of the slack policy). A bare number is not accepted: a module's `lipschitzUpperBound()`
   * lacks that factor and must not be passed to the old rule by mistake.
   */
  bound?: NetworkBound;
  /**
   * @deprecated A bare L (under the old rule it must already include the float32 safety factor, e.g.
   * `moduleLipschitzBound(...).assumedFloat32Bound`); pass `bound` instead. Removed in the next minor release.
   */
  lipschitz?: number;
  /** The ℓ2 radii ε at which certified accuracy is reported (each finite and ≥ 0). */
  epsilons: readonly number[];
  /**
   * Per-example float-evaluation allowance δ ≥ 0 (one per row of `logits`); see `certifyLogitValues`.
   * Only with `floatErrorModel: 'assume-relative-1e-5'`.
   */
  floatErrors?: ArrayLike<number>;
  /** Default `'rigorous'`, which needs `floatError`. See {@link FloatErrorModel}. */
  floatErrorModel?: FloatErrorModel;
  /**
   * The float32 error bound of the network that produced `logits`, one entry per example, from
   * {@link float32ErrorBound} on the same inputs (with its host float64 `centerLogits`, the margins come
   * from those). Required by the default `floatErrorModel: 'rigorous'`;
   * L is then the bound of the EXACT network: `bound.lipschitzUpperBound` (or a bare `lipschitz`, e.g.
   * `float32ErrorBound(...).lipschitz`).
   */
  floatError?: Float32ErrorBound;
}

/**
 * Certified ℓ2 robustness from logits and a sound Lipschitz bound (the reference's
 * `accuracy_lowerbound_lnet`), by the project's one certificate rule (`certifyLogitValues` of
 * `@lipschitz/model-format`), made sound for float32 evaluation.
 *
 * **Default rule (`floatErrorModel: 'rigorous'`).** Given float32 logits z̃ = f̃(x) of the network at x,
 * L ≥ the Lipschitz constant of the exact network f (`bound.lipschitzUpperBound`),
 * E(ε) = a + b·ε ≥ ‖f̃(x′) − f(x′)‖₂ for every x′ with ‖x′ − x‖₂ ≤ ε and every float32 evaluation f̃
 * ({@link float32ErrorBound}), and the exact network's logits z̄ computed in float64 on the host with
 * `‖z̄ − f(x)‖₂ ≤ e₀` (its `centerLogits`, `centerError`; without them z̄ = z̃ and e₀ = E(0) = a),
 * example n with label t is certified at ε iff it is correct (argmax z̃ = t), ε ≤ the overflow radius, and
 * `z̄_t − max_{j≠t} z̄_j > (√2·L·ε + √2·(e₀ + E(ε))) · (1 + 1e-12)`.
 * **Guarantee:** then for every x′ in the ball, the exact network AND every float32 evaluation of it
 * covered by {@link float32ErrorBound}'s theorem (this backend's included) predict t, strictly.
 * Proof: for j ≠ t, `f_t(x′) − f_j(x′) ≥ f_t(x) − f_j(x) − √2·L·ε` (the map v ↦ v_t − v_j has norm √2);
 * `f_t(x) − f_j(x) ≥ z̄_t − z̄_j − (|e_t| + |e_j|)` with e = z̄ − f(x), and `|e_t| + |e_j| ≤ √2‖e‖₂ ≤ √2·e₀`;
 * so the exact margin on the ball exceeds `√2·E(ε)`, and `f̃_t(x′) − f̃_j(x′) ≥ f_t(x′) − f_j(x′) − √2·E(ε) > 0`.
 * The factor 1 + 1e-12 absorbs the host's float64 rounding of the threshold and of the margin.
 * With the host logits e₀ is ~1e-12 instead of a: the center is known exactly, and only the ball's
 * float32 error E(ε) is paid (once, not twice).
 *
 * **Old rule (`floatErrorModel: 'assume-relative-1e-5'`)** — rests on an assumption, see
 * {@link FloatErrorModel}; L is `bound.assumedFloat32Bound` (with the float32 safety factor).
 * For example n with label t: `M_n = relu(z_t − max_{i≠t} z_i)` and the certified radius is
 * `r_n = max(0, M_n − 2δ_n) / (√2 · L)`. Why: if f is L-Lipschitz in ℓ2, `z_t − z_i` is `√2·L`-Lipschitz,
 * so no perturbation with `‖δ‖₂ ≤ r_n` can make another logit overtake `z_t`. An example counts as
 * certified at ε iff it is correctly classified and `M_n − 2δ_n > √2 · ε · L` (strict), so a
 * misclassified example (M = 0) or a tie is never certified. Margins are computed in float64 from the
 * float32 logits (the difference of two float32 values is exact in float64).
 *
 * Returns the same names as {@link certifyModel}'s report: `clean`, `certified`, `lipschitzUpperBound`
 * (the deprecated `certifiedAccuracy` and `lipschitz` hold the same values for one release).
 *
 * Reads the tensors with `await data()`. Ownership: `logits` (`[N, C]`) and `labels` (int32 `[N]`)
 * are borrowed; the result holds plain arrays.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` on wrong ranks or sizes, or a `floatError` (or its
 *   `centerLogits`) of another length; `INVALID_ARGUMENT` on a missing, doubled or non-positive bound or a bare
 *   `lipschitzUpperBound` number, a negative or non-finite ε, labels outside [0, C), non-finite logits,
 *   an unknown `floatErrorModel`, `'rigorous'` without `floatError`, or `floatErrors` with `'rigorous'`.
 * @example
 * ```ts
 * const b = await float32ErrorBound(exported.input.shape, exported.layers, images);
 * const logits = tf.tensor2d(b.logits, [b.count, b.classes]);
 * const r = await certify(logits, labels, { bound: b.network, epsilons: [1.58, 0.3], floatError: b.error });
 * r.certified['1.58']; r.radii[0];
 * // the old rule, on logits alone:
 * const bound = networkLipschitzUpperBound(exported); // from @lipschitz/model-format
 * await certify(logits, labels, { bound, epsilons: [1.58], floatErrorModel: 'assume-relative-1e-5' });
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7); Tsuzuku et al., "Lipschitz-Margin Training",
 *   NeurIPS 2018 (the √2 factor).
 */
export async function certify(logits: tf.Tensor, labels: tf.Tensor, options: CertifyOptions): Promise<CertifyResult> {
  const fn = 'certify';
  const { n, c } = checkLogitsAndLabels(fn, logits, labels);
  const { bound, epsilons, floatErrors, floatErrorModel, floatError } = options ?? ({} as CertifyOptions);
  const legacy = (options as { lipschitzUpperBound?: unknown } | undefined)?.lipschitzUpperBound;
  if (legacy !== undefined) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `${fn}: lipschitzUpperBound is not an option; pass bound (from networkLipschitzUpperBound or moduleLipschitzBound of @lipschitz/model-format). A module's lipschitzUpperBound() lacks the float32 safety factor.`,
    );
  }
  if ((bound === undefined) === (options?.lipschitz === undefined)) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `${fn}: give exactly one of bound (from networkLipschitzUpperBound or moduleLipschitzBound of @lipschitz/model-format) and the deprecated lipschitz.`,
    );
  }
  const model = checkFloatErrorModel(fn, floatErrorModel);
  const rigorous = model === 'rigorous';
  const lipschitzUpperBound = bound !== undefined ? (rigorous ? bound.lipschitzUpperBound : bound.assumedFloat32Bound) : options.lipschitz;
  assertPositiveNumber(fn, bound !== undefined ? (rigorous ? 'bound.lipschitzUpperBound' : 'bound.assumedFloat32Bound') : 'lipschitz', lipschitzUpperBound);
  checkEpsilons(fn, epsilons);
  if (rigorous) {
    checkFloatError(fn, floatError, n);
    if (floatErrors !== undefined) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: floatErrors (a δ per example) goes with floatErrorModel: 'assume-relative-1e-5'; the default 'rigorous' takes floatError from float32ErrorBound.`);
    }
  }
  const z = await logits.data();
  const y = await labels.data();
  checkLabelValues(fn, y, c);
  return certifyLogitValues(fn, z, y, n, c, lipschitzUpperBound as number, epsilons, rigorous ? floatError : floatErrors);
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
      `${fn}: the default floatErrorModel 'rigorous' needs options.floatError, the float32 error bound of the network at these inputs (float32ErrorBound(...).error, with bound from the same call). Pass floatErrorModel: 'assume-relative-1e-5' to certify logits alone under the old assumption.`,
    );
  }
  if (floatError.constant?.length !== n || floatError.overflowRadius?.length !== n || !(floatError.perRadius >= 0)) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: floatError must have one constant and overflowRadius per example (${n}) and perRadius >= 0. Pass float32ErrorBound(...).error for the same inputs.`);
  }
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

