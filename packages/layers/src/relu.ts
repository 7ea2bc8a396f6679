import { type ExportedLayer, assertNotDisposed } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerModule } from './layer-base';
import { StatelessLayer } from './stateless-layer';

/** ReLU activation (see {@link relu}). */
export class Relu extends StatelessLayer {
  constructor() {
    super('relu', {}, 'relu');
  }
  protected checkInputShape(): void {}
  protected forward(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }
  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }
  async exportLayers(): Promise<ExportedLayer[]> {
    assertNotDisposed('relu.exportLayers', this.disposed);
    return [{ type: 'relu' }];
  }
}

/**
 * ReLU activation `max(x, 0)` (used by the reference only in the Wasserstein experiments).
 *
 * Guarantee: 1-Lipschitz (`lipschitzUpperBound` = 1) but **not** gradient-norm preserving: it zeroes
 * the gradient of every negative unit (the paper's motivation for MaxMin).
 *
 * Ownership: `apply` borrows its input and returns a new tensor.
 *
 * @example
 * ```ts
 * const y = relu().apply(tf.tensor1d([-1, 2])); // [0, 2]
 * ```
 */
export function relu(): LayerModule {
  return new Relu();
}
