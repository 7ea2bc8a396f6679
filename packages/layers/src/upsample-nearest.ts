import { LipschitzError, type ExportedLayer, assertPositiveInteger } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerModule } from './layer-base';
import { StatelessLayer } from './stateless-layer';

/** Options of {@link upsampleNearest}. */
export interface UpsampleNearestOptions {
  /** The integer upsampling factor f (≥ 1) for both height and width. */
  factor: number;
}

/** Nearest-neighbour upsampling (see {@link upsampleNearest}). */
export class UpsampleNearest extends StatelessLayer {
  readonly factor: number;
  constructor(options: UpsampleNearestOptions) {
    super('upsampleNearest', options, `upsampleNearest(${options.factor})`);
    this.factor = options.factor;
  }
  protected checkInputShape(fn: string, inputShape: readonly number[]): void {
    if (inputShape.length !== 3) {
      throw new LipschitzError('SHAPE_MISMATCH', `${fn}: expected an NHWC input, got input shape [${inputShape.join(', ')}] (without batch).`);
    }
  }
  protected override exactLipschitz(): number {
    // Every input pixel is copied f² times: all singular values equal f.
    return this.factor;
  }
  protected forward(x: tf.Tensor): tf.Tensor {
    const f = this.factor;
    const [n, h, w, c] = x.shape;
    // Two rank-4 tiles (tfjs's Tile gradient supports rank ≤ 4): along the width, then the height.
    const wide = tf.reshape(tf.tile(tf.reshape(x, [n * h, w, 1, c]), [1, 1, f, 1]), [n, h, 1, w * f * c]);
    return tf.reshape(tf.tile(wide, [1, 1, f, 1]), [n, h * f, w * f, c]);
  }
  outputShape(inputShape: readonly number[]): number[] {
    this.checkInputShape('upsampleNearest.outputShape', inputShape);
    return [inputShape[0] * this.factor, inputShape[1] * this.factor, inputShape[2]];
  }
  async exportLayers(): Promise<ExportedLayer[]> {
    if (this.factor === 1) return [];
    throw new LipschitzError(
      'UNSUPPORTED_CONFIGURATION',
      `upsampleNearest.exportLayers: the lipschitz-model/1 format has no upsampling layer. Export a model whose input already has the upsampled size (factor ${this.factor}).`,
    );
  }
}

/**
 * Nearest-neighbour upsampling by an integer factor f (reference DCGAN critic:
 * `UpsamplingNearest2d(64×64)` on 32×32 CIFAR inputs): `out[b, y, x, c] = in[b, ⌊y/f⌋, ⌊x/f⌋, c]`.
 *
 * Guarantee: every singular value equals f, so `lipschitzUpperBound` is exactly f (the reference's
 * CIFAR critic is therefore 2-Lipschitz, not 1-Lipschitz). Not representable in `lipschitz-model/1`:
 * `exportLayers` throws `UNSUPPORTED_CONFIGURATION` unless f = 1.
 *
 * Ownership: `apply` borrows its input and returns a new tensor.
 *
 * @example
 * ```ts
 * upsampleNearest({ factor: 2 }).apply(tf.zeros([1, 32, 32, 3])).shape; // [1, 64, 64, 3]
 * ```
 */
export function upsampleNearest(options: UpsampleNearestOptions): LayerModule {
  assertPositiveInteger('upsampleNearest', 'factor', options?.factor);
  return new UpsampleNearest({ factor: options.factor });
}
