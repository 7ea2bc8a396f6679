import * as tf from '@tensorflow/tfjs-core';

const identityWithZeroGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as tf.CustomGradientFunc<tf.Tensor>);

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
