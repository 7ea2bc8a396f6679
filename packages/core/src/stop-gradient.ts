import * as tf from '@tensorflow/tfjs-core';

const identityWithZeroGradient = tf.customGrad((...inputs) => ({
  value: tf.clone(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/**
 * Identity in the forward pass, zero gradient in the backward pass: `stopGradient(x) = x`,
 * `∂ stopGradient(x) / ∂x = 0`. tfjs-core has no such op (TensorFlow's `tf.stop_gradient`,
 * PyTorch's `detach()`).
 *
 * Ownership: `x` is borrowed; the result is a new tensor owned by the caller.
 *
 * @example
 * ```ts
 * const s = stopGradient(spectralNormEstimate); // treated as a constant by tf.grad
 * ```
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return identityWithZeroGradient(x) as T;
}
