import { circularConv2d, invertibleDownsample } from '@lipschitz/blockconv';
import { LipschitzError, SeededRandom, assertPositiveInteger } from '@lipschitz/core';
import { orthogonalTensor, uniformTensor } from '@lipschitz/layers';
import { type OrthogonalizerSpec, orthogonalize } from '@lipschitz/orthogonalize';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type BaseLayerArgs, LipschitzLayer, type LayerWeight, knownDim, singleShape } from './lipschitz-layer';
import { type OrthogonalizationOptions, resolveOrthogonalization } from './orthogonalizer-defaults';
import { registerLayerOnce } from './register-layer';
import { valuesInitializer } from './values-initializer';

/** Options of {@link rkoConv2d} (tfjs-style, as `tf.layers.conv2d`). */
export interface RkoConv2dArgs extends BaseLayerArgs, OrthogonalizationOptions {
  /** Output channels (≥ 1). */
  filters: number;
  /** Square kernel size k (≥ 1); a multiple of `strides`. */
  kernelSize: number;
  /** Stride s (default 1): invertible downsampling by s, then a k/s convolution. */
  strides?: number;
  /** Learn a bias (default true). */
  useBias?: boolean;
  /** Seed of the initial values (default 0); the same seed gives `@lipschitz/layers`' initial values. */
  seed?: number;
}

/**
 * RKO convolution as a tfjs layer (see {@link rkoConv2d}). Weights: `weight` `[k'²·cin', filters]`
 * (k' = k/s, cin' = s²·cin) and `bias` `[filters]`.
 */
export class RkoConv2d extends LipschitzLayer {
  static className = 'RkoConv2d';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly useBias: boolean;
  readonly seed: number;
  readonly orthogonalizer: OrthogonalizerSpec;
  readonly reproject: boolean;
  private inner: { inChannels: number; kernelSize: number } | null = null;
  private weight: LayerWeight | null = null;
  private bias: LayerWeight | null = null;

  constructor(args: RkoConv2dArgs) {
    super(args);
    const fn = 'rkoConv2d';
    if (args == null || typeof args !== 'object') {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: pass options such as { filters: 16, kernelSize: 3 }.`);
    }
    assertPositiveInteger(fn, 'filters', args.filters);
    assertPositiveInteger(fn, 'kernelSize', args.kernelSize);
    assertPositiveInteger(fn, 'strides', args.strides ?? 1);
    if (args.seed !== undefined && !Number.isInteger(args.seed)) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: seed must be an integer, got ${String(args.seed)}.`);
    }
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? 1;
    if (this.kernelSize % this.strides !== 0) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: kernelSize (${this.kernelSize}) must be a multiple of strides (${this.strides}).`);
    }
    this.useBias = args.useBias ?? true;
    this.seed = args.seed ?? 0;
    const resolved = resolveOrthogonalization(fn, 'rkoConv2d', this.seed, args);
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

  protected forward(x: tf.Tensor, kernels: readonly tf.Tensor[]): tf.Tensor {
    const input = this.strides > 1 ? invertibleDownsample(x as tf.Tensor4D, this.strides) : (x as tf.Tensor4D);
    return circularConv2d(input, kernels[0] as tf.Tensor4D, kernels[1] as tf.Tensor1D | undefined);
  }

  protected override reprojectedWeights(): LayerWeight[] {
    return this.reproject && this.weight ? [this.weight] : [];
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = singleShape('rkoConv2d.computeOutputShape', inputShape);
    const s = this.strides;
    const h = shape[1] == null ? null : shape[1] / s;
    const w = shape[2] == null ? null : shape[2] / s;
    if ((h != null && !Number.isInteger(h)) || (w != null && !Number.isInteger(w))) {
      throw new LipschitzError('SHAPE_MISMATCH', `rkoConv2d: the input height and width (${shape[1]}×${shape[2]}) must be multiples of strides ${s}.`);
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
