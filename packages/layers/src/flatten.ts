import { LipschitzError, type ExportedLayer, assertNotDisposed } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerModule } from './layer-base';
import { StatelessLayer } from './stateless-layer';

/** Flatten (see {@link flatten}). */
export class Flatten extends StatelessLayer {
  constructor() {
    super('flatten', {}, 'flatten');
  }
  protected checkInputShape(fn: string, inputShape: readonly number[]): void {
    if (inputShape.length < 1) {
      throw new LipschitzError('SHAPE_MISMATCH', `${fn}: the input needs at least one axis besides the batch axis.`);
    }
  }
  protected forward(x: tf.Tensor): tf.Tensor {
    return tf.reshape(x, [x.shape[0], -1]);
  }
  outputShape(inputShape: readonly number[]): number[] {
    this.checkInputShape('flatten.outputShape', inputShape);
    return [inputShape.reduce((a, b) => a * b, 1)];
  }
  async exportLayers(inputShape: readonly number[]): Promise<ExportedLayer[]> {
    assertNotDisposed('flatten.exportLayers', this.disposed);
    this.checkInputShape('flatten.exportLayers', inputShape);
    return [{ type: 'flatten' }];
  }
}

/**
 * Flattens everything but the batch axis in NHWC row-major order: `[N, H, W, C] → [N, H·W·C]`, index
 * `(h·W + w)·C + c`. (The reference flattens NCHW; the two differ by a permutation, which the next
 * dense layer absorbs.)
 *
 * Guarantee: an isometry; `lipschitzUpperBound` is exactly 1.
 *
 * Ownership: `apply` borrows its input and returns a new tensor.
 *
 * @example
 * ```ts
 * flatten().apply(tf.zeros([2, 7, 7, 32])).shape; // [2, 1568]
 * ```
 */
export function flatten(): LayerModule {
  return new Flatten();
}
