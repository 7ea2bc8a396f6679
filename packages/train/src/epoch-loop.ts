import { LipschitzError, type LipschitzModule, assertPositiveNumber } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Batcher, LabeledImages } from './batches';
import type { EvaluationResult } from './evaluate';
import type { EpochMetrics, TrainProgressEvent } from './progress';
import type { RunSession } from './run-session';
import type { LearningRateSchedule } from './schedule';
import { type LossFunction, applyTrainStep } from './train-step';

/** A progress event without the fields the loop adds (step, totals, times). */
export type LoopEvent = Omit<TrainProgressEvent, 'stepsPerEpoch' | 'totalSteps' | 'elapsedMs' | 'step'>;

/** What {@link runEpochs} needs: the resolved options of `train()` and its clock and event sink. */
export interface EpochLoop {
  model: LipschitzModule;
  optimizer: tf.Optimizer & { learningRate: number };
  trainSet: LabeledImages;
  loss: LossFunction;
  batcher: Batcher;
  schedule: LearningRateSchedule;
  epochs: number;
  batchSize: number;
  trainLimit: number | undefined;
  trainCount: number;
  stepsPerEpoch: number;
  evaluateEvery: number;
  initialEvaluation: boolean;
  checkpointEvery: number;
  lossEvery: number;
  signal: AbortSignal | undefined;
  /** Wall-clock budget (ms of `elapsed()`): once spent, the epoch is closed after the running step (see `TrainOptions.timeBudgetMs`). */
  timeBudgetMs: number | undefined;
  /** Called once when the budget stops the run. */
  onBudgetSpent(): void;
  /** Evaluates the test set (null without one) and reports it. */
  evaluate(epoch: number, lr: number): Promise<EvaluationResult | null>;
  emit(event: LoopEvent): void;
  /** Counts a finished step and its wall time (for the ETA). */
  stepDone(ms: number): void;
  /** Wall time of the run so far, across resumes. */
  elapsed(): number;
  now(): number;
}

/** How often (ms) a loop with an abort signal lets the host's event loop run (see {@link yieldToEventLoop}). */
const SIGNAL_POLL_MS = 100;

/**
 * Lets pending macrotasks run — a `SIGINT`/`SIGTERM` handler that aborts the run, a timer, a UI event. A training
 * step on the cpu or wasm backend resolves its promises as microtasks only, so without this a Ctrl-C would be seen
 * at the next epoch end (minutes on MNIST-Large). `setImmediate` in Node (after the poll phase, where signals are
 * delivered; microseconds), `setTimeout(0)` elsewhere.
 */
function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

function diverged(epoch: number, step: number, value: number): LipschitzError {
  return new LipschitzError(
    'NUMERICAL_ERROR',
    `train: the training loss became ${value} in epoch ${epoch} (by step ${step}). Lower the learning rate or check the loss and data; the last finite checkpoint is kept.`,
  );
}

/**
 * Records an epoch: its metrics line, the best-so-far, a checkpoint (best first when improved, then
 * latest), then the metrics line in the store and an `epoch` event.
 */
async function finishEpoch(loop: EpochLoop, session: RunSession, epoch: number, lr: number, trainLoss: number | null, epochMs: number, evaluation: EvaluationResult | null) {
  const { state } = session;
  // Reproducible fields first, wall times last.
  const metrics: EpochMetrics = {
    epoch,
    step: state.step,
    lr,
    trainLoss,
    ...(evaluation ? { testAccuracy: evaluation.accuracy } : {}),
    ...(evaluation?.certified ? { certified: evaluation.certified } : {}),
    ...(evaluation?.lipschitzUpperBound !== undefined ? { lipschitzUpperBound: evaluation.lipschitzUpperBound } : {}),
    ...(evaluation?.floatErrorModel !== undefined ? { floatErrorModel: evaluation.floatErrorModel } : {}),
    epochMs,
    elapsedMs: loop.elapsed(),
  };
  const improved = evaluation != null && (state.best == null || evaluation.accuracy > state.best.testAccuracy);
  if (improved && evaluation) state.best = { epoch, testAccuracy: evaluation.accuracy };
  state.history.push(metrics);
  state.epoch = epoch;
  state.batchInEpoch = 0;
  state.epochSeed = null;
  state.epochLossSum = 0;
  state.epochElapsedMs = 0;
  const slots = improved ? (['best', 'latest'] as const) : (['latest'] as const);
  await session.save(slots, epoch, loop.elapsed());
  loop.emit({ type: 'checkpoint', epoch, lr, slots: [...slots] });
  await session.appendMetrics(metrics);
  loop.emit({ type: 'epoch', epoch, lr, metrics });
}

/**
 * The epoch loop of `train()`: the initial evaluation (epoch 0) of a new run, then every remaining epoch —
 * the epoch's learning rate, its shuffle seed from the session's RNG, one `applyTrainStep` and
 * `afterStep` per batch (skipping the batches a mid-epoch checkpoint already did), the loss summed on the
 * device and read every `lossEvery` steps, mid-epoch checkpoints every `checkpointEvery` steps or on abort,
 * the NaN checks, the evaluation and {@link finishEpoch}.
 *
 * Returns `true` when the loop stopped because `signal` was aborted. Throws `NUMERICAL_ERROR` when the loss
 * or the weights stop being finite, `INVALID_ARGUMENT` when the batcher does not honour `batchSize`/`limit`.
 *
 * Ownership: borrows everything; the tensors of each batch and step are disposed here.
 */
