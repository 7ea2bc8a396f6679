import {
  LipschitzError,
  type LipschitzModule,
  SeededRandom,
  type SeededRandomState,
  assertNonNegativeInteger,
  assertPositiveInteger,
  assertPositiveNumber,
} from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { type Batcher, type LabeledImages, assertLabeledImages, shuffledBatches } from './batches';
import { type Checkpoint, captureCheckpoint, restoreCheckpoint } from './checkpoint';
import { type EvaluationResult, evaluate } from './evaluate';
import { type OptimizerSpec, createOptimizer, resolveOptimizerSpec } from './optimizer';
import type { EpochMetrics, TrainProgressEvent } from './progress';
import { type CheckpointSlot, type RunStore, memoryRunStore } from './run-store';
import { type LearningRateSchedule, exponentialSchedule } from './schedule';
import { type LossFunction, applyTrainStep } from './train-step';

/** Options of {@link train}. */
export interface TrainOptions {
  model: LipschitzModule;
  trainSet: LabeledImages;
  /** Evaluated before epoch 1 and after every `evaluateEvery` epochs; selects the best checkpoint. */
  testSet?: LabeledImages;
  loss: LossFunction;
  /** Default `{ kind: 'adam' }` (lr 1e-3, PyTorch defaults). */
  optimizer?: OptimizerSpec;
  /** Total epochs of the run (a resumed run continues up to this number). */
  epochs: number;
  /** Default 128. */
  batchSize?: number;
  /** Default 100. */
  testBatchSize?: number;
  /** Learning rate per epoch. Default: `exponentialSchedule({ initial: optimizer.learningRate })`. */
  schedule?: LearningRateSchedule;
  /** Seeds the shuffles (default 0). */
  seed?: number;
  /** Node: a run directory (see `openRunDirectory`). */
  runDir?: string;
  /** Any {@link RunStore}; default: `openRunDirectory(runDir)` or a fresh {@link memoryRunStore}. */
  store?: RunStore;
  /** Continue from the store's latest checkpoint (an empty store starts a new run). */
  resume?: boolean;
  /** Discard whatever the store holds and start over. */
  overwrite?: boolean;
  /** Train on the first N training examples only. */
  trainLimit?: number;
  /** Evaluate on the first N test examples only. */
  testLimit?: number;
  /** Evaluate every N epochs (default 1); the last epoch is always evaluated. */
  evaluateEvery?: number;
  /** Evaluate before epoch 1, as the reference does (default true). */
  initialEvaluation?: boolean;
  /** Report certified accuracy at these ℓ2 radii (uses `model.lipschitzUpperBound`). */
  epsilons?: readonly number[];
  /** Also write the latest checkpoint every N steps inside an epoch (default 0: at epoch ends only). */
  checkpointEvery?: number;
  /** Read the loss back every N steps for progress events and the NaN check (default 10). */
  lossEvery?: number;
  /** Load the best checkpoint's weights into `model` at the end (default true). */
  restoreBest?: boolean;
  /** Batch source (default {@link shuffledBatches}); must be deterministic in its seed. */
  batcher?: Batcher;
  onProgress?: (event: TrainProgressEvent) => void;
  /** Stops after the current step, writing the latest checkpoint first; `train` then returns `aborted`. */
  signal?: AbortSignal;
  /** Extra fields for `config.json`. */
  config?: Record<string, unknown>;
}

/** What {@link train} returns. */
export interface TrainResult {
  status: 'finished' | 'aborted';
  /** Epochs completed. */
  epochs: number;
  steps: number;
  /** One entry per completed epoch (and epoch 0 for the initial validation), as in `metrics.jsonl`. */
  history: EpochMetrics[];
  /** The evaluated epoch with the highest test accuracy, or `null` without a test set. */
  best: EpochMetrics | null;
  /** True when the model now holds the best checkpoint's weights (`restoreBest`). */
  restoredBest: boolean;
  elapsedMs: number;
}

/** The loop state saved in every checkpoint: enough to continue exactly. */
interface LoopState extends Record<string, unknown> {
  /** Completed epochs. */
  epoch: number;
  /** Batches already done in epoch `epoch + 1`. */
  batchInEpoch: number;
  step: number;
  /** Shuffle seed of epoch `epoch + 1` when it is under way. */
  epochSeed: number | null;
  rngState: SeededRandomState;
  /** float32 sum of the losses of the batches done in the current epoch. */
  epochLossSum: number;
  elapsedMs: number;
  epochElapsedMs: number;
  best: { epoch: number; testAccuracy: number } | null;
  history: EpochMetrics[];
}

