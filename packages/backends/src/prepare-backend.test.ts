import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { prepareBackend } from './prepare-backend';

describe('prepareBackend (foundation smoke)', () => {
  for (const name of ['cpu', 'wasm'] as const) {
    it(`${name}: gradients are registered`, async () => {
      await prepareBackend(name);
      expect(tf.getBackend()).toBe(name);
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, x)))(tf.tensor1d([1, 2, 3]));
      expect(Array.from(await g.data())).toEqual([2, 4, 6]);
      const w = tf.variable(tf.randomNormal([3, 3, 2, 4], 0, 1, 'float32', 1));
      const x = tf.randomNormal([2, 5, 5, 2], 0, 1, 'float32', 2);
      const grads = tf.variableGrads(() => tf.sum(tf.conv2d(x as tf.Tensor4D, w as unknown as tf.Tensor4D, 1, 'same')));
      expect(grads.grads[w.name].shape).toEqual([3, 3, 2, 4]);
    });
  }
});
