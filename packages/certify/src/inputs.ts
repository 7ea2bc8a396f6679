import { LipschitzError, assertRank } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Checks that `logits` is `[N, C]` and `labels` is an int32 `[N]` tensor; returns `{ n, c }`.
 * @internal
 */
export function checkLogitsAndLabels(fn: string, logits: tf.Tensor, labels: tf.Tensor): { n: number; c: number } {
  assertRank(fn, 'logits', logits.shape, 2);
  assertRank(fn, 'labels', labels.shape, 1);
  if (labels.dtype !== 'int32') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: labels must be an int32 tensor of class indices, got dtype ${labels.dtype}. Pass tf.tensor1d(indices, 'int32').`);
  }
  const [n, c] = logits.shape;
  if (labels.shape[0] !== n) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: labels has ${labels.shape[0]} entries but logits has ${n} rows. Pass one label per row of logits.`);
  }
  if (c < 2) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: logits must have at least 2 classes (columns), got ${c}.`);
  }
  return { n, c };
}

/**
 * Checks that `images` is a batch `[N, ...]` with N equal to the number of labels (int32 `[N]`).
 * @internal
 */
export function checkImagesAndLabels(fn: string, images: tf.Tensor, labels: tf.Tensor): number {
  if (images.rank < 2) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: images must be a batch [N, ...] of rank >= 2, got shape [${images.shape.join(', ')}].`);
  }
  assertRank(fn, 'labels', labels.shape, 1);
  if (labels.dtype !== 'int32') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: labels must be an int32 tensor of class indices, got dtype ${labels.dtype}. Pass tf.tensor1d(indices, 'int32').`);
  }
  if (labels.shape[0] !== images.shape[0]) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: labels has ${labels.shape[0]} entries but images has ${images.shape[0]}. Pass one label per image.`);
  }
  return images.shape[0];
}

/** Throws unless every label is an integer in [0, c). @internal */
export function checkLabelValues(fn: string, labels: ArrayLike<number>, c: number): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!(y >= 0 && y < c)) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: label ${i} is ${y}, outside [0, ${c}). Pass class indices in [0, ${c}).`);
    }
  }
}

/**
 * A float32 one-hot mask `[N, C]` of int32 labels. Built as int32 then cast: tfjs-backend-wasm 4.22's
 * `OneHot` kernel writes integer bit patterns into a float32 output (`tf.oneHot(y, c, 1, 0, 'float32')`
 * gives 1.4e-45 instead of 1 on wasm).
 * @internal
 */
export function oneHotMask(labels: tf.Tensor, c: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(labels as tf.Tensor1D, c), 'float32')) as tf.Tensor2D;
}
