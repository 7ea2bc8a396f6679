import { bcopInitialParams, bcopKernelFromOrthogonal, circularConv2d, invertibleDownsample } from '@lipschitz/blockconv';
import { LipschitzError, SeededRandom, assertPositiveInteger } from '@lipschitz/core';
import { uniformTensor } from '@lipschitz/layers';
import { type OrthogonalizerSpec, orthogonalize } from '@lipschitz/orthogonalize';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type BaseLayerArgs, LipschitzLayer, type LayerWeight, knownDim, singleShape } from './lipschitz-layer';
import { type OrthogonalizationOptions, resolveOrthogonalization } from './orthogonalizer-defaults';
import { registerLayerOnce } from './register-layer';
import { valuesInitializer } from './values-initializer';

/** Options of {@link bcopConv2d} (tfjs-style, as `tf.layers.conv2d`). */
export interface BcopConv2dArgs extends BaseLayerArgs, OrthogonalizationOptions {
  /** Output channels (≥ 1). */
  filters: number;
  /** Square kernel size k (≥ 1); a multiple of `strides`. */
  kernelSize: number;
  /** Stride s (default 1), done as the reference: invertible downsampling by s, then a k/s BCOP. */
  strides?: number;
  /** Learn a bias (default true). */
  useBias?: boolean;
  /** Seed of the initial values (default 0); the same seed gives `@lipschitz/layers`' initial values. */
  seed?: number;
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
export class BcopConv2d extends LipschitzLayer {
  static className = 'BcopConv2d';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly useBias: boolean;
  readonly seed: number;
  readonly orthogonalizer: OrthogonalizerSpec;
  readonly reproject: boolean;
  private inner: InnerShape | null = null;
  private params: LayerWeight | null = null;
  private bias: LayerWeight | null = null;

  constructor(args: BcopConv2dArgs) {
    super(args);
    const fn = 'bcopConv2d';
    if (args == null || typeof args !== 'object') {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: pass options such as { filters: 16, kernelSize: 4, strides: 2 }.`);
    }
    assertPositiveInteger(fn, 'filters', args.filters);
    assertPositiveInteger(fn, 'kernelSize', args.kernelSize);
    assertPositiveInteger(fn, 'strides', args.strides ?? 1);
    if (args.iterations !== undefined) assertPositiveInteger(fn, 'iterations', args.iterations);
    if (args.seed !== undefined && !Number.isInteger(args.seed)) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: seed must be an integer, got ${String(args.seed)}.`);
    }
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? 1;
    if (this.kernelSize % this.strides !== 0) {
      throw new LipschitzError(
        'INVALID_ARGUMENT',
        `${fn}: kernelSize (${this.kernelSize}) must be a multiple of strides (${this.strides}) (strides are done by invertible downsampling, as in the reference).`,
      );
    }
    this.useBias = args.useBias ?? true;
    this.seed = args.seed ?? 0;
    const resolved = resolveOrthogonalization(fn, 'bcopConv2d', this.seed, args);
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

  protected forward(x: tf.Tensor, kernels: readonly tf.Tensor[]): tf.Tensor {
    const input = this.strides > 1 ? invertibleDownsample(x as tf.Tensor4D, this.strides) : (x as tf.Tensor4D);
    return circularConv2d(input, kernels[0] as tf.Tensor4D, kernels[1] as tf.Tensor1D | undefined);
  }

  protected override reprojectedWeights(): LayerWeight[] {
    return this.reproject && this.params ? [this.params] : [];
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = singleShape('bcopConv2d.computeOutputShape', inputShape);
    const s = this.strides;
    const h = shape[1] == null ? null : shape[1] / s;
    const w = shape[2] == null ? null : shape[2] / s;
    if ((h != null && !Number.isInteger(h)) || (w != null && !Number.isInteger(w))) {
      throw new LipschitzError('SHAPE_MISMATCH', `bcopConv2d: the input height and width (${shape[1]}×${shape[2]}) must be multiples of strides ${s}.`);
    }
    return [shape[0], h, w, this.filters];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      useBias: this.useBias,
      seed: this.seed,
      orthogonalizer: this.orthogonalizer as unknown as tf.serialization.ConfigDict,
      reproject: this.reproject,
    };
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
