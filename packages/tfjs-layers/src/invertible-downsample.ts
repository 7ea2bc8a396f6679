import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import { type LayerModule, invertibleDownsample as downsampleModule } from '@lipschitz/layers';
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type BaseLayerArgs, singleInput, singleShape } from './lipschitz-layer';
import { registerLayerOnce } from './register-layer';

/** Options of {@link invertibleDownsample}. */
export interface InvertibleDownsampleArgs extends BaseLayerArgs {
  /** Block size f (≥ 1); the input height and width must be multiples of it. */
  factor: number;
}

/** Invertible downsampling as a tfjs layer (see {@link invertibleDownsample}). */
export class InvertibleDownsample extends tfl.layers.Layer {
  static className = 'InvertibleDownsample';
  readonly factor: number;
  private readonly op: LayerModule;

  constructor(args: InvertibleDownsampleArgs) {
    super(args);
    assertPositiveInteger('invertibleDownsample', 'factor', args?.factor);
    this.factor = args.factor;
    this.op = downsampleModule({ factor: args.factor });
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return this.op.apply(singleInput(inputs));
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = singleShape('invertibleDownsample.computeOutputShape', inputShape);
    const f = this.factor;
    if (shape.length !== 4 || (shape[1] != null && shape[1] % f !== 0) || (shape[2] != null && shape[2] % f !== 0)) {
      throw new LipschitzError('SHAPE_MISMATCH', `invertibleDownsample: expected NHWC input whose height and width are multiples of ${f}, got [${shape.join(', ')}].`);
    }
    return [shape[0], shape[1] == null ? null : shape[1] / f, shape[2] == null ? null : shape[2] / f, shape[3] == null ? null : shape[3] * f * f];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), factor: this.factor };
  }
}
registerLayerOnce(InvertibleDownsample);

/**
 * Invertible downsampling (pixel unshuffle, NHWC space-to-depth) as a `tf.layers.Layer`:
 * `out[b, y, x, (i·f + j)·C + c] = in[b, y·f + i, x·f + j, c]` — `@lipschitz/layers`'
 * `invertibleDownsample`. A permutation of the coordinates, hence orthogonal (Lipschitz constant 1).
 *
 * @throws LipschitzError `INVALID_ARGUMENT` for a factor that is not a positive integer.
 * @example
 * ```ts
 * model.add(invertibleDownsample({ factor: 2 })); // [b, 28, 28, 1] → [b, 14, 14, 4]
 * ```
 */
export function invertibleDownsample(args: InvertibleDownsampleArgs): InvertibleDownsample {
  return new InvertibleDownsample(args);
}
