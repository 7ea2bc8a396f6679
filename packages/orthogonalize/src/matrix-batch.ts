import { LipschitzError } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/** @internal Checks that `w` is a float32 tensor of rank ≥ 2 with non-empty matrices. */
export function checkMatrixTensor(fn: string, name: string, w: tf.Tensor): void {
  if (!(w instanceof tf.Tensor)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: ${name} must be a tf.Tensor. Pass a float32 tensor of shape [..., rows, cols].`);
  }
  if (w.isDisposed) {
    throw new LipschitzError('DISPOSED', `${fn}: ${name} was disposed. Pass a live tensor.`);
  }
  if (w.rank < 2) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: ${name} must have rank >= 2 ([..., rows, cols]), got shape [${w.shape.join(', ')}]. Reshape vectors to [n, 1].`,
    );
  }
  if (w.size === 0) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: ${name} has an empty dimension (shape [${w.shape.join(', ')}]).`);
  }
  if (w.dtype !== 'float32') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: ${name} must be float32, got ${w.dtype}. Cast it with tf.cast(w, 'float32').`);
  }
}

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

/** @internal Swaps the last two axes of a rank-3 tensor (an explicit transpose: no matMul flags, runtime.md). */
export function transposeLast(x: tf.Tensor3D): tf.Tensor3D {
  return tf.transpose(x, [0, 2, 1]);
}

/** @internal `xᵀx` for a batch of matrices, as `matMul(transpose(x), x)` (fast on wasm). */
export function gram(x: tf.Tensor3D): tf.Tensor3D {
  return tf.matMul(transposeLast(x), x);
}

/** @internal `[batch, n, n]` identity. */
export function batchEye(batch: number, n: number): tf.Tensor3D {
  return tf.tile(tf.reshape(tf.eye(n), [1, n, n]), [batch, 1, 1]) as tf.Tensor3D;
}
