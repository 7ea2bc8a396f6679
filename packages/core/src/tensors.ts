import * as tf from '@tensorflow/tfjs-core';

/**
 * Disposes every tensor found in `value` (a tensor, an array, or an object of tensors), ignoring
 * everything else. Safe to call twice.
 */
export function disposeAll(value: unknown): void {
  if (value == null) return;
  if (value instanceof tf.Tensor) {
    if (!value.isDisposed) value.dispose();
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) disposeAll(item);
    return;
  }
  if (typeof value === 'object') {
    for (const item of Object.values(value as Record<string, unknown>)) disposeAll(item);
  }
}

/**
 * Runs `fn` with a tensor that is disposed afterwards, whatever `fn` returns or throws.
 * Ownership: `tensor` is taken (disposed); what `fn` returns is the caller's.
 *
 * @example
 * ```ts
 * const values = await withDisposal(tf.ones([2]), (t) => t.data());
 * ```
 */
export async function withDisposal<T extends tf.Tensor, R>(tensor: T, fn: (tensor: T) => R | Promise<R>): Promise<R> {
  try {
    return await fn(tensor);
  } finally {
    tensor.dispose();
  }
}

/** Reads a tensor's values as float32 without blocking the thread (`await data()`), then disposes it. */
export async function takeData(tensor: tf.Tensor): Promise<Float32Array> {
  try {
    return (await tensor.data()) as Float32Array;
  } finally {
    tensor.dispose();
  }
}

/** Product of a shape's dimensions. */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}
