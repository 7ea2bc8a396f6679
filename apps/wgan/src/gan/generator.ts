import { LipschitzError, SeededRandom, assertPositiveInteger, decodeTensor, encodeTensor, type ExportedTensor } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/** Shape of the {@link Generator} (reference §10, infoGAN style, adapted to 28×28×1). */
export interface GeneratorConfig {
  /** Dimension of the latent code z ~ U[0, 1)^latentDim (reference: 62). */
  latentDim: number;
  /** Channels of the 7×7 map after the second dense layer (reference `hidden`: 32; original infoGAN MNIST: 128). */
  hidden: number;
  /** Width of the first dense layer (reference: 1024). */
  dense: number;
  /** Channels between the two transposed convolutions (reference: 64). */
  channels: number;
}

/** The reference's sizes (hidden = 32 as in `lconvnet/tasks/gan/models/WGAN_GP.py`). */
export const REFERENCE_GENERATOR: GeneratorConfig = { latentDim: 62, hidden: 32, dense: 1024, channels: 64 };

/** Format tag of a saved generator checkpoint. */
export const GENERATOR_FORMAT = 'wgan-generator/1';

/** A saved generator (`DIR/generators/<stage>.json`). */
export interface GeneratorCheckpoint {
  format: typeof GENERATOR_FORMAT;
  config: GeneratorConfig;
  /** Free-form: stage name, generator step, epoch, seed. */
  metadata: Record<string, unknown>;
  tensors: Record<string, ExportedTensor>;
}

const BN_EPSILON = 1e-5;
const IMAGE = 28;

/**
 * The WGAN-GP generator of the reference (infoGAN style; reference-bcop.md §10), adapted to MNIST 28×28×1:
 *
 * `z ~ U[0,1)^62 → dense 1024 → BN → ReLU → dense (hidden·7·7) → BN → ReLU → reshape [7, 7, hidden]
 *  → convT 4×4 s2 (hidden→64) → BN → ReLU → convT 4×4 s2 (64→1) → tanh`,
 *
 * so images are 28×28×1 in [−1, 1] (the GAN's real data are MNIST pixels mapped by `2v − 1`, the reference's
 * `Normalize(0.5, 0.5)`). Weights start N(0, 0.02), biases 0, BN scales N(1, 0.02) (the reference's
 * `initialize_weights`).
 *
 * BatchNorm always uses the **batch statistics** of the batch it is given, also when sampling — as the
 * reference, which never switches its generator to eval(): generate in batches of 64 (the reference's size)
 * so samples are distributed as at training time. So a sample depends (weakly) on the other samples in its
 * batch.
 *
 * Ownership: the generator owns its variables (`dispose()`); `apply`/`generate` return tensors owned by the
 * caller. tfjs-core ops only (`tf.conv2dTranspose`, `tf.moments`); on wasm the transposed convolution's
 * gradient needs the Conv2D/Conv2DBackpropFilter kernels registered by `@lipschitz/backends`.
 *
 * @example
 * ```ts
 * const g = new Generator(REFERENCE_GENERATOR, 0);
 * const images = g.generate(64, new SeededRandom(1)); // [64, 28, 28, 1] in [−1, 1]
 * ```
 * @see Chen et al., "InfoGAN", NeurIPS 2016; Gulrajani et al., "Improved Training of Wasserstein GANs", 2017.
 */
export class Generator {
  readonly config: GeneratorConfig;
  private readonly variables: Map<string, tf.Variable>;
  private disposed = false;

  constructor(config: GeneratorConfig, seed: number, tensors?: Record<string, ExportedTensor>) {
    const fn = 'Generator';
    for (const key of ['latentDim', 'hidden', 'dense', 'channels'] as const) assertPositiveInteger(fn, `config.${key}`, config?.[key]);
    this.config = { latentDim: config.latentDim, hidden: config.hidden, dense: config.dense, channels: config.channels };
    const { latentDim, hidden, dense, channels } = this.config;
    const shapes: Record<string, number[]> = {
      fc1Weight: [latentDim, dense],
      fc1Bias: [dense],
      bn1Scale: [dense],
      bn1Offset: [dense],
      fc2Weight: [dense, hidden * 7 * 7],
      fc2Bias: [hidden * 7 * 7],
      bn2Scale: [hidden * 7 * 7],
      bn2Offset: [hidden * 7 * 7],
      // tf.conv2dTranspose filters are [kh, kw, outChannels, inChannels].
      convT1Filter: [4, 4, channels, hidden],
      convT1Bias: [channels],
      bn3Scale: [channels],
      bn3Offset: [channels],
      convT2Filter: [4, 4, 1, channels],
      convT2Bias: [1],
    };
    const rng = new SeededRandom(seed);
    this.variables = new Map();
    for (const [name, shape] of Object.entries(shapes)) {
      const size = shape.reduce((a, b) => a * b, 1);
      let values: Float32Array;
      if (tensors) {
        const decoded = decodeTensor(tensors[name], `generator tensor ${name}`);
        if (decoded.shape.join(',') !== shape.join(',')) {
          this.dispose();
          throw new LipschitzError('CORRUPT_DATA', `Generator: tensor ${name} has shape [${decoded.shape.join(', ')}], expected [${shape.join(', ')}].`);
        }
        values = decoded.values;
      } else if (name.endsWith('Bias') || name.endsWith('Offset')) {
        values = new Float32Array(size);
      } else {
        const mean = name.endsWith('Scale') ? 1 : 0;
        values = Float32Array.from({ length: size }, () => mean + 0.02 * rng.normal());
      }
      this.variables.set(name, tf.variable(tf.tensor(values, shape), true, `generator/${name}/${Generator.counter++}`));
    }
  }