/** The settings a resumed run must share with the original for the continuation to be exact. */
const RESUME_KEYS = ['model', 'optimizer', 'batchSize', 'seed', 'trainLimit', 'trainCount'] as const;

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

function validate(options: TrainOptions): void {
  const fn = 'train';
  if (options == null || typeof options !== 'object') {
    throw new LipschitzError('INVALID_ARGUMENT', 'train: pass an options object { model, trainSet, loss, epochs, ... }.');
  }
  const { model, loss } = options;
  if (model == null || typeof model.apply !== 'function' || !Array.isArray(model.trainableVariables)) {
    throw new LipschitzError('INVALID_ARGUMENT', 'train: model must be a LipschitzModule (apply, trainableVariables, freeze, ...).');
  }
  if (typeof loss !== 'function') {
    throw new LipschitzError('INVALID_ARGUMENT', 'train: loss must be a function (logits, labels) => tf.Scalar.');
  }
  assertLabeledImages(fn, 'trainSet', options.trainSet);
  if (options.testSet !== undefined) assertLabeledImages(fn, 'testSet', options.testSet);
  assertPositiveInteger(fn, 'epochs', options.epochs);
  for (const key of ['batchSize', 'testBatchSize', 'evaluateEvery', 'lossEvery'] as const) {
    if (options[key] !== undefined) assertPositiveInteger(fn, key, options[key]);
  }
  for (const key of ['trainLimit', 'testLimit', 'checkpointEvery'] as const) {
    if (options[key] !== undefined) assertNonNegativeInteger(fn, key, options[key]);
  }
  if (options.trainLimit === 0) {
    throw new LipschitzError('INVALID_ARGUMENT', 'train: trainLimit must be a positive integer, got 0. Omit it to use the whole set.');
  }
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new LipschitzError('INVALID_ARGUMENT', `train: seed must be an integer, got ${options.seed}.`);
  }
  if (options.schedule !== undefined && typeof options.schedule !== 'function') {
    throw new LipschitzError('INVALID_ARGUMENT', 'train: schedule must be a function epoch => learning rate (e.g. exponentialSchedule()).');
  }
  if (options.epsilons !== undefined) {
    if (!Array.isArray(options.epsilons)) {
      throw new LipschitzError('INVALID_ARGUMENT', 'train: epsilons must be an array of radii, e.g. [1.58].');
    }
    for (const eps of options.epsilons) assertPositiveNumber(fn, 'epsilons[i]', eps);
  }
  if (options.resume && options.overwrite) {
    throw new LipschitzError('INVALID_ARGUMENT', 'train: resume and overwrite exclude each other. Pass one of them.');
  }
  if (options.runDir !== undefined && options.store !== undefined) {
    throw new LipschitzError('INVALID_ARGUMENT', 'train: pass either runDir or store, not both.');
  }
}

