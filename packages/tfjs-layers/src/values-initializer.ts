import { LipschitzError } from '@lipschitz/core';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** The initializer type `addWeight` takes. */
export type WeightInitializer = ReturnType<typeof tfl.initializers.zeros>;

/**
 * An initializer for `addWeight` that returns the tensor `make()` builds (e.g. `bcopInitialParams`),
 * so that a layer's initial values are exactly those of `@lipschitz/layers` for the same seed. tfjs
 * skips it when loading a saved model (the weights are read from the file instead). Never serialized.
 */
export function valuesInitializer(make: () => tf.Tensor): WeightInitializer {
  const initializer = {
    apply(shape: number[]): tf.Tensor {
      const value = make();
      if (value.shape.length !== shape.length || value.shape.some((d, i) => d !== shape[i])) {
        value.dispose();
        throw new LipschitzError('SHAPE_MISMATCH', `valuesInitializer: built a value of shape [${value.shape.join(', ')}] for a weight of shape [${shape.join(', ')}].`);
      }
      return value;
    },
    getConfig: () => ({}),
    getClassName: () => 'LipschitzValues',
  };
  return initializer as unknown as WeightInitializer;
}
