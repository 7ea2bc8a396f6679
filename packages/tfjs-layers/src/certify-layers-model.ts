import { type CertifyReport, type FloatErrorModel, certifyExportedModel } from '@lipschitz/certify';
import { LipschitzError } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { toLipschitzModel } from './to-lipschitz-model';

/** Options of {@link certify}. */
export interface CertifyLayersModelOptions {
  /** Examples per forward pass (default 100, as `certifyExportedModel`). */
  batchSize?: number;
  /** How float32 evaluation is accounted for (default `'rigorous'`, see `@lipschitz/certify`). */
  floatErrorModel?: FloatErrorModel;
  /** The input range the images lie in (default `[0, 1]`); pixels outside it are refused. */
  range?: [number, number];
}

/**
 * Certified ℓ2 robustness of a `LayersModel` on `x`: the model is converted to `lipschitz-model/1` at the
 * input shape of `x` ({@link toLipschitzModel}: the kernels it applies now) and certified by
 * `certifyExportedModel` of `@lipschitz/certify` — the same function as `robustness certify` and the
 * verifier: the exact float64 bound L of every layer, and by default (`'rigorous'`) the proven float32
 * error bound, so a certified example keeps its label on the whole ε-ball for the exact network and its
 * float32 evaluation. Returns the `certify.json` report (`clean`, `certified[String(ε)]`,
 * `lipschitzUpperBound`, per-layer `layers`, per-example `examples`).
 *
 * Ownership: `x` (`[N, ...inputShape]`) and `labels` (int32 `[N]`, or one-hot `[N, C]`) are borrowed.
 *
 * @throws LipschitzError `UNSUPPORTED_CONFIGURATION` naming a layer that cannot be bounded; what
 *   `certifyExportedModel` throws (bad labels or ε, pixels outside `range`).
 * @example
 * ```ts
 * const r = await certify(model, xTest, yTest, [1.58, 0.3]);
 * r.clean; r.certified['1.58']; r.lipschitzUpperBound;
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7); Tsuzuku et al., NeurIPS 2018 (the √2 factor).
 */
export async function certify(
  model: tfl.LayersModel,
  x: tf.Tensor,
  labels: tf.Tensor,
  epsilons: number | readonly number[],
  options: CertifyLayersModelOptions = {},
): Promise<CertifyReport> {
  if (!(x instanceof tf.Tensor) || x.rank < 2) throw new LipschitzError('SHAPE_MISMATCH', 'certify: x must be a tensor [N, ...inputShape].');
  const exported = await toLipschitzModel(model, { inputShape: x.shape.slice(1), ...(options.range ? { range: options.range } : {}) });
  const indices = labels.rank === 2 && labels.shape[1] !== 1 ? tf.argMax(labels, 1) : labels.rank === 2 ? tf.cast(tf.reshape(labels, [-1]), 'int32') : labels;
  try {
    return await certifyExportedModel(exported, x, indices, {
      epsilons: typeof epsilons === 'number' ? [epsilons] : epsilons,
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.floatErrorModel !== undefined ? { floatErrorModel: options.floatErrorModel } : {}),
    });
  } finally {
    if (indices !== labels) indices.dispose();
  }
}
