import { LipschitzError } from '@lipschitz/core';
import { type LayerModule, maxMin as maxMinModule } from '@lipschitz/layers';
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type BaseLayerArgs, singleInput, singleShape } from './lipschitz-layer';
import { registerLayerOnce } from './register-layer';

/** MaxMin activation as a tfjs layer (see {@link maxMin}). */
export class MaxMin extends tfl.layers.Layer {
  static className = 'MaxMin';
  private readonly op: LayerModule = maxMinModule();

  constructor(args: BaseLayerArgs = {}) {
    super(args);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return this.op.apply(singleInput(inputs));
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = singleShape('maxMin.computeOutputShape', inputShape);
    const c = shape[shape.length - 1];
    if (c != null && c % 2 !== 0) {
      throw new LipschitzError('SHAPE_MISMATCH', `maxMin: the last (channel) axis must have an even size, got input shape [${shape.join(', ')}].`);
    }
    return shape;
  }
}
registerLayerOnce(MaxMin);

/**
 * MaxMin activation (Anil, Lucas & Grosse 2019) as a `tf.layers.Layer`: the last axis is split into
 * halves a, b and the output is `concat[max(a, b), min(a, b)]` — `@lipschitz/layers`' `maxMin` (the same
 * op). 1-Lipschitz and gradient-norm preserving; the channel count must be even.
 *
 * @example
 * ```ts
 * model.add(maxMin());
 * ```
 * @see C. Anil, J. Lucas, R. Grosse, "Sorting out Lipschitz function approximation", ICML 2019.
 */
export function maxMin(args?: BaseLayerArgs): MaxMin {
  return new MaxMin(args);
}
