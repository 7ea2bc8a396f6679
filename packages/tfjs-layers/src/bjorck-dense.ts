import { LipschitzError, SeededRandom, assertPositiveInteger } from '@lipschitz/core';
import { orthogonalTensor, uniformTensor } from '@lipschitz/layers';
import { type OrthogonalizerSpec, orthogonalize } from '@lipschitz/orthogonalize';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type BaseLayerArgs, LipschitzLayer, type LayerWeight, knownDim, singleShape } from './lipschitz-layer';
import { type OrthogonalizationOptions, resolveOrthogonalization } from './orthogonalizer-defaults';
import { registerLayerOnce } from './register-layer';
import { valuesInitializer } from './values-initializer';

/** Options of {@link bjorckDense} (tfjs-style, as `tf.layers.dense`). */
export interface BjorckDenseArgs extends BaseLayerArgs, OrthogonalizationOptions {
  /** Output features (≥ 1). */
  units: number;
  /** Learn a bias (default true). */
  useBias?: boolean;
  /** Seed of the initial values (default 0); the same seed gives `@lipschitz/layers`' initial values. */
  seed?: number;
}

/** Björck dense layer as a tfjs layer (see {@link bjorckDense}). Weights: `weight` `[in, units]`, `bias` `[units]`. */
export class BjorckDense extends LipschitzLayer {
  static className = 'BjorckDense';
  readonly units: number;
  readonly useBias: boolean;
  readonly seed: number;
  readonly orthogonalizer: OrthogonalizerSpec;
  readonly reproject: boolean;
  private weight: LayerWeight | null = null;
  private bias: LayerWeight | null = null;

  constructor(args: BjorckDenseArgs) {
    super(args);
    const fn = 'bjorckDense';
    if (args == null || typeof args !== 'object') {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: pass options such as { units: 10 }.`);
    }
    assertPositiveInteger(fn, 'units', args.units);
    if (args.seed !== undefined && !Number.isInteger(args.seed)) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: seed must be an integer, got ${String(args.seed)}.`);
    }
    this.units = args.units;
    this.useBias = args.useBias ?? true;
    this.seed = args.seed ?? 0;
    const resolved = resolveOrthogonalization(fn, 'bjorckDense', this.seed, args);
    this.orthogonalizer = resolved.orthogonalizer;
    this.reproject = resolved.reproject;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = singleShape('bjorckDense.build', inputShape);
    if (shape.length !== 2) {
      throw new LipschitzError('SHAPE_MISMATCH', `bjorckDense.build: expected input shape [batch, features], got [${shape.join(', ')}]. Put tf.layers.flatten() before a dense layer.`);
    }
    const inputs = knownDim('bjorckDense.build', shape, 1, 'feature count');
    const gain = 1 / Math.sqrt(inputs);
    // One stream for the weight, then the bias, as @lipschitz/layers' bjorckDense.
    const rng = new SeededRandom(this.seed);
    this.weight = this.addWeight('weight', [inputs, this.units], 'float32', valuesInitializer(() => orthogonalTensor(inputs, this.units, gain, rng)), undefined, true);
    this.bias = this.useBias ? this.addWeight('bias', [this.units], 'float32', valuesInitializer(() => uniformTensor([this.units], gain, rng)), undefined, true) : null;
    this.built = true;
  }

  protected computeKernels(): tf.Tensor[] {
    if (!this.weight) throw new LipschitzError('INVALID_ARGUMENT', `bjorckDense: the layer '${this.name}' is not built yet.`);
    const w = orthogonalize(this.weight.read(), this.orthogonalizer);
    return this.bias ? [w, this.bias.read()] : [w];
  }

  protected forward(x: tf.Tensor, kernels: readonly tf.Tensor[]): tf.Tensor {
    const y = tf.matMul(x as tf.Tensor2D, kernels[0] as tf.Tensor2D);
    return kernels[1] ? tf.add(y, kernels[1]) : y;
  }

  protected override reprojectedWeights(): LayerWeight[] {
    return this.reproject && this.weight ? [this.weight] : [];
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = singleShape('bjorckDense.computeOutputShape', inputShape);
    return [shape[0], this.units];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      useBias: this.useBias,
      seed: this.seed,
      orthogonalizer: this.orthogonalizer as unknown as tf.serialization.ConfigDict,
      reproject: this.reproject,
    };
  }
}
registerLayerOnce(BjorckDense);

/**
 * A dense layer whose weight is orthonormalized on every forward pass (reference `BjorckLinear`, Anil,
 * Lucas & Grosse 2019) as a `tf.layers.Layer`: `y = x · orth(W) + b`, `W` `[inputs, units]` — as
 * `@lipschitz/layers`' `bjorckDense` (same initial values for the same seed, same weight from the same
 * variables, same default orthogonalizer). Input `[batch, features]` (flatten first).
 *
 * Guarantee: a (co-)isometry, hence 1-Lipschitz, up to the orthogonalizer's convergence;
 * {@link lipschitzUpperBound} computes the exact σ_max of the weight applied. Caching and re-projection:
 * see {@link LipschitzLayer}.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` on bad options.
 * @example
 * ```ts
 * model.add(bjorckDense({ units: 10 }));
 * ```
 * @see C. Anil, J. Lucas, R. Grosse, "Sorting out Lipschitz function approximation", ICML 2019.
 */
export function bjorckDense(args: BjorckDenseArgs): BjorckDense {
  return new BjorckDense(args);
}
