import { LipschitzError, assertPositiveNumber } from '@lipschitz/core';
import { type CertifyResult, type NetworkBound, certifyLogitValues } from '@lipschitz/model-format';
import type * as tf from '@tensorflow/tfjs-core';
import { checkLabelValues, checkLogitsAndLabels } from './inputs';

export type { CertifyResult } from '@lipschitz/model-format';

/** Options of {@link certify}: the certificate bound, the radii and optional float allowances. */
export interface CertifyOptions {
  /**
   * The network's certificate bound, as `networkLipschitzUpperBound`/`moduleLipschitzBound` of
   * `@lipschitz/model-format` (or `certifyModel`'s `report.bound`) return it: its `lipschitzUpperBound`
   * carries the float32 safety factor of the slack policy. A bare number is not accepted: a module's
   * `lipschitzUpperBound()` is the exact-arithmetic bound, without that factor, and must not be passed
   * here by mistake.
   */
  bound?: NetworkBound;
  /**
   * @deprecated A bare L (it must already include the float32 safety factor, e.g.
   * `moduleLipschitzBound(...).lipschitzUpperBound`); pass `bound` instead. Removed in the next minor release.
   */
  lipschitz?: number;
  /** The ℓ2 radii ε at which certified accuracy is reported (each finite and ≥ 0). */
  epsilons: readonly number[];
  /** Per-example float-evaluation allowance δ ≥ 0 (one per row of `logits`); see `certifyLogitValues`. */
  floatErrors?: ArrayLike<number>;
}

/**
 * Certified ℓ2 robustness from logits and a sound Lipschitz bound (the reference's
 * `accuracy_lowerbound_lnet`), by the project's one certificate rule (`certifyLogitValues` of
 * `@lipschitz/model-format`).
 *
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
 * @throws LipschitzError `SHAPE_MISMATCH` on wrong ranks or sizes; `INVALID_ARGUMENT` on a missing,
 *   doubled or non-positive bound or a bare `lipschitzUpperBound` number, a negative or non-finite ε, labels outside [0, C), non-finite logits.
 * @example
 * ```ts
 * const bound = networkLipschitzUpperBound(exported); // from @lipschitz/model-format
 * const r = await certify(logits, labels, { bound, epsilons: [1.58, 0.3] });
 * r.certified['1.58']; r.radii[0];
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7); Tsuzuku et al., "Lipschitz-Margin Training",
 *   NeurIPS 2018 (the √2 factor).
 */
export async function certify(logits: tf.Tensor, labels: tf.Tensor, options: CertifyOptions): Promise<CertifyResult> {
  const fn = 'certify';
  const { n, c } = checkLogitsAndLabels(fn, logits, labels);
  const { bound, epsilons, floatErrors } = options ?? ({} as CertifyOptions);
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
  const lipschitzUpperBound = bound !== undefined ? bound.lipschitzUpperBound : options.lipschitz;
  assertPositiveNumber(fn, bound !== undefined ? 'bound.lipschitzUpperBound' : 'lipschitz', lipschitzUpperBound);
  checkEpsilons(fn, epsilons);
  const z = await logits.data();
  const y = await labels.data();
  checkLabelValues(fn, y, c);
  return certifyLogitValues(fn, z, y, n, c, lipschitzUpperBound as number, epsilons, floatErrors);
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

