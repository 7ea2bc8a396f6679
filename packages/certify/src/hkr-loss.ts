import { assertFiniteNumber, assertPositiveNumber, LipschitzError } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkLogitsAndLabels, oneHotMask } from './inputs';
import { krTerm } from './kr-loss';

/** Options of {@link hkrLoss}. */
export interface HkrLossOptions {
  /** Weight α of the hinge term (deel-lip default 10); ≥ 0. */
  alpha?: number;
  /** The margin m of the hinge term (deel-lip `min_margin`, default 1); > 0. */
  minMargin?: number;
}

/**
 * Multi-class hinge-Kantorovich–Rubinstein loss, as deel-lip's `MulticlassHKR` with
 * `soft_hinge_tau = 0` (the classical hinge):
 *
 * `hinge_n = (1/C) Σ_{i ≠ y_n} [ max(0, m/2 − z_{n,y_n}) + max(0, m/2 + z_{n,i}) ]`,
 * `hinge = (1/N) Σ_n hinge_n`, and
 * `hkrLoss = −KR + α · hinge`, with `KR` the multi-class Kantorovich–Rubinstein term of
 * {@link krLoss} (so `hkrLoss = krLoss + α · hinge`).
 *
 * The hinge wants the true-class logit ≥ m/2 and every other logit ≤ −m/2 (a margin m between them);
 * the KR term separates the classes' logit distributions. Parameters: `alpha` (default 10) and
 * `minMargin` = m (default 1). The masks are `tf.oneHot` (no comparison op is differentiated).
 *
 * Ownership: `logits` (`[N, C]`) and `labels` (int32 `[N]`) are borrowed; the scalar is the caller's.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` on wrong ranks or sizes, `INVALID_ARGUMENT` on a negative
 *   α, a non-positive margin or non-int32 labels.
 * @example
 * ```ts
 * const loss = hkrLoss(logits, labels, { alpha: 10, minMargin: 1 });
 * ```
 * @see Serrurier et al., "Achieving robustness in classification using optimal transport with hinge
 *   regularization", CVPR 2021 (arXiv 2006.06520); deel-lip `deel/lip/losses.py` (`MulticlassHKR`).
 */
export function hkrLoss(logits: tf.Tensor, labels: tf.Tensor, options: HkrLossOptions = {}): tf.Scalar {
  const fn = 'hkrLoss';
  const { n, c } = checkLogitsAndLabels(fn, logits, labels);
  const { alpha = 10, minMargin = 1 } = options;
  assertFiniteNumber(fn, 'alpha', alpha);
  if (alpha < 0) throw new LipschitzError('INVALID_ARGUMENT', `${fn}: alpha must be >= 0, got ${alpha}.`);
  assertPositiveNumber(fn, 'minMargin', minMargin);
  return tf.tidy(() => {
    const z = tf.cast(logits, 'float32');
    const mask = oneHotMask(labels, c);
    const half = minMargin / 2;
    const zy = tf.sum(tf.mul(z, mask), 1, true);
    const perPair = tf.add(tf.relu(tf.sub(half, zy)), tf.relu(tf.add(half, z)));
    const hinge = tf.mean(tf.div(tf.sum(tf.mul(perPair, tf.sub(1, mask)), 1), c));
    return tf.add(tf.neg(krTerm(z, labels, n, c)), tf.mul(alpha, hinge)) as tf.Scalar;
  });
}
