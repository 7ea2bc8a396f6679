import { LipschitzError, type SeededRandom, assertPositiveInteger } from '@lipschitz/core';
import { createOptimizer } from '@lipschitz/train';
import * as tf from '@tensorflow/tfjs-core';
import type { Discriminator } from './discriminator';
import type { Generator } from './generator';

/**
 * The WGAN-GP gradient penalty `mean_i (‖∇_x D(x̂_i)‖₂ − 1)²` at the interpolates
 * `x̂_i = ε_i·real_i + (1 − ε_i)·fake_i` (one ε_i ∈ [0, 1] per sample, `epsilon` of shape `[batch]`).
 * Per-sample gradients come from one `tf.grad` of `Σ_i D(x̂_i)` (valid because the critic has no batch
 * coupling). Differentiable with respect to D's variables (a gradient of a gradient), so it can sit inside an
 * optimizer's loss. Arguments are borrowed; the scalar is owned by the caller.
 *
 * @example
 * ```ts
 * const gp = gradientPenalty((x) => d.apply(x), real, fake, tf.randomUniform([64]));
 * ```
 * @see Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017, Algorithm 1.
 */
export function gradientPenalty(critic: (x: tf.Tensor) => tf.Tensor, real: tf.Tensor, fake: tf.Tensor, epsilon: tf.Tensor): tf.Scalar {
  if (real.shape.join(',') !== fake.shape.join(',') || epsilon.rank !== 1 || epsilon.shape[0] !== real.shape[0]) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `gradientPenalty: real [${real.shape.join(', ')}] and fake [${fake.shape.join(', ')}] must match and epsilon must be [${real.shape[0]}], got [${epsilon.shape.join(', ')}].`,
    );
  }
  return tf.tidy(() => {
    const e = tf.reshape(epsilon, [real.shape[0], ...real.shape.slice(1).map(() => 1)]);
    const interpolates = tf.add(tf.mul(e, real), tf.mul(tf.sub(1, e), fake));
    const gradient = tf.grad((x: tf.Tensor) => tf.sum(critic(x)))(interpolates);
    const axes = gradient.shape.slice(1).map((_, i) => i + 1);
    const norms = tf.sqrt(tf.add(tf.sum(tf.square(gradient), axes), 1e-12));
    return tf.mean(tf.square(tf.sub(norms, 1))) as tf.Scalar;
  });
}

/** Hyper-parameters of {@link WganGpTrainer} (reference §10 unless noted). */
export interface WganGpOptions {
  /** Gradient-penalty weight λ (WGAN-GP paper: 10; the reference's runs: 50). */
  gpWeight: number;
  /** Adam learning rate of both networks (2e-4). */
  learningRate: number;
  beta1: number;
  beta2: number;
}

/** The settings this app uses by default: λ = 10 (Gulrajani et al.), Adam(2e-4, 0.5, 0.999). */
export const DEFAULT_WGAN_GP: WganGpOptions = { gpWeight: 10, learningRate: 2e-4, beta1: 0.5, beta2: 0.999 };

/** What a critic step measured (host numbers). */
export interface CriticStepResult {
  /** `mean D(real) − mean D(fake)` on the batch: the critic's Wasserstein objective. */
  wassersteinEstimate: number;
  gradientPenalty: number;
}

/**
 * One WGAN-GP training state: a generator, its critic, and one Adam optimizer each.
 * Critic loss `mean D(fake) − mean D(real) + λ·GP`; generator loss `−mean D(G(z))`. The caller alternates
 * `n_critic` (5) critic steps with one generator step, as Algorithm 1 of Gulrajani et al.
 *
 * Ownership: borrows the networks; owns the optimizers (`dispose()`).
 */
export class WganGpTrainer {
  private readonly criticOptimizer: tf.Optimizer;
  private readonly generatorOptimizer: tf.Optimizer;

  constructor(
    readonly generator: Generator,
    readonly critic: Discriminator,
    readonly options: WganGpOptions = DEFAULT_WGAN_GP,
  ) {
    const spec = { kind: 'adam' as const, learningRate: options.learningRate, beta1: options.beta1, beta2: options.beta2 };
    this.criticOptimizer = createOptimizer(spec);
    this.generatorOptimizer = createOptimizer(spec);
  }

  /**
   * One critic update on `real` `[batch, 28, 28, 1]` in [−1, 1] (borrowed) against a fresh generated batch
   * of the same size. Returns the batch's objective and penalty.
   */
  async criticStep(real: tf.Tensor, rng: SeededRandom): Promise<CriticStepResult> {
    const batch = real.shape[0];
    assertPositiveInteger('WganGpTrainer.criticStep', 'batch', batch);
    const fake = tf.tidy(() => this.generator.apply(this.generator.latent(batch, rng)));
    const epsilon = tf.tensor1d(Float32Array.from({ length: batch }, () => rng.uniform()));
    let parts: tf.Tensor[] = [];
    const cost = this.criticOptimizer.minimize(
      () => {
        const gap = tf.sub(tf.mean(this.critic.apply(real)), tf.mean(this.critic.apply(fake)));
        const gp = gradientPenalty((x) => this.critic.apply(x), real, fake, epsilon);
        parts = [tf.keep(gap), tf.keep(gp)];
        return tf.add(tf.neg(gap), tf.mul(gp, this.options.gpWeight)) as tf.Scalar;
      },
      true,
      this.critic.trainableVariables,
    );
    fake.dispose();
    epsilon.dispose();
    cost?.dispose();
    const [gap, gp] = await Promise.all(parts.map(async (t) => (await t.data())[0]));
    for (const t of parts) t.dispose();
    if (!Number.isFinite(gap) || !Number.isFinite(gp)) {
      throw new LipschitzError('NUMERICAL_ERROR', `WganGpTrainer: the critic objective became ${gap} (penalty ${gp}); lower the learning rate.`);
    }
    return { wassersteinEstimate: gap, gradientPenalty: gp };
  }

  /** One generator update on a fresh batch of `batch` codes; returns the generator loss `−mean D(G(z))`. */
  async generatorStep(batch: number, rng: SeededRandom): Promise<number> {
    const z = this.generator.latent(batch, rng);
    const loss = this.generatorOptimizer.minimize(
      () => tf.neg(tf.mean(this.critic.apply(this.generator.apply(z)))) as tf.Scalar,
      true,
      this.generator.trainableVariables,
    );
    z.dispose();
    const value = loss ? (await loss.data())[0] : Number.NaN;
    loss?.dispose();
    return value;
  }

  /** Releases the optimizers' state. */
  dispose(): void {
    this.criticOptimizer.dispose();
    this.generatorOptimizer.dispose();
  }
}
