import type * as tf from '@tensorflow/tfjs-core';
import { type AttackResult, type Predict, runAttack } from './attack-core';

/** Options of {@link pgdAttack}. */
export interface PgdAttackOptions {
  /** ℓ2 radius ε of the attack; > 0. */
  epsilon: number;
  /** Gradient steps per run (reference: 200). */
  steps?: number;
  /** Step length α of each normalized step (reference: 0.01). */
  stepSize?: number;
  /** Extra runs from fresh random starts; an example is broken if any run breaks it (default 0). */
  restarts?: number;
  /** Start from `clip(x + U[−ε, ε]^d)` (reference `standard_init`; default true). */
  randomStart?: boolean;
  /** Seed of the random starts (default 0). */
  seed?: number;
  /** Valid input range `[lo, hi]`; every iterate is clamped into it (default [0, 1]). */
  range?: [number, number];
  /** Examples per forward/backward pass (reference: 100). */
  batchSize?: number;
  /** Per-example certified radii (e.g. `certify(...).radii`) to count certified examples broken. */
  certifiedRadii?: ArrayLike<number>;
}

/**
 * ℓ2 projected gradient descent attack, exactly as the reference's `PGDAttacker`:
 *
 * - loss (ascended): the Carlini–Wagner margin loss `−relu(z_y − max_{i≠y} z_i + 50)`, batch mean;
 * - step: `δ ← δ + α · g / max(‖g‖₂, 1e-6)` with g the per-example input gradient (`tf.grad`);
 * - then project onto the ℓ2 ball `δ ← δ · ε / max(‖δ‖₂, ε)` and clamp `x + δ` into `range`;
 * - random start: `x + U[−ε, ε]` per coordinate, clamped into `range`, **not** projected onto the ball
 *   before the first gradient step (as the reference);
 * - after the last step, an example is broken iff the final point is misclassified and
 *   `‖δ‖₂ < ε + 1e-6`. A clean misclassification also counts as broken. With `restarts = r`, r + 1
 *   runs from independent random starts; broken if any run breaks it (without a random start a
 *   single run is made, since restarts would repeat it).
 *
 * `predict` should use frozen (cached) kernels: it is called `steps + 1` times per run and batch.
 * Reads labels and predictions with `await data()`. Ownership: `images` (`[N, ...]`, float32 in
 * `range`) and `labels` (int32 `[N]`) are borrowed; nothing is retained.
 *
 * Given `certifiedRadii`, `brokenCertified` counts broken examples whose certified radius exceeds the
 * norm of the perturbation that broke them: it must be 0 (a non-zero count means an unsound bound).
 *
 * @throws LipschitzError `INVALID_ARGUMENT` on a non-positive ε, steps, step size or batch size, a
 *   bad range, seed or restarts, labels outside the classes; `SHAPE_MISMATCH` on mismatched sizes.
 * @example
 * ```ts
 * const r = await pgdAttack((x) => model.apply(x), images, labels, { epsilon: 1.58, restarts: 1 });
 * if (r.brokenCertified > 0) throw new Error('unsound certificate');
 * ```
 * @see Madry et al., "Towards Deep Learning Models Resistant to Adversarial Attacks", ICLR 2018;
 *   Carlini & Wagner, "Towards Evaluating the Robustness of Neural Networks", S&P 2017; Li et al.,
 *   NeurIPS 2019 (reference-bcop.md §7).
 */
export function pgdAttack(predict: Predict, images: tf.Tensor, labels: tf.Tensor, options: PgdAttackOptions): Promise<AttackResult> {
  const o = options ?? ({} as PgdAttackOptions);
  return runAttack('pgdAttack', predict, images, labels, {
    epsilon: o.epsilon,
    steps: o.steps ?? 200,
    stepSize: o.stepSize ?? 0.01,
    restarts: o.restarts ?? 0,
    randomStart: o.randomStart ?? true,
    seed: o.seed ?? 0,
    range: o.range ?? [0, 1],
    batchSize: o.batchSize ?? 100,
    certifiedRadii: o.certifiedRadii,
  });
}
