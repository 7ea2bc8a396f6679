import { LipschitzError, type LipschitzModule, assertNonNegativeInteger, assertPositiveInteger, assertPositiveNumber, batches } from '@lipschitz/core';
import { type CertifyReport, certifyModel } from '@lipschitz/certify';
import { type FloatErrorModel, certifyLogitValues, moduleLipschitzBound } from '@lipschitz/model-format';
import * as tf from '@tensorflow/tfjs-core';
import { type Batcher, type LabeledImages, assertLabeledImages } from './batches';
import type { LossFunction } from './train-step';

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Default 100 (the reference's test batch). */
  batchSize?: number;
  /** Evaluate only the first `limit` examples. */
  limit?: number;
  /** ℓ2 radii at which to report certified accuracy. */
  epsilons?: readonly number[];
  /**
   * How the certificates account for the float32 evaluation — the option of `certifyModel` of
   * `@lipschitz/certify`, with its default:
   * - `'rigorous'` (default): the float-sound certificate of `robustness certify` (see {@link evaluate});
   *   the model must export its layers (`exportLayers`).
   * - `'assume-relative-1e-5'`: the old rule, resting on an assumption (float32 evaluation behaves like a
   *   relative weight error ≤ 1e-5 per layer): `M > √2·ε·L` on the logits of `model.apply`.
   */
  floatErrorModel?: FloatErrorModel;
  /**
   * Only with `floatErrorModel: 'assume-relative-1e-5'`: a sound upper bound `L` on the model's ℓ2
   * Lipschitz constant. Default: the certificate bound `moduleLipschitzBound(model, [height, width,
   * channels]).lipschitzUpperBound` of `@lipschitz/model-format` (float32 safety factor included; the
   * model's own `lipschitzUpperBound()` when its layers cannot be exported). The default rule computes
   * its own L (the exact network's bound) and refuses this option.
   */
  lipschitz?: number;
  /** Also report the mean of this loss over the set. */
  loss?: LossFunction;
  /** Batch source (default `batches` of `@lipschitz/core` without shuffling). */
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
  /**
   * The bound `L` used for certification: under `'rigorous'` the exact network's (`lipschitzUpperBound`,
   * what `certify` reports and `exportModel` writes), under the old rule the one with the float32 slack.
   */
  lipschitzUpperBound?: number;
  /** The certificate rule `certified` was counted with; present when `epsilons` were given. */
  floatErrorModel?: FloatErrorModel;
  /** Mean loss (example-weighted over batches) when `loss` was given. */
  meanLoss?: number;
}

/**
 * The L of the old rule for `model`: the certificate bound of its exported layers (`moduleLipschitzBound`
 * of `@lipschitz/model-format`, float32 safety factor included); for a module whose layers the format
 * cannot express (or whose `exportLayers` does not describe it), its own `lipschitzUpperBound`.
 */
async function assumedBound(model: LipschitzModule, inputShape: number[]): Promise<number> {
  try {
    return (await moduleLipschitzBound(model, inputShape)).assumedFloat32Bound;
  } catch (error) {
    if (LipschitzError.isInstance(error) && (error.code === 'UNSUPPORTED_CONFIGURATION' || error.code === 'CORRUPT_DATA')) {
      return model.lipschitzUpperBound(inputShape);
    }
    throw error;
  }
}

function checkFloatErrorModel(value: unknown): FloatErrorModel {
  if (value === undefined || value === 'rigorous') return 'rigorous';
  if (value === 'assume-relative-1e-5') return value;
  throw new LipschitzError('INVALID_ARGUMENT', `evaluate: floatErrorModel must be 'rigorous' (default) or 'assume-relative-1e-5', got ${JSON.stringify(value)}.`);
}

