import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { stopGradient } from './stop-gradient';

describeBackends('stopGradient', () => {
  it('is the identity forward and blocks the gradient', async () => {
    const x = tf.tensor1d([1, 2, 3]);
    expect(Array.from(await stopGradient(x).data())).toEqual([1, 2, 3]);
    // d/dx [x·x + stop(x)·x] = 2x + stop(x) = 3x, not 4x.
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.add(tf.mul(v, v), tf.mul(stopGradient(v), v))))(x);
    expect(Array.from(await g.data())).toEqual([3, 6, 9]);
  });

  it('does not leak', async () => {
    const x = tf.tensor2d([[1, 2]]);
    await expectNoLeaks(() => tf.grad((v: tf.Tensor) => tf.sum(stopGradient(v)))(x));
  });
});
