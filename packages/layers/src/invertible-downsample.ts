import { LipschitzError, type ExportedLayer, assertNotDisposed, assertPositiveInteger } from '@lipschitz/core';
import { invertibleDownsample as spaceToDepth } from '@lipschitz/blockconv';
import type * as tf from '@tensorflow/tfjs-core';
import type { LayerModule } from './layer-base';
import { StatelessLayer } from './stateless-layer';

/** Options of {@link invertibleDownsample}. */
export interface InvertibleDownsampleOptions {
  /** The block size f (≥ 1); the input height and width must be multiples of it. */
  factor: number;
}

/** Invertible downsampling (see {@link invertibleDownsample}). */
export class InvertibleDownsample extends StatelessLayer {
  readonly factor: number;
  constructor(options: InvertibleDownsampleOptions) {
    super('invertibleDownsample', options, `invertibleDownsample(${options.factor})`);
    this.factor = options.factor;
  }
  protected checkInputShape(fn: string, inputShape: readonly number[]): void {
    const f = this.factor;
    if (inputShape.length !== 3 || inputShape[0] % f !== 0 || inputShape[1] % f !== 0) {
      throw new LipschitzError(
        'SHAPE_MISMATCH',
        `${fn}: expected an NHWC input whose height and width are multiples of ${f}, got input shape [${inputShape.join(', ')}] (without batch).`,
      );
    }
  }
  protected forward(x: tf.Tensor): tf.Tensor {
    return spaceToDepth(x as tf.Tensor4D, this.factor);
  }
  outputShape(inputShape: readonly number[]): number[] {
    this.checkInputShape('invertibleDownsample.outputShape', inputShape);
    const f = this.factor;
    return [inputShape[0] / f, inputShape[1] / f, inputShape[2] * f * f];
  }
  async exportLayers(inputShape: readonly number[]): Promise<ExportedLayer[]> {
    assertNotDisposed('invertibleDownsample.exportLayers', this.disposed);
    this.checkInputShape('invertibleDownsample.exportLayers', inputShape);
    return [{ type: 'invertibleDownsample', factor: this.factor }];
  }
}

/**
 * Invertible downsampling (pixel unshuffle, NHWC space-to-depth; reference `PixelUnshuffle2d`):
 * `out[b, y, x, (i·f + j)·C + c] = in[b, y·f + i, x·f + j, c]`. The reference orders channels as
 * `c·f² + i·f + j`; the two differ by a channel permutation that the next layer absorbs.
 *
 * Guarantee: a permutation of the coordinates, hence orthogonal; `lipschitzUpperBound` is exactly 1.
 *
 * Ownership: `apply` borrows its input and returns a new tensor. Throws `INVALID_ARGUMENT` for a
 * factor that is not a positive integer, `SHAPE_MISMATCH` when the input size is not a multiple.
 *
 * @example
 * ```ts
 * invertibleDownsample({ factor: 2 }).apply(tf.zeros([1, 28, 28, 1])).shape; // [1, 14, 14, 4]
 * ```
 */
export function invertibleDownsample(options: InvertibleDownsampleOptions): LayerModule {
  assertPositiveInteger('invertibleDownsample', 'factor', options?.factor);
  return new InvertibleDownsample({ factor: options.factor });
}
