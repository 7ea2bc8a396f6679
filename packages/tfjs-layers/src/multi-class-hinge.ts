import { multiMarginLoss } from '@lipschitz/certify';
import { LipschitzError, assertFiniteNumber } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link multiClassHinge}. */
export interface MultiClassHingeOptions {
  /** The ℓ2 radius ε the margin is trained for (reference: 1.5 on MNIST, 0.5 on CIFAR-10); ≥ 0. */
  epsilon: number;
  /** The network's Lipschitz constant L the margin is scaled by (default 1). */
  lipschitz?: number;
}

/**
 * The reference's certification-aware multi-class hinge loss as a `model.compile` loss:
 * `margin = √2·ε·L`, `loss = mean_n (1/C) Σ_{i≠y_n} max(0, margin − z_{n,y_n} + z_{n,i})` — the
 * `multiMarginLoss` of `@lipschitz/certify` (PyTorch's `multi_margin_loss`, as `robustness train`).
 *
 * The targets `yTrue` are one-hot `[N, C]` (as for `categoricalCrossentropy`) or class indices
 * `[N]`/`[N, 1]`; `yPred` are the logits `[N, C]`. Returns a scalar; borrows both tensors.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` for a negative or non-finite ε (when called),
 *   `SHAPE_MISMATCH` for targets that are neither one-hot nor indices.
 * @example
 * ```ts
 * model.compile({ optimizer: tf.train.adam(1e-3), loss: multiClassHinge({ epsilon: 1.5 }) });
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7).
 */
export function multiClassHinge(options: MultiClassHingeOptions): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar {
  const fn = 'multiClassHinge';
  assertFiniteNumber(fn, 'epsilon', options?.epsilon);
  if (options.epsilon < 0) throw new LipschitzError('INVALID_ARGUMENT', `${fn}: epsilon must be >= 0, got ${options.epsilon}.`);
  const lossOptions = { epsilon: options.epsilon, ...(options.lipschitz !== undefined ? { lipschitz: options.lipschitz } : {}) };
  const loss = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar =>
    tf.tidy(() => {
      const c = yPred.shape[yPred.shape.length - 1];
      let labels: tf.Tensor;
      if (yTrue.rank === 2 && yTrue.shape[1] === c && c > 1) labels = tf.argMax(yTrue, 1);
      else if (yTrue.rank === 1 || (yTrue.rank === 2 && yTrue.shape[1] === 1)) labels = tf.cast(tf.reshape(yTrue, [-1]), 'int32');
      else {
        throw new LipschitzError('SHAPE_MISMATCH', `${fn}: targets must be one-hot [N, ${c}] or class indices [N], got [${yTrue.shape.join(', ')}].`);
      }
      return multiMarginLoss(yPred, labels, lossOptions);
    });
  Object.defineProperty(loss, 'name', { value: 'multiClassHinge' });
  return loss;
}