/**
 * Trains a classifier with the reference protocol (Li et al. 2019, reference-bcop.md §8) and keeps the run
 * restartable:
 *
 * - Adam (lr 1e-3) by default; epoch `e` uses `lr = schedule(e)` (default `1e-3·0.96235062639^e`), set on the
 *   optimizer at the start of the epoch;
 * - each epoch draws a shuffle seed from a `SeededRandom(seed)` and goes through the (limited) training set in
 *   batches of `batchSize` (last partial batch kept), one `optimizer.minimize` per batch inside `tf.tidy`,
 *   then `await model.afterStep?.(step, { batchInEpoch, lastInEpoch })` (a `StepContext`);
 * - the test set is evaluated with frozen (cached) kernels before epoch 1 and after every `evaluateEvery`
 *   epochs; the checkpoint with the best test accuracy is kept beside the latest one;
 * - a checkpoint (model variables and `stateVariables`, optimizer state, epoch, step, batch within the
 *   epoch, RNG state, best so far and the metrics history) is written atomically after every epoch (and every
 *   `checkpointEvery` steps), so that `resume: true` after a crash or `kill -9` continues exactly where the
 *   last checkpoint left off: same batches, and on the same backend bit-for-bit the same weights and metrics
 *   as an uninterrupted run;
 * - the loss is summed on the device and read every `lossEvery` steps and at epoch ends (no sync per step).
 *
 * Files (with `runDir`): `config.json`, `checkpoints/`, `metrics.jsonl` (one {@link EpochMetrics} line per
 * epoch, rewritten from the checkpoint on resume), `summary.json` when finished. A finished run is never
 * overwritten unless `overwrite: true`.
 *
 * Ownership: the model is borrowed and trained in place (it ends with the best weights when `restoreBest`);
 * the optimizer is created and disposed inside. The number of live tensors stays flat over the run.
 *
 * Throws `INVALID_ARGUMENT` for bad options or a resume with different settings, `ALREADY_EXISTS` when the
 * store holds a run and neither `resume` nor `overwrite` was given (or the run already finished),
 * `NUMERICAL_ERROR` when the loss or a weight becomes NaN/infinite (the last good checkpoint is kept),
 * `IO_ERROR` when a checkpoint cannot be written (the previous one stays intact).
 *
 * @example
 * ```ts
 * const result = await train({ model, trainSet, testSet, loss: hingeLoss, epochs: 200, runDir: 'runs/a' });
 * // after a crash: the same call with resume: true
 * ```
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  validate(options);
  const {
    model,
    trainSet,
    testSet,
    loss,
    epochs,
    batchSize = 128,
    testBatchSize = 100,
    seed = 0,
    trainLimit,
    testLimit,
    evaluateEvery = 1,
    initialEvaluation = true,
    epsilons = [],
    checkpointEvery = 0,
    lossEvery = 10,
    restoreBest = true,
    batcher = shuffledBatches,
    onProgress,
    signal,
  } = options;
  const optimizerSpec = resolveOptimizerSpec(options.optimizer ?? { kind: 'adam' });
  const schedule = options.schedule ?? exponentialSchedule({ initial: optimizerSpec.learningRate });
  const trainCount = Math.min(trainSet.count, trainLimit ?? trainSet.count);
  const stepsPerEpoch = Math.ceil(trainCount / batchSize);
  const totalSteps = stepsPerEpoch * epochs;

  let store = options.store;
  if (!store) {
    if (options.runDir !== undefined) {
      const { openRunDirectory } = await import('./run-directory');
      store = await openRunDirectory(options.runDir);
    } else {
      store = memoryRunStore();
    }
  }

  const config: Record<string, unknown> = {
    format: 'lipschitz-train-run/1',
    model: model.name,
    optimizer: optimizerSpec,
    epochs,
    batchSize,
    testBatchSize,
    seed,
    trainLimit: trainLimit ?? null,
    testLimit: testLimit ?? null,
    trainCount,
    trainSet: { name: trainSet.name ?? null, count: trainSet.count, shape: [trainSet.height, trainSet.width, trainSet.channels] },
    testSet: testSet ? { name: testSet.name ?? null, count: testSet.count } : null,
    evaluateEvery,
    epsilons: [...epsilons],
    checkpointEvery,
    ...options.config,
  };

  if (options.overwrite) await store.clear();
  const summary = await store.readSummary();
  const latest = await store.loadCheckpoint('latest');
  if (summary?.status === 'finished' && !(options.resume && latest && Number((latest.manifest.meta as LoopState).epoch) < epochs)) {
    throw new LipschitzError(
      'ALREADY_EXISTS',
      `train: ${store.location} holds a finished run. Pass overwrite: true to start over, a new run directory, or resume: true with more epochs.`,
    );
  }
  if (latest && !options.resume) {
    throw new LipschitzError(
      'ALREADY_EXISTS',
      `train: ${store.location} holds a run in progress. Pass resume: true to continue it or overwrite: true to start over.`,
    );
  }

  const optimizer = createOptimizer(optimizerSpec);
  let lossSum: tf.Scalar | null = null;
  try {
    let state: LoopState;
    let rng: SeededRandom;
    const resuming = Boolean(options.resume && latest);
    if (resuming && latest) {
      const previous = await store.readConfig();
      if (previous) {
        for (const key of RESUME_KEYS) {
          if (JSON.stringify(previous[key]) !== JSON.stringify(config[key])) {
            throw new LipschitzError(
              'INVALID_ARGUMENT',
              `train: cannot resume ${store.location} with ${key} = ${JSON.stringify(config[key])}; the run used ${JSON.stringify(previous[key])}. Pass the same settings or overwrite: true.`,
            );
          }
        }
      }
      await restoreCheckpoint(model, optimizer, latest);
      state = structuredClone(latest.manifest.meta as LoopState);
      rng = SeededRandom.fromState(state.rngState);
      await store.writeMetrics(state.history as unknown as Record<string, unknown>[]);
    } else {
      rng = new SeededRandom(seed);
      await store.writeMetrics([]);
      state = {
        epoch: 0,
        batchInEpoch: 0,
        step: 0,
        epochSeed: null,
        rngState: rng.state(),
        epochLossSum: 0,
        elapsedMs: 0,
        epochElapsedMs: 0,
        best: null,
        history: [],
      };
    }
    await store.writeConfig(config);
    // Until the run finishes, the summary says so (a finished run that is being extended included).
    await store.writeSummary({ format: 'lipschitz-train-summary/1', status: 'running', model: model.name, epochs });

    const sessionStart = now();
    const baseElapsed = state.elapsedMs;
    let sessionSteps = 0;
    let sessionStepMs = 0;
    const elapsed = () => baseElapsed + (now() - sessionStart);
    const emit = (event: Omit<TrainProgressEvent, 'stepsPerEpoch' | 'totalSteps' | 'elapsedMs' | 'step'>) => {
      if (!onProgress) return;
      const etaMs = sessionSteps > 0 ? (sessionStepMs / sessionSteps) * Math.max(0, totalSteps - state.step) : undefined;
      onProgress({ ...event, step: state.step, stepsPerEpoch, totalSteps, elapsedMs: elapsed(), etaMs });
    };

    const runEvaluation = async (epoch: number, lr: number): Promise<EvaluationResult | null> => {
      if (!testSet) return null;
      const result = await evaluate(model, testSet, { batchSize: testBatchSize, limit: testLimit, epsilons, batcher });
      emit({ type: 'evaluation', epoch, lr, metrics: result });
      return result;
    };

    const save = async (slots: CheckpointSlot[], epoch: number, lr: number) => {
      state.rngState = rng.state();
      state.elapsedMs = elapsed();
      const checkpoint: Checkpoint = await captureCheckpoint(model, optimizer, state);
      // Best first: a crash between the two writes then leaves a latest whose `best` matches the best file.
      for (const slot of slots) await store.saveCheckpoint(slot, checkpoint);
      emit({ type: 'checkpoint', epoch, lr, slots });
    };

    const finishEpoch = async (epoch: number, lr: number, trainLoss: number | null, epochMs: number, evaluation: EvaluationResult | null) => {
      // Reproducible fields first, wall times last.
      const metrics: EpochMetrics = {
        epoch,
        step: state.step,
        lr,
        trainLoss,
        ...(evaluation ? { testAccuracy: evaluation.accuracy } : {}),
        ...(evaluation?.certified ? { certified: evaluation.certified } : {}),
        ...(evaluation?.lipschitzUpperBound !== undefined ? { lipschitzUpperBound: evaluation.lipschitzUpperBound } : {}),
        epochMs,
        elapsedMs: elapsed(),
      };
      const improved = evaluation != null && (state.best == null || evaluation.accuracy > state.best.testAccuracy);
      if (improved && evaluation) state.best = { epoch, testAccuracy: evaluation.accuracy };
      state.history.push(metrics);
      state.epoch = epoch;
      state.batchInEpoch = 0;
      state.epochSeed = null;
      state.epochLossSum = 0;
      state.epochElapsedMs = 0;
      await save(improved ? ['best', 'latest'] : ['latest'], epoch, lr);
      await store.appendMetrics(metrics as unknown as Record<string, unknown>);
      emit({ type: 'epoch', epoch, lr, metrics });
    };

    if (!resuming) {
      const start = now();
      const evaluation = initialEvaluation ? await runEvaluation(0, schedule(0)) : null;
      await finishEpoch(0, schedule(0), null, now() - start, evaluation);
    }

    let aborted = false;
    while (state.epoch < epochs && !aborted) {
      const epoch = state.epoch + 1;
      const lr = schedule(epoch);
      assertPositiveNumber('train', `schedule(${epoch})`, lr);
      optimizer.learningRate = lr;
      if (state.epochSeed == null) {
        state.epochSeed = rng.nextUint32();
        state.batchInEpoch = 0;
        state.epochLossSum = 0;
      }
      const epochStart = now() - state.epochElapsedMs;
      lossSum = tf.scalar(state.epochLossSum, 'float32');
      const skip = state.batchInEpoch;
      for (const batch of batcher(trainSet, { batchSize, shuffle: true, seed: state.epochSeed, limit: trainLimit })) {
        if (batch.index < skip) {
          batch.x.dispose();
          batch.y.dispose();
          continue;
        }
        const stepStart = now();
        let cost: tf.Scalar;
        try {
          cost = applyTrainStep(model, optimizer, batch.x, batch.y, loss);
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
        if (state.step % lossEvery === 0) {
          lossValue = (await cost.data())[0];
          if (!Number.isFinite(lossValue)) {
            cost.dispose();
            throw diverged(epoch, state.step, lossValue);
          }
        }
        cost.dispose();
        sessionSteps++;
        sessionStepMs += now() - stepStart;
        emit({ type: 'step', epoch, lr, loss: lossValue });
        const stop = signal?.aborted === true;
        const lastOfEpoch = state.batchInEpoch === stepsPerEpoch;
        if (!lastOfEpoch && (stop || (checkpointEvery > 0 && state.step % checkpointEvery === 0))) {
          state.epochLossSum = (await lossSum.data())[0];
          if (!Number.isFinite(state.epochLossSum)) throw diverged(epoch, state.step, state.epochLossSum);
          state.epochElapsedMs = now() - epochStart;
          await save(['latest'], epoch, lr);
        }
        if (stop) {
          aborted = !lastOfEpoch || epoch < epochs;
          if (!lastOfEpoch) break;
        }
      }
      if (aborted) break;
      if (state.batchInEpoch !== stepsPerEpoch) {
        throw new LipschitzError(
          'INVALID_ARGUMENT',
          `train: the batcher yielded ${state.batchInEpoch} batches in epoch ${epoch}, expected ${stepsPerEpoch} (${trainCount} examples in batches of ${batchSize}). Use a batcher that honours batchSize and limit.`,
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
      const shouldEvaluate = epoch % evaluateEvery === 0 || epoch === epochs;
      const evaluation = shouldEvaluate ? await runEvaluation(epoch, lr) : null;
      await finishEpoch(epoch, lr, sum / stepsPerEpoch, now() - epochStart, evaluation);
    }

    const best = state.best ? (state.history.find((m) => m.epoch === state.best?.epoch) ?? null) : null;
    let restoredBest = false;
    if (!aborted) {
      if (restoreBest && state.best && state.best.epoch !== state.epoch) {
        const bestCheckpoint = await store.loadCheckpoint('best');
        if (bestCheckpoint) {
          await restoreCheckpoint(model, null, bestCheckpoint);
          restoredBest = true;
        }
      } else if (restoreBest && state.best) {
        restoredBest = true;
      }
      await store.writeSummary({
        format: 'lipschitz-train-summary/1',
        status: 'finished',
        model: model.name,
        epochs: state.epoch,
        steps: state.step,
        best,
        last: state.history[state.history.length - 1] ?? null,
        elapsedMs: elapsed(),
      });
    }
    const result: TrainResult = {
      status: aborted ? 'aborted' : 'finished',
      epochs: state.epoch,
      steps: state.step,
      history: state.history,
      best,
      restoredBest,
      elapsedMs: elapsed(),
    };
    emit({ type: 'done', epoch: state.epoch, lr: schedule(Math.max(state.epoch, 0)), metrics: state.history[state.history.length - 1] });
    return result;
  } finally {
    lossSum?.dispose();
    optimizer.dispose();
  }
}

function diverged(epoch: number, step: number, value: number): LipschitzError {
  return new LipschitzError(
    'NUMERICAL_ERROR',
    `train: the training loss became ${value} in epoch ${epoch} (by step ${step}). Lower the learning rate or check the loss and data; the last finite checkpoint is kept.`,
  );
}
