import { LipschitzError, type ExportedLayer, assertNotDisposed } from '@lipschitz/core';
import { maxMinActivation } from '@lipschitz/model-format';
import type * as tf from '@tensorflow/tfjs-core';
import type { LayerModule } from './layer-base';
import { StatelessLayer } from './stateless-layer';

/** Checks that the last (channel) axis exists and is even. */
function checkEvenChannels(fn: string, inputShape: readonly number[]): void {
  const c = inputShape[inputShape.length - 1];
  if (inputShape.length < 1 || c % 2 !== 0) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: the last (channel) axis must have an even size, got input shape [${inputShape.join(', ')}] (without batch). Use an even number of channels.`,
    );
  }
}

/** MaxMin activation (see {@link maxMin}). */
export class MaxMin extends StatelessLayer {
  constructor() {
    super('maxMin', {}, 'maxMin');
  }
  protected checkInputShape(fn: string, inputShape: readonly number[]): void {
    checkEvenChannels(fn, inputShape);
  }
  protected forward(x: tf.Tensor): tf.Tensor {
    return maxMinActivation(x);
  }
  outputShape(inputShape: readonly number[]): number[] {
    checkEvenChannels('maxMin.outputShape', inputShape);
    return [...inputShape];
  }
  async exportLayers(inputShape: readonly number[]): Promise<ExportedLayer[]> {
    assertNotDisposed('maxMin.exportLayers', this.disposed);
    checkEvenChannels('maxMin.exportLayers', inputShape);
    return [{ type: 'maxMin' }];
  }
}

/**
 * MaxMin activation (Anil, Lucas & Grosse 2019; reference `GroupSort(2, new_impl=True)`): splits the
 * last (channel) axis into halves a, b and returns `concat[max(a, b), min(a, b)]` — channel i is paired
 * with channel i + C/2. Works for NHWC maps and `[N, F]` vectors; C must be even.
 *
 * Guarantee: 1-Lipschitz and gradient-norm preserving (its Jacobian is a permutation matrix almost
 * everywhere); `lipschitzUpperBound` is exactly 1.
 *
 * Ownership: `apply` borrows its input and returns a new tensor. Throws `SHAPE_MISMATCH` on an odd
 * channel count.
 *
 * @example
 * ```ts
 * const y = maxMin().apply(tf.tensor2d([[1, -2, 3, 4]])); // [[3, 4, 1, -2]]
 * ```
 */
export function maxMin(): LayerModule {
  return new MaxMin();
}
