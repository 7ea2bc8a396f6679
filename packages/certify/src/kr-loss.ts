import * as tf from '@tensorflow/tfjs-core';
import { checkLogitsAndLabels, oneHotMask } from './inputs';

/** Added to the class counts in the denominators of {@link krLoss}, as deel-lip does (`1e-7`). */
export const KR_COUNT_EPSILON = 1e-7;

/**
 * Multi-class Kantorovich–Rubinstein loss (deel-lip `MulticlassKR`, negated so that it is minimised).
 *
 * With `S = oneHot(labels)` (`[N, C]`), `n_c = Σ_n S_{n,c}` and `η = 1e-7`:
 *
 * `KR = (1/C) Σ_c [ Σ_n S_{n,c} z_{n,c} / (n_c + η) − Σ_n (1 − S_{n,c}) z_{n,c} / (N − n_c + η) ]`,
 * `krLoss = −KR`.
 *
 * For each class c, `KR_c` is the difference between the mean of logit c over the examples of class c
 * and its mean over the other examples: for a 1-Lipschitz network it is a lower bound on the
 * Wasserstein-1 distance between the two groups (Kantorovich–Rubinstein duality), so minimising
 * `−KR` pushes the classes apart. deel-lip's `MulticlassKR` returns `+KR`; this function returns the
 * quantity one minimises. The per-class mask is a `tf.oneHot` (no comparison op is differentiated).
 *
 * Ownership: `logits` (`[N, C]`) and `labels` (int32 `[N]`) are borrowed; the scalar is the caller's.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` on wrong ranks or sizes, `INVALID_ARGUMENT` on non-int32 labels.
 * @example
 * ```ts
 * const loss = krLoss(logits, labels); // −(mean separation of each class's logit)
 * ```
 * @see Serrurier et al., "Achieving robustness in classification using optimal transport with hinge
 *   regularization", CVPR 2021 (arXiv 2006.06520); deel-lip `deel/lip/losses.py`.
 */
export function krLoss(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  const { n, c } = checkLogitsAndLabels('krLoss', logits, labels);
  return tf.tidy(() => tf.neg(krTerm(tf.cast(logits, 'float32'), labels, n, c)) as tf.Scalar);
}

/** `KR` of {@link krLoss} (positive: the quantity to maximise). @internal */
export function krTerm(z: tf.Tensor, labels: tf.Tensor, n: number, c: number): tf.Scalar {
  const mask = oneHotMask(labels, c);
  const perClass = tf.sum(mask, 0, true);
  const positive = tf.div(mask, tf.add(perClass, KR_COUNT_EPSILON));
  const negative = tf.div(tf.sub(1, mask), tf.add(tf.sub(n, perClass), KR_COUNT_EPSILON));
  return tf.div(tf.sum(tf.mul(z, tf.sub(positive, negative))), c) as tf.Scalar;
}
