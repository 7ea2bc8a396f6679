import { LipschitzError, SeededRandom } from '@lipschitz/core';
import { orthogonalTensor, uniformTensor } from '@lipschitz/layers';
import { type OrthogonalizerSpec, orthogonalize } from '@lipschitz/orthogonalize';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type LayerWeight, knownDim, singleShape } from './lipschitz-layer';
import { StridedCircularConv, type StridedCircularConvArgs } from './strided-circular-conv';
import { type OrthogonalizationOptions, resolveOrthogonalization } from './orthogonalizer-defaults';
import { registerLayerOnce } from './register-layer';
import { valuesInitializer } from './values-initializer';

/** Options of {@link rkoConv2d} (tfjs-style, as `tf.layers.conv2d`). */
export interface RkoConv2dArgs extends StridedCircularConvArgs, OrthogonalizationOptions {}

/**
 * RKO convolution as a tfjs layer (see {@link rkoConv2d}). Weights: `weight` `[k'²·cin', filters]`
 * (k' = k/s, cin' = s²·cin) and `bias` `[filters]`.
 */
export class RkoConv2d extends StridedCircularConv {
  static className = 'RkoConv2d';
  readonly orthogonalizer: OrthogonalizerSpec;
  readonly reproject: boolean;
  private inner: { inChannels: number; kernelSize: number } | null = null;
  private weight: LayerWeight | null = null;
  private bias: LayerWeight | null = null;

  constructor(args: RkoConv2dArgs) {
    super('rkoConv2d', args, '{ filters: 16, kernelSize: 3 }');
    const resolved = resolveOrthogonalization('rkoConv2d', 'rkoConv2d', this.seed, args);
    this.orthogonalizer = resolved.orthogonalizer;
    this.reproject = resolved.reproject;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = singleShape('rkoConv2d.build', inputShape);
    const s = this.strides;
    const inChannels = knownDim('rkoConv2d.build', shape, 3, 'channel count') * s * s;
    const k = this.kernelSize / s;
    this.inner = { inChannels, kernelSize: k };
    const rows = k * k * inChannels;
    const gain = 1 / Math.sqrt(rows);
    // One stream for the weight, then the bias, as @lipschitz/layers' rkoConv2d.
    const rng = new SeededRandom(this.seed);
    this.weight = this.addWeight('weight', [rows, this.filters], 'float32', valuesInitializer(() => orthogonalTensor(rows, this.filters, gain, rng)), undefined, true);
    this.bias = this.useBias ? this.addWeight('bias', [this.filters], 'float32', valuesInitializer(() => uniformTensor([this.filters], gain, rng)), undefined, true) : null;
    this.built = true;
  }

  protected computeKernels(): tf.Tensor[] {
    if (!this.inner || !this.weight) throw new LipschitzError('INVALID_ARGUMENT', `rkoConv2d: the layer '${this.name}' is not built yet.`);
    const { inChannels, kernelSize: k } = this.inner;
    const w = orthogonalize(this.weight.read(), this.orthogonalizer);
    const kernel = tf.reshape(tf.div(w, k), [k, k, inChannels, this.filters]);
    return this.bias ? [kernel, this.bias.read()] : [kernel];
  }

  protected override reprojectedWeights(): LayerWeight[] {
    return this.reproject && this.weight ? [this.weight] : [];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), orthogonalizer: this.orthogonalizer as unknown as tf.serialization.ConfigDict, reproject: this.reproject };
  }
}
registerLayerOnce(RkoConv2d);

/**
 * RKO convolution ("reshaped kernel orthogonalization", a baseline of Li et al. 2019) as a
 * `tf.layers.Layer`: the kernel viewed as a `(k²·cin) × filters` matrix is orthogonalized and divided
 * by k, then applied with circular padding — as `@lipschitz/layers`' `rkoConv2d` (same initial values
 * for the same seed, same kernel from the same weights). A stride s: invertible downsampling, then k/s.
 *
 * Guarantee: 1-Lipschitz (not tight: σ_max is usually below 1); {@link lipschitzUpperBound} computes the
 * exact σ_max of the kernel applied. Caching and re-projection: see {@link LipschitzLayer}.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` on bad options.
 * @example
 * ```ts
 * model.add(rkoConv2d({ filters: 32, kernelSize: 3 }));
 * ```
 * @see Li et al., NeurIPS 2019, §4.1; reference-bcop.md §4.
 */
export function rkoConv2d(args: RkoConv2dArgs): RkoConv2d {
  return new RkoConv2d(args);
}
