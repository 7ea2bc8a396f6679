import type * as tf from '@tensorflow/tfjs-core';
import { type AttackResult, type Predict, runAttack } from './attack-core';

/** Options of {@link fgsmAttack}. */
export interface FgsmAttackOptions {
  /** ℓ2 radius ε of the attack (also the step length); > 0. */
  epsilon: number;
  /** Valid input range `[lo, hi]` (default [0, 1]). */
  range?: [number, number];
  /** Examples per forward/backward pass (default 100). */
  batchSize?: number;
  /** Per-example certified radii (e.g. `certify(...).radii`) to count certified examples broken. */
  certifiedRadii?: ArrayLike<number>;
}

/**
 * The reference's ℓ2 "FGSM": one step of {@link pgdAttack} with step length α = ε from δ = 0 (no
 * random start), then the same projection onto the ℓ2 ball and clamp into `range`:
 * `x' = clip(x + ε · g / max(‖g‖₂, 1e-6))`, g the gradient of `−relu(z_y − max_{i≠y} z_i + 50)`.
 * Broken iff `x'` (or x itself) is misclassified with `‖x' − x‖₂ < ε + 1e-6`.
 *
 * Ownership: `images` and `labels` (int32 `[N]`) are borrowed. `brokenCertified` as in {@link pgdAttack}.
 *
 * @throws LipschitzError as {@link pgdAttack}.
 * @example
 * ```ts
 * const r = await fgsmAttack((x) => model.apply(x), images, labels, { epsilon: 1.58 });
 * ```
 * @see Goodfellow et al., "Explaining and Harnessing Adversarial Examples", ICLR 2015; Li et al.,
 *   NeurIPS 2019 (reference-bcop.md §7).
 */
export function fgsmAttack(predict: Predict, images: tf.Tensor, labels: tf.Tensor, options: FgsmAttackOptions): Promise<AttackResult> {
  const o = options ?? ({} as FgsmAttackOptions);
  return runAttack('fgsmAttack', predict, images, labels, {
    epsilon: o.epsilon,
    steps: 1,
    stepSize: o.epsilon,
    restarts: 0,
    randomStart: false,
    seed: 0,
    range: o.range ?? [0, 1],
    batchSize: o.batchSize ?? 100,
    certifiedRadii: o.certifiedRadii,
  });
}
