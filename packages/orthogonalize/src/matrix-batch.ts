import { transposeLast } from '@lipschitz/linalg';
import * as tf from '@tensorflow/tfjs-core';

/** @internal A batch of tall matrices `[batch, m, n]` (m ≥ n) and how to get the original layout back. */
export interface TallBatch {
  x: tf.Tensor3D;
  transposed: boolean;
  shape: number[];
}

/** @internal `[..., r, c]` → `[batch, max(r,c), min(r,c)]`, transposing wide matrices. */
export function toTallBatch(w: tf.Tensor): TallBatch {
  const shape = w.shape;
  const rows = shape[shape.length - 2];
  const cols = shape[shape.length - 1];
  const batch = w.size / (rows * cols);
  const x3 = tf.reshape(w, [batch, rows, cols]) as tf.Tensor3D;
  if (rows >= cols) return { x: x3, transposed: false, shape };
  return { x: transposeLast(x3), transposed: true, shape };
}

/** @internal Inverse of {@link toTallBatch}. */
export function fromTallBatch(x: tf.Tensor3D, info: TallBatch): tf.Tensor {
  const y = info.transposed ? transposeLast(x) : x;
  return tf.reshape(y, info.shape);
}

/** @internal `xᵀx` for a batch of matrices, as `matMul(transpose(x), x)` (fast on wasm). */
export function gram(x: tf.Tensor3D): tf.Tensor3D {
  return tf.matMul(transposeLast(x), x);
}

/** @internal `[batch, n, n]` identity. */
export function batchEye(batch: number, n: number): tf.Tensor3D {
  return tf.tile(tf.reshape(tf.eye(n), [1, n, n]), [batch, 1, 1]) as tf.Tensor3D;
}
