import { SeededRandom } from '@lipschitz/core';
import type * as tf from '@tensorflow/tfjs-core';
import { DenseLayerBase, validateDenseOptions } from './bjorck-dense';
import type { LayerModule } from './layer-base';
import { uniformTensor } from './initializers';

/** Options of {@link plainDense}. */
export interface PlainDenseOptions {
  inputs: number;
  outputs: number;
  /** Learn a bias (default true). */
  bias?: boolean;
  /** Seed of the initial values (default 0). */
  seed?: number;
}

/** Unconstrained dense layer (see {@link plainDense}). */
export class PlainDense extends DenseLayerBase {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(options: PlainDenseOptions) {
    super('plainDense', options, `plainDense(${options.inputs}→${options.outputs})`);
    const rng = new SeededRandom(options.seed ?? 0);
    const limit = 1 / Math.sqrt(options.inputs);
    this.weight = this.addVariable(uniformTensor([options.inputs, options.outputs], limit, rng));
    this.bias = this.useBias ? this.addVariable(uniformTensor([options.outputs], limit, rng)) : null;
  }

  protected override computeKernels(): tf.Tensor[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }
}

/**
 * An unconstrained dense layer `y = x·W + b`, `W` `[inputs, outputs]`, with PyTorch's `nn.Linear`
 * init (W and b uniform in ±1/√inputs); the baseline for "the same architecture with plain layers".
 *
 * Guarantee: none by construction; `lipschitzUpperBound` is the exact σ_max of W (float64 SVD).
 *
 * Ownership: owns its variables (`dispose()`); `apply` borrows `x` and returns a new tensor.
 * Throws `INVALID_ARGUMENT` on bad options, `SHAPE_MISMATCH` on a wrong input shape.
 *
 * @example
 * ```ts
 * const dense = plainDense({ inputs: 100, outputs: 10 });
 * ```
 * @see PyTorch `nn.Linear.reset_parameters` (kaiming_uniform with a = √5).
 */
export function plainDense(options: PlainDenseOptions): LayerModule {
  validateDenseOptions('plainDense', options);
  return new PlainDense(options);
}