export async function runEpochs(loop: EpochLoop, session: RunSession): Promise<boolean> {
  const { model, optimizer, state, stepsPerEpoch } = { ...loop, state: session.state };
  if (!session.resumed) {
    const start = loop.now();
    const evaluation = loop.initialEvaluation ? await loop.evaluate(0, loop.schedule(0)) : null;
    await finishEpoch(loop, session, 0, loop.schedule(0), null, loop.now() - start, evaluation);
  }
  let lossSum: tf.Scalar | null = null;
  let aborted = false;
  let lastYield = Number.NEGATIVE_INFINITY;
  let budgetSpent = false;
  try {
    while (state.epoch < loop.epochs && !aborted && !budgetSpent) {
      const epoch = state.epoch + 1;
      const lr = loop.schedule(epoch);
      assertPositiveNumber('train', `schedule(${epoch})`, lr);
      optimizer.learningRate = lr;
      if (state.epochSeed == null) {
        state.epochSeed = session.rng.nextUint32();
        state.batchInEpoch = 0;
        state.epochLossSum = 0;
      }
      const epochStart = loop.now() - state.epochElapsedMs;
      lossSum = tf.scalar(state.epochLossSum, 'float32');
      const skip = state.batchInEpoch;
      for (const batch of loop.batcher(loop.trainSet, { batchSize: loop.batchSize, shuffle: true, seed: state.epochSeed, limit: loop.trainLimit })) {
        if (batch.index < skip) {
          batch.x.dispose();
          batch.y.dispose();
          continue;
        }
        const stepStart = loop.now();
        let cost: tf.Scalar;
        try {
          cost = applyTrainStep(model, optimizer, batch.x, batch.y, loop.loss);
        } finally {
          batch.x.dispose();
          batch.y.dispose();
        }
        const previousSum: tf.Scalar = lossSum;
        lossSum = tf.add(previousSum, cost) as tf.Scalar;
        previousSum.dispose();
        state.step++;
        state.batchInEpoch++;
        await model.afterStep?.(state.step, { batchInEpoch: state.batchInEpoch - 1, lastInEpoch: state.batchInEpoch === stepsPerEpoch });
        let lossValue: number | undefined;
        if (state.step % loop.lossEvery === 0) {
          lossValue = (await cost.data())[0];
          if (!Number.isFinite(lossValue)) {
            cost.dispose();
            throw diverged(epoch, state.step, lossValue);
          }
        }
        cost.dispose();
        loop.stepDone(loop.now() - stepStart);
        loop.emit({ type: 'step', epoch, lr, loss: lossValue });
        if (loop.signal && loop.now() - lastYield >= SIGNAL_POLL_MS) {
          await yieldToEventLoop();
          lastYield = loop.now();
        }
        const stop = loop.signal?.aborted === true;
        const lastOfEpoch = state.batchInEpoch === stepsPerEpoch;
        if (!lastOfEpoch && (stop || (loop.checkpointEvery > 0 && state.step % loop.checkpointEvery === 0))) {
          state.epochLossSum = (await lossSum.data())[0];
          if (!Number.isFinite(state.epochLossSum)) throw diverged(epoch, state.step, state.epochLossSum);
          state.epochElapsedMs = loop.now() - epochStart;
          await session.save(['latest'], epoch, loop.elapsed());
          loop.emit({ type: 'checkpoint', epoch, lr, slots: ['latest'] });
        }
        if (stop) {
          aborted = !lastOfEpoch || epoch < loop.epochs;
          if (!lastOfEpoch) break;
        }
        if (loop.timeBudgetMs !== undefined && loop.elapsed() >= loop.timeBudgetMs) {
          budgetSpent = true;
          loop.onBudgetSpent();
          break;
        }
      }
      if (aborted) break;
      if (state.batchInEpoch !== stepsPerEpoch && !budgetSpent) {
        throw new LipschitzError(
          'INVALID_ARGUMENT',
          `train: the batcher yielded ${state.batchInEpoch} batches in epoch ${epoch}, expected ${stepsPerEpoch} (${loop.trainCount} examples in batches of ${loop.batchSize}). Use a batcher that honours batchSize and limit.`,
        );
      }
      const sum = (await lossSum.data())[0];
      lossSum.dispose();
      lossSum = null;
      if (!Number.isFinite(sum)) throw diverged(epoch, state.step, sum);
      // A loss can stay finite while the weights are not (e.g. relu of NaN): check them before evaluating.
      const weightMass = tf.tidy(() => tf.addN(model.trainableVariables.map((v) => tf.sum(tf.abs(v)))));
      const mass = (await weightMass.data())[0];
      weightMass.dispose();
      if (!Number.isFinite(mass)) {
        throw new LipschitzError(
          'NUMERICAL_ERROR',
          `train: the weights became NaN or infinite in epoch ${epoch} (by step ${state.step}). Lower the learning rate; the last finite checkpoint is kept.`,
        );
      }
      const shouldEvaluate = epoch % loop.evaluateEvery === 0 || epoch === loop.epochs || budgetSpent;
      const evaluation = shouldEvaluate ? await loop.evaluate(epoch, lr) : null;
      await finishEpoch(loop, session, epoch, lr, sum / Math.max(1, state.batchInEpoch), loop.now() - epochStart, evaluation);
    }
  } finally {
    lossSum?.dispose();
  }
  return aborted;
}