/** The (limited) set as one batch `[n, h, w, c]` and its int32 labels, drawn from `batcher` in order. */
function gather(set: LabeledImages, batcher: Batcher, batchSize: number, limit: number | undefined): { x: tf.Tensor; y: tf.Tensor } {
  const xs: tf.Tensor[] = [];
  const ys: tf.Tensor[] = [];
  try {
    for (const batch of batcher(set, { batchSize, shuffle: false, limit })) {
      xs.push(batch.x);
      ys.push(batch.y);
    }
    if (xs.length === 0) {
      return { x: tf.tensor4d(new Float32Array(0), [0, set.height, set.width, set.channels]), y: tf.tensor1d(new Int32Array(0), 'int32') };
    }
    return tf.tidy(() => ({ x: tf.concat(xs), y: tf.cast(tf.concat(ys), 'int32') }));
  } finally {
    tf.dispose(xs);
    tf.dispose(ys);
  }
}

/** Mean of `loss` over `logits` (`[n, c]` row-major) taken batch by batch as the model's forward would be (one read). */
async function meanLossOf(loss: LossFunction, logits: Float32Array, y: tf.Tensor, n: number, c: number, batchSize: number): Promise<number> {
  if (n === 0) return Number.NaN;
  const sums = tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    for (let offset = 0; offset < n; offset += batchSize) {
      const size = Math.min(batchSize, n - offset);
      const z = tf.tensor2d(logits.subarray(offset * c, (offset + size) * c), [size, c]);
      parts.push(tf.mul(loss(z, tf.slice(y, offset, size)), size));
    }
    return tf.stack(parts);
  });
  const values = await sums.data();
  sums.dispose();
  let total = 0;
  for (const v of values) total += v;
  return total / n;
}

/**
 * The default (`'rigorous'`) evaluation with radii: the whole (limited) set through `certifyModel` of
 * `@lipschitz/certify` — the function `robustness certify --run` calls — so accuracy, certified counts and
 * L are those of `certify` on the same images, and the loss is taken on the same logits.
 */
async function evaluateFloatSound(
  model: LipschitzModule,
  set: LabeledImages,
  options: { batchSize: number; limit?: number; epsilons: readonly number[]; loss?: LossFunction; batcher: Batcher },
): Promise<EvaluationResult> {
  const { batchSize, limit, epsilons, loss, batcher } = options;
  const inputShape = [set.height, set.width, set.channels];
  const outputShape = model.outputShape(inputShape);
  const count = Math.min(set.count, limit ?? set.count);
  if (outputShape.length !== 1 || outputShape[0] !== set.numClasses) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `evaluate: the model must return logits of shape [${count}, ${set.numClasses}], got [${count}, ${outputShape.join(', ')}].`,
    );
  }
  const { x, y } = gather(set, batcher, batchSize, limit);
  try {
    let report: CertifyReport;
    try {
      report = await certifyModel(model, x, y, { epsilons, inputShape, batchSize });
    } catch (error) {
      if (LipschitzError.isInstance(error) && (error.code === 'UNSUPPORTED_CONFIGURATION' || error.code === 'CORRUPT_DATA')) {
        throw new LipschitzError(
          error.code,
          `evaluate: ${error.message} The float-sound certificate (floatErrorModel: 'rigorous', the default) certifies the model's exported layers; pass floatErrorModel: 'assume-relative-1e-5' to certify with its own lipschitzUpperBound() under the old assumption.`,
          { cause: error },
        );
      }
      throw error;
    }
    const result: EvaluationResult = {
      count: report.count,
      accuracy: report.clean,
      certified: Object.fromEntries(epsilons.map((eps) => [String(eps), report.certified[String(eps)]])),
      lipschitzUpperBound: report.lipschitzUpperBound,
      floatErrorModel: report.floatErrorModel,
    };
    if (loss) result.meanLoss = await meanLossOf(loss, report.logits, y, report.count, set.numClasses, batchSize);
    return result;
  } finally {
    tf.dispose([x, y]);
  }
}

