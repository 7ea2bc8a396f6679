import { type CertifyResult, type NetworkBound, certify as certifyLogits } from '@lipschitz/certify';
import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { lipschitzUpperBound } from './lipschitz-upper-bound';

/** Options of {@link certify}. */
export interface CertifyLayersModelOptions {
  /** Examples per `predict` batch (default 256). */
  batchSize?: number;
}

/** Result of {@link certify}: `@lipschitz/certify`'s certificates plus the bound they use. */
export interface LayersModelCertificate extends CertifyResult {
  /** The network bound (with its per-layer report) from {@link lipschitzUpperBound}. */
  bound: NetworkBound;
}

/**
 * Certified ℓ2 robustness of a `LayersModel` on `x`: the exact bound L from {@link lipschitzUpperBound}
 * at the input shape of `x`, the logits from `model.predict`, then `certify` of `@lipschitz/certify`:
 * example n is certified at ε when it is classified correctly with margin `M_n > √2·ε·L`; its certified
 * radius is `M_n / (√2·L)`.
 *
 * Ownership: `x` (`[N, ...inputShape]`) and `labels` (int32 `[N]`, or one-hot `[N, C]`) are borrowed.
 *
 * @throws LipschitzError as {@link lipschitzUpperBound}, and `SHAPE_MISMATCH`/`INVALID_ARGUMENT` from
 *   `@lipschitz/certify` (bad labels or ε).
 * @example
 * ```ts
 * const r = await certify(model, xTest, yTest, [1.58, 0.3]);
 * r.clean; r.certifiedAccuracy['1.58']; r.bound.lipschitzUpperBound;
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7); Tsuzuku et al., NeurIPS 2018 (the √2 factor).
 */
export async function certify(
  model: tfl.LayersModel,
  x: tf.Tensor,
  labels: tf.Tensor,
  epsilons: number | readonly number[],
  options: CertifyLayersModelOptions = {},
): Promise<LayersModelCertificate> {
  const fn = 'certify';
  if (!(x instanceof tf.Tensor) || x.rank < 2) throw new LipschitzError('SHAPE_MISMATCH', `${fn}: x must be a tensor [N, ...inputShape].`);
  const batchSize = options.batchSize ?? 256;
  assertPositiveInteger(fn, 'batchSize', batchSize);
  const bound = await lipschitzUpperBound(model, x.shape.slice(1));
  const logits = model.predict(x, { batchSize }) as tf.Tensor;
  const indices = labels.rank === 2 && labels.shape[1] !== 1 ? tf.argMax(labels, 1) : labels.rank === 2 ? tf.cast(tf.reshape(labels, [-1]), 'int32') : labels;
  try {
    const result = await certifyLogits(logits, indices, {
      lipschitz: bound.lipschitzUpperBound,
      epsilons: typeof epsilons === 'number' ? [epsilons] : epsilons,
    });
    return { ...result, bound };
  } finally {
    logits.dispose();
    if (indices !== labels) indices.dispose();
  }
}
