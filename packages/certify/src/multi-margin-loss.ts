import { LipschitzError, assertFiniteNumber, assertPositiveInteger, assertPositiveNumber } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkLogitsAndLabels, oneHotMask } from './inputs';

/** Options of {@link multiMarginLoss}. */
export interface MultiMarginLossOptions {
  /** The ℓ2 radius ε the margin is trained for (reference: 1.5 on MNIST, 0.5 on CIFAR-10); ≥ 0. */
  epsilon: number;
  /** The network's Lipschitz constant L the margin is scaled by (default 1). */
  lipschitz?: number;
  /** Number of classes C; must equal `logits.shape[1]` when given (a shape check). */
  numClasses?: number;
}

/**
 * The reference's certification-aware multi-class hinge loss (`multi_margin_loss_eps` in LConvNet):
 *
 * `margin = √2 · ε · L`, `loss_n = (1/C) Σ_{i ≠ y_n} max(0, margin − z_{n,y_n} + z_{n,i})`,
 * `loss = (1/N) Σ_n loss_n`.
 *
 * This is PyTorch's `F.multi_margin_loss(z, y, margin, p=1)`: the sum has C − 1 terms but is
 * divided by C. The label mask is built with `tf.oneHot` (no comparison op is differentiated), so the
 * loss is differentiable in `logits` on every backend.
 *
 * Ownership: `logits` (`[N, C]`) and `labels` (int32 `[N]`) are borrowed; the scalar is the caller's.
 * Labels outside `[0, C)` are not checked here (that would need a device read): they give a row of
 * zeros in the one-hot mask.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` on wrong ranks or sizes, `INVALID_ARGUMENT` on a negative ε,
 *   a non-positive L or non-int32 labels.
 * @example
 * ```ts
 * const loss = multiMarginLoss(logits, labels, { epsilon: 1.5 }); // margin 2.1213
 * ```
 * @see Li et al., "Preventing Gradient Attenuation in Lipschitz Constrained Convolutional Networks",
 *   NeurIPS 2019 (reference-bcop.md §7).
 */
export function multiMarginLoss(logits: tf.Tensor, labels: tf.Tensor, options: MultiMarginLossOptions): tf.Scalar {
  const fn = 'multiMarginLoss';
  const { c } = checkLogitsAndLabels(fn, logits, labels);
  const { epsilon, lipschitz = 1, numClasses } = options ?? ({} as MultiMarginLossOptions);
  assertFiniteNumber(fn, 'epsilon', epsilon);
  if (epsilon < 0) throw new LipschitzError('INVALID_ARGUMENT', `${fn}: epsilon must be >= 0, got ${epsilon}.`);
  assertPositiveNumber(fn, 'lipschitz', lipschitz);
  if (numClasses !== undefined) {
    assertPositiveInteger(fn, 'numClasses', numClasses);
    if (numClasses !== c) {
      throw new LipschitzError('SHAPE_MISMATCH', `${fn}: numClasses is ${numClasses} but logits has ${c} columns. Pass logits of shape [N, numClasses].`);
    }
  }
  const margin = Math.SQRT2 * epsilon * lipschitz;
  return tf.tidy(() => {
    const mask = oneHotMask(labels, c);
    const z = tf.cast(logits, 'float32');
    const zy = tf.sum(tf.mul(z, mask), 1, true);
    const terms = tf.mul(tf.relu(tf.add(tf.sub(tf.scalar(margin), zy), z)), tf.sub(1, mask));
    return tf.mean(tf.div(tf.sum(terms, 1), c)) as tf.Scalar;
  });
}
