import * as tf from '@tensorflow/tfjs-core';
import { checkLogitsAndLabels, oneHotMask } from './inputs';

/**
 * Softmax cross-entropy with integer labels, averaged over the batch:
 * `loss = (1/N) Σ_n (log Σ_i exp z_{n,i} − z_{n,y_n})`.
 *
 * Ownership: `logits` (`[N, C]`) and `labels` (int32 `[N]`) are borrowed; the scalar is the caller's.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` on wrong ranks or sizes, `INVALID_ARGUMENT` on non-int32 labels.
 * @example
 * ```ts
 * const loss = crossEntropyLoss(logits, labels);
 * ```
 * @see Goodfellow, Bengio, Courville, "Deep Learning" (2016), §6.2.2.3.
 */
export function crossEntropyLoss(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  const { c } = checkLogitsAndLabels('crossEntropyLoss', logits, labels);
  return tf.tidy(() => {
    const mask = oneHotMask(labels, c);
    const logProbabilities = tf.logSoftmax(tf.cast(logits, 'float32'));
    return tf.neg(tf.mean(tf.sum(tf.mul(logProbabilities, mask), 1))) as tf.Scalar;
  });
}
