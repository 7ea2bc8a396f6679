import { LipschitzError, SeededRandom, assertPositiveInteger } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/** Channels of the {@link Discriminator}'s two convolutions. */
export interface DiscriminatorConfig {
  channels1: number;
  channels2: number;
}

/**
 * Default widths 32 → 64 (half of the usual 64 → 128 WGAN-GP MNIST critic: with the gradient penalty's double
 * backward pass a 64 → 128 critic step took about 4 s at batch 64 on the shared 2-core machine, 32 → 64 about 1.6 s).
 */
export const DEFAULT_DISCRIMINATOR: DiscriminatorConfig = { channels1: 32, channels2: 64 };

/**
 * `LeakyReLU(x) = max(x, αx)` for α < 1, written as `((1 + α)/2)·x + ((1 − α)/2)·|x|`. tfjs's `leakyRelu` and
 * `maximum` differentiate through a comparison op (`Greater`/`GreaterEqual`) that has no gradient, so their
 * *second* derivative — which the gradient penalty needs — throws. `abs` differentiates through `step`,
 * whose gradient is registered (zero), so this form works to second order on every backend.
 */
export function leakyRelu2(x: tf.Tensor, alpha = 0.2): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(x, (1 + alpha) / 2), tf.mul(tf.abs(x), (1 - alpha) / 2)));
}

/**
 * The critic that trains the generator (WGAN-GP practice: no BatchNorm, so the gradient penalty is per
 * sample): `conv 4×4 s2 (1→c1) → LeakyReLU(0.2) → conv 4×4 s2 (c1→c2) → LeakyReLU(0.2) → flatten → dense → 1`
 * on 28×28×1 images in [−1, 1]. It is *not* Lipschitz-constrained (the penalty keeps its gradient norm near
 * 1); it only trains the generator, as the reference's GAN discriminator. Weights N(0, 0.02), biases 0.
 *
 * Ownership: owns its variables (`dispose()`); `apply` borrows its input and returns `[batch, 1]`.
 *
 * @example
 * ```ts
 * const d = new Discriminator(DEFAULT_DISCRIMINATOR, 0);
 * const scores = d.apply(images); // [batch, 1]
 * ```
 * @see Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017.
 */
export class Discriminator {
  readonly config: DiscriminatorConfig;
  readonly trainableVariables: tf.Variable[];
  private disposed = false;
  private static counter = 0;

  constructor(config: DiscriminatorConfig, seed: number) {
    assertPositiveInteger('Discriminator', 'config.channels1', config?.channels1);
    assertPositiveInteger('Discriminator', 'config.channels2', config?.channels2);
    this.config = { ...config };
    const { channels1, channels2 } = config;
    const rng = new SeededRandom(seed);
    const make = (name: string, shape: number[], zero: boolean) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = zero ? new Float32Array(size) : Float32Array.from({ length: size }, () => 0.02 * rng.normal());
      return tf.variable(tf.tensor(values, shape), true, `discriminator/${name}/${Discriminator.counter++}`);
    };
    this.trainableVariables = [
      make('conv1', [4, 4, 1, channels1], false),
      make('bias1', [channels1], true),
      make('conv2', [4, 4, channels1, channels2], false),
      make('bias2', [channels2], true),
      make('dense', [7 * 7 * channels2, 1], false),
      make('bias3', [1], true),
    ];
  }

  /** Scores `[batch, 1]` for images `[batch, 28, 28, 1]` (borrowed). */
  apply(x: tf.Tensor): tf.Tensor2D {
    if (this.disposed) throw new LipschitzError('DISPOSED', 'Discriminator.apply: this discriminator was disposed.');
    if (x.rank !== 4 || x.shape[1] !== 28 || x.shape[2] !== 28 || x.shape[3] !== 1) {
      throw new LipschitzError('SHAPE_MISMATCH', `Discriminator.apply: images must be [batch, 28, 28, 1], got [${x.shape.join(', ')}].`);
    }
    const [w1, b1, w2, b2, w3, b3] = this.trainableVariables;
    return tf.tidy(() => {
      let h: tf.Tensor = leakyRelu2(tf.add(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 2, 'same'), b1));
      h = leakyRelu2(tf.add(tf.conv2d(h as tf.Tensor4D, w2 as tf.Tensor4D, 2, 'same'), b2));
      h = tf.reshape(h, [x.shape[0], 7 * 7 * this.config.channels2]);
      return tf.add(tf.matMul(h as tf.Tensor2D, w3 as tf.Tensor2D), b3) as tf.Tensor2D;
    });
  }

  /** Releases the variables; idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.trainableVariables) v.dispose();
  }
}
