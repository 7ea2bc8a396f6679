import { LipschitzError, type LipschitzModule, assertPositiveInteger } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/** A classification loss: logits `[batch, classes]` and int32 labels `[batch]` to a scalar. */
export type LossFunction = (logits: tf.Tensor, labels: tf.Tensor) => tf.Scalar;

/** Options of {@link trainStep}. */
export interface TrainStepOptions {
  /** The step number passed to `model.afterStep` (default: the optimizer's iteration count after the step). */
  step?: number;
  /** Read the loss back and return it (one device sync). Default false: no sync, returns `undefined`. */
  readLoss?: boolean;
}

/**
 * One optimizer step inside `tf.tidy`, without reading anything back. Returns the loss scalar (owned by the
 * caller) so a loop can accumulate it on the device. Internal building block of {@link trainStep} and
 * `train()`.
 */
export function applyTrainStep(
  model: LipschitzModule,
  optimizer: tf.Optimizer,
  x: tf.Tensor,
  y: tf.Tensor,
  loss: LossFunction,
): tf.Scalar {
  const variables = model.trainableVariables;
  return tf.tidy(() => {
    const cost = optimizer.minimize(() => loss(model.apply(x), y), true, variables);
    if (cost == null) {
      throw new LipschitzError('INVALID_ARGUMENT', 'trainStep: the loss returned nothing. Return a scalar tensor.');
    }
    return cost;
  });
}

/**
 * One training step: `optimizer.minimize(() => loss(model.apply(x), y), true, model.trainableVariables)`
 * inside `tf.tidy`, then `await model.afterStep?.(step)` outside the gradient tape (SVCM projection, OSSN
 * power iteration, ...).
 *
 * The loss is read back only when `readLoss` is set (it stalls GPU backends); otherwise the result is
 * `undefined`. Gradients are applied in `model.trainableVariables` order, so the optimizer's moment slots
 * line up with the model's variables in every process (what makes checkpoints portable).
 *
 * Ownership: `x` and `y` are borrowed; nothing is returned but a number.
 * Throws `INVALID_ARGUMENT` for a non-positive `step` or a loss that returns nothing, `DISPOSED` when the
 * model was disposed (from the model), and tfjs's error when the loss is not a scalar.
 *
 * Reference: the inner loop of `lconvnet/experiment/trainer.py` (reference-bcop.md §8).
 *
 * @example
 * ```ts
 * const optimizer = createOptimizer({ kind: 'adam' });
 * const value = await trainStep(model, optimizer, x, y, hingeLoss, { readLoss: true });
 * ```
 */
export async function trainStep(
  model: LipschitzModule,
  optimizer: tf.Optimizer,
  x: tf.Tensor,
  y: tf.Tensor,
  loss: LossFunction,
  { step, readLoss = false }: TrainStepOptions = {},
): Promise<number | undefined> {
  if (step !== undefined) assertPositiveInteger('trainStep', 'step', step);
  if (typeof loss !== 'function') {
    throw new LipschitzError('INVALID_ARGUMENT', 'trainStep: loss must be a function (logits, labels) => tf.Scalar.');
  }
  const cost = applyTrainStep(model, optimizer, x, y, loss);
  try {
    await model.afterStep?.(step ?? optimizer.iterations);
    return readLoss ? (await cost.data())[0] : undefined;
  } finally {
    cost.dispose();
  }
}
