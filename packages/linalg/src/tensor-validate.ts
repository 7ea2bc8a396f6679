import { LipschitzError } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Checks that `t` is a live float32 tensor (the one matrix-tensor check of linalg and orthogonalize) of rank ≥ 2
 * with non-empty matrices. Exported from the package for @lipschitz/orthogonalize, so not marked internal: the
 * declaration build strips internal declarations, and the package's `.d.ts` would then re-export a name it lacks.
 */
export function checkMatrixTensor(fn: string, name: string, t: unknown): asserts t is tf.Tensor {
  if (!(t instanceof tf.Tensor)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: ${name} must be a tf.Tensor. Pass a float32 tensor of shape [..., rows, cols].`);
  }
  if (t.isDisposed) throw new LipschitzError('DISPOSED', `${fn}: ${name} was disposed. Pass a live tensor.`);
  if (t.rank < 2) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: ${name} must have rank >= 2 ([..., rows, cols]), got shape [${t.shape.join(', ')}]. Reshape vectors to [n, 1].`);
  }
  if (t.size === 0) throw new LipschitzError('SHAPE_MISMATCH', `${fn}: ${name} has an empty dimension (shape [${t.shape.join(', ')}]).`);
  if (t.dtype !== 'float32') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: ${name} must be float32, got ${t.dtype}. Cast it with tf.cast(${name}, 'float32').`);
  }
}

/** @internal Checks that `t` is a batch of square matrices. */
export function checkSquare(fn: string, name: string, t: unknown): asserts t is tf.Tensor {
  checkMatrixTensor(fn, name, t);
  const n = t.shape[t.rank - 1];
  if (t.shape[t.rank - 2] !== n) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: ${name} must be square in its last two axes, got shape [${t.shape.join(', ')}].`);
  }
}

/** @internal `[..., r, c]` → `[batch, r, c]`. */
export function toBatch3(t: tf.Tensor): tf.Tensor3D {
  const r = t.shape[t.rank - 2];
  const c = t.shape[t.rank - 1];
  return tf.reshape(t, [t.size / (r * c), r, c]);
}

/** Swaps the last two axes of a rank-3 tensor (explicit transpose: no matMul flags). Exported for @lipschitz/orthogonalize. */
export function transposeLast(x: tf.Tensor3D): tf.Tensor3D {
  return tf.transpose(x, [0, 2, 1]);
}
