import { bcopInitialParams, bcopKernelFromOrthogonal } from '@lipschitz/blockconv';
import { LipschitzError, SeededRandom, assertPositiveInteger } from '@lipschitz/core';
import { uniformTensor } from '@lipschitz/layers';
import { type OrthogonalizerSpec, orthogonalize } from '@lipschitz/orthogonalize';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type LayerWeight, knownDim, singleShape } from './lipschitz-layer';
import { type OrthogonalizationOptions, resolveOrthogonalization } from './orthogonalizer-defaults';
import { registerLayerOnce } from './register-layer';
import { StridedCircularConv, type StridedCircularConvArgs } from './strided-circular-conv';
import { valuesInitializer } from './values-initializer';

/** Options of {@link bcopConv2d} (tfjs-style, as `tf.layers.conv2d`; a stride s is done as the reference: invertible downsampling by s, then a k/s BCOP). */
export interface BcopConv2dArgs extends StridedCircularConvArgs, OrthogonalizationOptions {
  /** Björck iterations of the default orthogonalizer (as `@lipschitz/layers`' `bcopConv2d`). */
  iterations?: number;
}

/** The channel and kernel sizes of the stride-1 BCOP a layer applies after its downsampling. */
interface InnerShape {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
}

/**
 * BCOP convolution as a tfjs layer (see {@link bcopConv2d}). Weights: `params`
 * `[2(k/s − 1) + 1, cmax, cmax]`, `cmax = max(s²·cin, filters)`, and `bias` `[filters]`.
 */
export class BcopConv2d extends StridedCircularConv {
  static className = 'BcopConv2d';
  readonly orthogonalizer: OrthogonalizerSpec;
  readonly reproject: boolean;
  private inner: InnerShape | null = null;
  private params: LayerWeight | null = null;
  private bias: LayerWeight | null = null;

  constructor(args: BcopConv2dArgs) {
    super('bcopConv2d', args, '{ filters: 16, kernelSize: 4, strides: 2 }');
    if (args.iterations !== undefined) assertPositiveInteger('bcopConv2d', 'iterations', args.iterations);
    const resolved = resolveOrthogonalization('bcopConv2d', 'bcopConv2d', this.seed, args);
    this.orthogonalizer = resolved.orthogonalizer;
    this.reproject = resolved.reproject;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = singleShape('bcopConv2d.build', inputShape);
    const s = this.strides;
    const cin = knownDim('bcopConv2d.build', shape, 3, 'channel count');
    const inner: InnerShape = { inChannels: cin * s * s, outChannels: this.filters, kernelSize: this.kernelSize / s };
    this.inner = inner;
    const seed = this.seed;
    const paramsShape = [2 * (inner.kernelSize - 1) + 1, Math.max(inner.inChannels, inner.outChannels), Math.max(inner.inChannels, inner.outChannels)];
    this.params = this.addWeight('params', paramsShape, 'float32', valuesInitializer(() => bcopInitialParams({ ...inner, seed })), undefined, true);
    // The bias uses its own stream (seed + 1), as @lipschitz/layers' bcopConv2d.
    this.bias = this.useBias
      ? this.addWeight('bias', [this.filters], 'float32', valuesInitializer(() => uniformTensor([this.filters], 1 / Math.sqrt(this.filters), new SeededRandom(seed + 1))), undefined, true)
      : null;
    this.built = true;
  }

  protected computeKernels(): tf.Tensor[] {
    if (!this.inner || !this.params) throw new LipschitzError('INVALID_ARGUMENT', `bcopConv2d: the layer '${this.name}' is not built yet.`);
    const ortho = orthogonalize(this.params.read(), this.orthogonalizer) as tf.Tensor3D;
    const kernel = bcopKernelFromOrthogonal(ortho, this.inner);
    return this.bias ? [kernel, this.bias.read()] : [kernel];
  }

  protected override reprojectedWeights(): LayerWeight[] {
    return this.reproject && this.params ? [this.params] : [];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), orthogonalizer: this.orthogonalizer as unknown as tf.serialization.ConfigDict, reproject: this.reproject };
  }
}
registerLayerOnce(BcopConv2d);

/**
 * BCOP convolution (Li et al. 2019) as a `tf.layers.Layer`: the kernel is built from `2(k − 1) + 1`
 * orthogonalized `cmax × cmax` matrices (H and symmetric projectors) by block convolution and applied
 * with circular padding, exactly as `@lipschitz/layers`' `bcopConv2d` (same initial values for the same
 * seed, same kernel from the same weights, same default orthogonalizer). A stride s is done as the
 * reference: invertible downsampling by s, then a BCOP of kernel k/s on s²·cin channels.
 *
 * Guarantee: orthogonal (an isometry or a co-isometry), hence 1-Lipschitz, up to the orthogonalizer's
 * convergence; {@link lipschitzUpperBound} computes the exact σ_max of the kernel actually applied.
 * Input NHWC `[b, h, w, cin]` (h, w multiples of s), output `[b, h/s, w/s, filters]`.
 *
 * Eval-time caching and re-projection: see {@link LipschitzLayer}; train with {@link lipschitzCallback}.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` on bad options (kernelSize not a multiple of strides, …).
 * @example
 * ```ts
 * const model = tf.sequential({ layers: [bcopConv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 4, strides: 2 })] });
 * ```
 * @see Li, Haque, Anil, Lucas, Grosse, Jacobsen, NeurIPS 2019 (arXiv 1911.00937); reference-bcop.md §1.
 */
export function bcopConv2d(args: BcopConv2dArgs): BcopConv2d {
  return new BcopConv2d(args);
}
