import { circularConv2d, invertibleDownsample } from '@lipschitz/blockconv';
import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type BaseLayerArgs, LipschitzLayer, singleShape } from './lipschitz-layer';

/** The options every circular convolution layer of this package takes (tfjs-style, as `tf.layers.conv2d`). */
export interface StridedCircularConvArgs extends BaseLayerArgs {
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
 * The base of the circular convolution layers (BCOP, RKO, OSSN): a stride s is done as the reference's
 * `LipschitzConv2d` — invertible downsampling by s (a permutation, norm 1), then a stride-1 circular convolution of
 * kernel k/s on s²·cin channels — so `kernelSize` must be a multiple of `strides` and the output is
 * `[b, h/s, w/s, filters]`. Holds the options, their validation, the forward pass, the output shape and the config;
 * a subclass adds its weights (`build`) and how its kernel is made (`computeKernels`).
 */
export abstract class StridedCircularConv extends LipschitzLayer {
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly useBias: boolean;
  readonly seed: number;
  /** The user-facing name in messages (`bcopConv2d`). */
  protected readonly fn: string;

  /** @throws LipschitzError `INVALID_ARGUMENT` on bad options (`example` shows what to pass). */
  constructor(fn: string, args: StridedCircularConvArgs, example: string) {
    super(args);
    if (args == null || typeof args !== 'object') throw new LipschitzError('INVALID_ARGUMENT', `${fn}: pass options such as ${example}.`);
    assertPositiveInteger(fn, 'filters', args.filters);
    assertPositiveInteger(fn, 'kernelSize', args.kernelSize);
    assertPositiveInteger(fn, 'strides', args.strides ?? 1);
    if (args.seed !== undefined && !Number.isInteger(args.seed)) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: seed must be an integer, got ${String(args.seed)}.`);
    }
    this.fn = fn;
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
  }

  protected forward(x: tf.Tensor, kernels: readonly tf.Tensor[]): tf.Tensor {
    const input = this.strides > 1 ? invertibleDownsample(x as tf.Tensor4D, this.strides) : (x as tf.Tensor4D);
    return circularConv2d(input, kernels[0] as tf.Tensor4D, kernels[1] as tf.Tensor1D | undefined);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = singleShape(`${this.fn}.computeOutputShape`, inputShape);
    const s = this.strides;
    const h = shape[1] == null ? null : shape[1] / s;
    const w = shape[2] == null ? null : shape[2] / s;
    if ((h != null && !Number.isInteger(h)) || (w != null && !Number.isInteger(w))) {
      throw new LipschitzError('SHAPE_MISMATCH', `${this.fn}: the input height and width (${shape[1]}×${shape[2]}) must be multiples of strides ${s}.`);
    }
    return [shape[0], h, w, this.filters];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, useBias: this.useBias, seed: this.seed };
  }
}