  private static counter = 0;

  /** The trainable variables (for an optimizer). */
  get trainableVariables(): tf.Variable[] {
    return [...this.variables.values()];
  }

  private v(name: string): tf.Variable {
    if (this.disposed) throw new LipschitzError('DISPOSED', 'Generator: this generator was disposed.');
    return this.variables.get(name) as tf.Variable;
  }

  /**
   * Images `[batch, 28, 28, 1]` in [−1, 1] for latent codes `z` `[batch, latentDim]` (borrowed). BatchNorm
   * uses the statistics of this batch (batch ≥ 2). Differentiable with respect to the variables.
   */
  apply(z: tf.Tensor): tf.Tensor4D {
    const { latentDim, hidden } = this.config;
    if (z.rank !== 2 || z.shape[1] !== latentDim || z.shape[0] < 2) {
      throw new LipschitzError('SHAPE_MISMATCH', `Generator.apply: z must be [batch ≥ 2, ${latentDim}], got [${z.shape.join(', ')}].`);
    }
    return tf.tidy(() => {
      const batch = z.shape[0];
      const norm = (x: tf.Tensor, axes: number[], scale: string, offset: string) => {
        const { mean, variance } = tf.moments(x, axes, true);
        return tf.relu(tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, BN_EPSILON))), this.v(scale)), this.v(offset)));
      };
      let h: tf.Tensor = tf.add(tf.matMul(z as tf.Tensor2D, this.v('fc1Weight') as tf.Tensor2D), this.v('fc1Bias'));
      h = norm(h, [0], 'bn1Scale', 'bn1Offset');
      h = tf.add(tf.matMul(h as tf.Tensor2D, this.v('fc2Weight') as tf.Tensor2D), this.v('fc2Bias'));
      h = norm(h, [0], 'bn2Scale', 'bn2Offset');
      h = tf.reshape(h, [batch, 7, 7, hidden]);
      h = tf.add(tf.conv2dTranspose(h as tf.Tensor4D, this.v('convT1Filter') as tf.Tensor4D, [batch, 14, 14, this.config.channels], 2, 'same'), this.v('convT1Bias'));
      h = norm(h, [0, 1, 2], 'bn3Scale', 'bn3Offset');
      h = tf.add(tf.conv2dTranspose(h as tf.Tensor4D, this.v('convT2Filter') as tf.Tensor4D, [batch, IMAGE, IMAGE, 1], 2, 'same'), this.v('convT2Bias'));
      return tf.tanh(h) as tf.Tensor4D;
    });
  }

  /** Latent codes `[count, latentDim]` drawn U[0, 1) from `rng` (the reference's `torch.rand`). */
  latent(count: number, rng: SeededRandom): tf.Tensor2D {
    assertPositiveInteger('Generator.latent', 'count', count);
    const values = Float32Array.from({ length: count * this.config.latentDim }, () => rng.uniform());
    return tf.tensor2d(values, [count, this.config.latentDim]);
  }

  /**
   * `count` images `[count, 28, 28, 1]` in [−1, 1] from fresh codes, generated in batches of `batchSize`
   * (default 64, as the reference; a last batch of one sample is merged into the previous batch so its
   * BatchNorm statistics exist). Not differentiable (no tape needed).
   */
  generate(count: number, rng: SeededRandom, batchSize = 64): tf.Tensor4D {
    assertPositiveInteger('Generator.generate', 'count', count);
    assertPositiveInteger('Generator.generate', 'batchSize', batchSize);
    if (count < 2) throw new LipschitzError('INVALID_ARGUMENT', 'Generator.generate: count must be at least 2 (BatchNorm needs batch statistics).');
    const sizes: number[] = [];
    for (let left = count; left > 0; ) {
      let size = Math.min(batchSize, left);
      if (left - size === 1) size = left > batchSize ? size - 1 : left;
      sizes.push(size);
      left -= size;
    }
    return tf.tidy(() => {
      const parts = sizes.map((size) => {
        const z = this.latent(size, rng);
        return this.apply(z);
      });
      return (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor4D;
    });
  }

  /** The generator as a plain JSON checkpoint (`await`s the variable values). */
  async toCheckpoint(metadata: Record<string, unknown> = {}): Promise<GeneratorCheckpoint> {
    const tensors: Record<string, ExportedTensor> = {};
    for (const [name, variable] of this.variables) tensors[name] = encodeTensor(variable.shape, await variable.data());
    return { format: GENERATOR_FORMAT, config: { ...this.config }, metadata, tensors };
  }

  /**
   * Rebuilds a generator from {@link toCheckpoint}'s output. Throws `CORRUPT_DATA` on a wrong format or a
   * tensor of the wrong shape.
   */
  static fromCheckpoint(checkpoint: GeneratorCheckpoint, where = 'generator checkpoint'): Generator {
    if (checkpoint?.format !== GENERATOR_FORMAT || !checkpoint.tensors || !checkpoint.config) {
      throw new LipschitzError('CORRUPT_DATA', `Generator.fromCheckpoint: ${where} is not a ${GENERATOR_FORMAT} file.`);
    }
    return new Generator(checkpoint.config, 0, checkpoint.tensors);
  }

  /** Releases the variables; idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.variables.values()) v.dispose();
  }
}
