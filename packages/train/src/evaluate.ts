import { LipschitzError, type LipschitzModule, assertNonNegativeInteger, assertPositiveInteger, assertPositiveNumber } from '@lipschitz/core';
import { certifyLogitValues, moduleLipschitzBound } from '@lipschitz/model-format';
import * as tf from '@tensorflow/tfjs-core';
import { type Batcher, type LabeledImages, assertLabeledImages, shuffledBatches } from './batches';
import type { LossFunction } from './train-step';

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Default 100 (the reference's test batch). */
  batchSize?: number;
  /** Evaluate only the first `limit` examples. */
  limit?: number;
  /** ℓ2 radii at which to report certified accuracy (needs a Lipschitz bound). */
  epsilons?: readonly number[];
  /**
   * A sound upper bound `L` on the model's ℓ2 Lipschitz constant. Default, when `epsilons` are given:
   * the certificate bound `moduleLipschitzBound(model, [height, width, channels])` of `@lipschitz/model-format`
   * (the model's own `lipschitzUpperBound` when its layers cannot be exported).
   */
  lipschitz?: number;
  /** Also report the mean of this loss over the set. */
  loss?: LossFunction;
  /** Batch source (default {@link shuffledBatches} without shuffling). */
  batcher?: Batcher;
}

/** What {@link evaluate} measured. Accuracies are fractions in [0, 1]. */
export interface EvaluationResult {
  /** Examples evaluated. */
  count: number;
  /** Fraction with `argmax(logits) = label`. */
  accuracy: number;
  /** Fraction certified at each ε, keyed by `String(ε)`; present when `epsilons` were given. */
  certified?: Record<string, number>;
  /** The bound `L` used for certification. */
  lipschitzUpperBound?: number;
  /** Mean loss (example-weighted over batches) when `loss` was given. */
  meanLoss?: number;
}

/**
 * The L certificates use for `model`: the certificate bound of its exported layers (`moduleLipschitzBound`
 * of `@lipschitz/model-format`, the number `certify` and `exportModel` use); for a module whose layers the
 * format cannot express (or whose `exportLayers` does not describe it), its own `lipschitzUpperBound`.
 */
async function certificateBound(model: LipschitzModule, inputShape: number[]): Promise<number> {
  try {
    return (await moduleLipschitzBound(model, inputShape)).lipschitzUpperBound;
  } catch (error) {
    if (LipschitzError.isInstance(error) && (error.code === 'UNSUPPORTED_CONFIGURATION' || error.code === 'CORRUPT_DATA')) {
      return model.lipschitzUpperBound(inputShape);
    }
    throw error;
  }
}

/**
 * Evaluates a classifier with frozen (cached) kernels, as the reference's validation does: freezes the model,
 * runs it batch by batch, and restores the previous frozen state afterwards (also on error).
 *
 * - accuracy: `mean[argmax z = t]`;
 * - certified accuracy at ε: the project's one certificate rule (`certifyLogitValues` of
 *   `@lipschitz/model-format`, the rule `certify` and `certifyModel` use): correct and `M > √2·ε·L` with the
 *   margin `M = z_t − max_{i≠t} z_i` computed on the host in float64 from the float32 logits. The default
 *   L is the certificate bound of the model's exported layers (`moduleLipschitzBound`, float32 safety
 *   factor included; a module the format cannot express uses its own `lipschitzUpperBound()`), so this
 *   count equals `robustness certify`'s on the same images.
 *
 * Ownership: nothing is returned but numbers; the model's frozen state is unchanged on return.
 * Throws `INVALID_ARGUMENT` for bad options or a set that is not an image set, `SHAPE_MISMATCH` when the
 * logits are not `[batch, numClasses]`.
 *
 * Reference: `lconvnet/tasks/adversarial/eval_robustness.py: accuracy_lowerbound_lnet` (reference-bcop.md
 * §7); Tsuzuku, Sato & Sugiyama, "Lipschitz-Margin Training" (NeurIPS 2018) for the √2 factor.
 *
 * @example
 * ```ts
 * const { accuracy, certified } = await evaluate(model, testSet, { epsilons: [1.58] });
 * ```
 */
export async function evaluate(model: LipschitzModule, set: LabeledImages, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  const { batchSize = 100, limit, epsilons = [], loss, batcher = shuffledBatches } = options;
  assertLabeledImages('evaluate', 'set', set);
  assertPositiveInteger('evaluate', 'batchSize', batchSize);
  if (limit !== undefined) assertNonNegativeInteger('evaluate', 'limit', limit);
  if (!Array.isArray(epsilons)) {
    throw new LipschitzError('INVALID_ARGUMENT', 'evaluate: epsilons must be an array of radii, e.g. [1.58, 0.3].');
  }
  for (const eps of epsilons) assertPositiveNumber('evaluate', 'epsilons[i]', eps);
  if (options.lipschitz !== undefined) assertPositiveNumber('evaluate', 'lipschitz', options.lipschitz);

  let lipschitz = options.lipschitz;
  if (epsilons.length > 0 && lipschitz === undefined) {
    lipschitz = await certificateBound(model, [set.height, set.width, set.channels]);
    assertPositiveNumber('evaluate', 'model.lipschitzUpperBound()', lipschitz);
  }

  const wasFrozen = model.frozen;
  if (!wasFrozen) model.freeze();
  let count = 0;
  let correct = 0;
  let lossSum = 0;
  const certifiedCounts = epsilons.map(() => 0);
  try {
    for (const batch of batcher(set, { batchSize, shuffle: false, limit })) {
      let outputs: tf.Tensor[];
      try {
        outputs = tf.tidy(() => {
          const logits = model.apply(batch.x);
          if (logits.rank !== 2 || logits.shape[0] !== batch.size || logits.shape[1] !== set.numClasses) {
            throw new LipschitzError(
              'SHAPE_MISMATCH',
              `evaluate: the model must return logits of shape [${batch.size}, ${set.numClasses}], got [${logits.shape.join(', ')}].`,
            );
          }
          const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), batch.y), 'int32'));
          const result: tf.Tensor[] = [hits];
          if (epsilons.length > 0) result.push(tf.clone(logits), tf.clone(batch.y));
          if (loss) result.push(tf.mul(loss(logits, batch.y), batch.size));
          return result;
        });
      } finally {
        batch.x.dispose();
        batch.y.dispose();
      }
      const values = await Promise.all(outputs.map((t) => t.data()));
      tf.dispose(outputs);
      count += batch.size;
      correct += values[0][0];
      let next = 1;
      if (epsilons.length > 0) {
        // The project's one certificate rule (float64 margins from the float32 logits), as certify uses.
        const logits = values[next++];
        const labels = values[next++];
        const rule = certifyLogitValues('evaluate', logits, labels, batch.size, set.numClasses, lipschitz as number, epsilons);
        epsilons.forEach((eps, e) => {
          certifiedCounts[e] += Math.round(rule.certified[String(eps)] * batch.size);
        });
      }
      if (loss) lossSum += values[next][0];
    }
  } finally {
    if (!wasFrozen) model.unfreeze();
  }
  const result: EvaluationResult = { count, accuracy: count > 0 ? correct / count : 0 };
  if (epsilons.length > 0) {
    result.certified = Object.fromEntries(epsilons.map((eps, e) => [String(eps), count > 0 ? certifiedCounts[e] / count : 0]));
    result.lipschitzUpperBound = lipschitz;
  }
  if (loss) result.meanLoss = count > 0 ? lossSum / count : Number.NaN;
  return result;
}