/**
 * Evaluates a classifier with frozen (cached) kernels, as the reference's validation does: freezes the model,
 * runs it batch by batch, and restores the previous frozen state afterwards (also on error).
 *
 * - accuracy: `mean[argmax z = t]`;
 * - certified accuracy at ε — one definition, the one `robustness certify` uses. Default
 *   (`floatErrorModel: 'rigorous'`): the set goes through `certifyModel` of `@lipschitz/certify`, the
 *   function `certify --run` calls: the logits z are the float32 forward of the model's exported layers,
 *   L is the exact network's bound (`lipschitzUpperBound`), E(ε) = a + b·ε the proven float32 error bound
 *   over the ball (`float32ErrorBound`, computed once per evaluation), and an example is certified at ε iff
 *   correct and `z_t − max_{i≠t} z_i > (√2·L·ε + √2·(E(0) + E(ε)))(1 + 1e-12)` (the rule of
 *   `certifyLogitValues` of `@lipschitz/model-format`). Accuracy, the certified counts, L and the loss then
 *   come from those logits, so `train`'s `metrics.jsonl` reports exactly what `certify` and
 *   `certifyExportedModel` report on the same checkpoint and images. Without `epsilons`, accuracy and loss
 *   come from `model.apply`. `'assume-relative-1e-5'`: the old rule on `model.apply`'s logits, correct and
 *   `M > √2·ε·L` with L the bound with the float32 safety factor (or `lipschitz`).
 *
 * Ownership: nothing is returned but numbers; the model's frozen state is unchanged on return.
 * Throws `INVALID_ARGUMENT` for bad options or a set that is not an image set, `SHAPE_MISMATCH` when the
 * logits are not `[batch, numClasses]`; under `'rigorous'`, what `certifyModel` throws, and
 * `UNSUPPORTED_CONFIGURATION`/`CORRUPT_DATA` (saying to pass the old rule) for a model whose layers the
 * format cannot express.
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
  const { batchSize = 100, limit, epsilons = [], loss, batcher = batches } = options;
  assertLabeledImages('evaluate', 'set', set);
  assertPositiveInteger('evaluate', 'batchSize', batchSize);
  if (limit !== undefined) assertNonNegativeInteger('evaluate', 'limit', limit);
  if (!Array.isArray(epsilons)) {
    throw new LipschitzError('INVALID_ARGUMENT', 'evaluate: epsilons must be an array of radii, e.g. [1.58, 0.3].');
  }
  for (const eps of epsilons) assertPositiveNumber('evaluate', 'epsilons[i]', eps);
  if (options.lipschitz !== undefined) assertPositiveNumber('evaluate', 'lipschitz', options.lipschitz);
  const floatErrorModel = checkFloatErrorModel(options.floatErrorModel);
  if (floatErrorModel === 'rigorous' && options.lipschitz !== undefined) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      "evaluate: lipschitz (a caller's L) goes with floatErrorModel: 'assume-relative-1e-5'; the default 'rigorous' certifies with the exact bound of the model's exported layers. Drop lipschitz or pass the old rule.",
    );
  }

  if (floatErrorModel === 'rigorous' && epsilons.length > 0) {
    const wasFrozen = model.frozen;
    if (!wasFrozen) model.freeze();
    try {
      return await evaluateFloatSound(model, set, { batchSize, limit, epsilons, loss, batcher });
    } finally {
      if (!wasFrozen) model.unfreeze();
    }
  }

  let lipschitz = options.lipschitz;
  if (epsilons.length > 0 && lipschitz === undefined) {
    lipschitz = await assumedBound(model, [set.height, set.width, set.channels]);
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
        // The old rule of certifyLogitValues (float64 margins from the float32 logits, L with the float32 slack).
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
    result.floatErrorModel = 'assume-relative-1e-5';
  }
  if (loss) result.meanLoss = count > 0 ? lossSum / count : Number.NaN;
  return result;
}
