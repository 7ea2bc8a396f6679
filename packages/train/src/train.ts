import {
  LipschitzError,
  type LipschitzModule,
  assertNonNegativeInteger,
  assertPositiveInteger,
  assertPositiveNumber,
  batches,
} from '@lipschitz/core';
import { type Batcher, type LabeledImages, assertLabeledImages } from './batches';
import { restoreCheckpoint } from './checkpoint';
import type { FloatErrorModel } from '@lipschitz/model-format';
import { type LoopEvent, runEpochs } from './epoch-loop';
import { evaluate } from './evaluate';
import { type OptimizerSpec, createOptimizer, resolveOptimizerSpec } from './optimizer';
import type { EpochMetrics, TrainProgressEvent } from './progress';
import { type RunStore, memoryRunStore } from './run-store';
import { openRunSession } from './run-session';
import { type LearningRateSchedule, exponentialSchedule } from './schedule';
import type { LossFunction } from './train-step';

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
  /**
   * Report certified accuracy at these ℓ2 radii, counted as `robustness certify` counts them (see
   * `evaluate`): the same number `certify` gives on the same checkpoint and images.
   */
  epsilons?: readonly number[];
  /**
   * The certificate rule of the evaluations (`evaluate`'s option): `'rigorous'` (default, float-sound, the
   * rule of `certify`; the model must export its layers) or `'assume-relative-1e-5'` (the old rule, resting
   * on an assumption). Recorded in `config.json` and on every `metrics.jsonl` line with radii.
   */
  floatErrorModel?: FloatErrorModel;
  /** Also write the latest checkpoint every N steps inside an epoch (default 0: at epoch ends only). */
  checkpointEvery?: number;
  /** Read the loss back every N steps for progress events and the NaN check (default 10). */
  lossEvery?: number;
  /** Load the best checkpoint's weights into `model` at the end (default true). */
  restoreBest?: boolean;
  /**
   * Source of the training batches (default `batches` of `@lipschitz/core`); must be deterministic in its seed. Pass
   * `batches` of `@lipschitz/datasets` to augment, e.g. `(set, o) => batches(set, { ...o, augment: 'cifar' })`.
   * Only training uses it: the test set is always evaluated in order, unaugmented.
   */
  batcher?: Batcher;
  onProgress?: (event: TrainProgressEvent) => void;
  /** Stops after the current step, writing the latest checkpoint first; `train` then returns `aborted`. */
  signal?: AbortSignal;
  /**
   * Wall-clock budget in ms (the run's total elapsed time, evaluations included): once spent, the step
   * that is running finishes, the (possibly partial) epoch is closed, evaluated and saved as usual, and
   * `train` returns `finished` (with `stoppedBy: 'time-budget'` in the summary). Default: none.
   */
  timeBudgetMs?: number;
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
  if (options.timeBudgetMs !== undefined) assertPositiveNumber(fn, 'timeBudgetMs', options.timeBudgetMs);
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
  if (options.floatErrorModel !== undefined && options.floatErrorModel !== 'rigorous' && options.floatErrorModel !== 'assume-relative-1e-5') {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `train: floatErrorModel must be 'rigorous' (default) or 'assume-relative-1e-5', got ${JSON.stringify(options.floatErrorModel)}.`,
    );
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
 * Structure: `openRunSession` (run-session.ts) decides new / resume / overwrite and performs every write of
 * the run; `runEpochs` (epoch-loop.ts) runs the epochs; this function resolves the options and the result.
 *
 * Ownership: the model is borrowed and trained in place (it ends with the best weights when `restoreBest`);
 * the optimizer is created and disposed inside. The number of live tensors stays flat over the run.
 *
 * Throws `INVALID_ARGUMENT` for bad options or a resume with different settings, `ALREADY_EXISTS` when the
 * store holds a run and neither `resume` nor `overwrite` was given (or the run already finished),
 * `NUMERICAL_ERROR` when the loss or a weight becomes NaN/infinite (the last good checkpoint is kept),
 * `IO_ERROR` when a file of the run cannot be written (that file stays exactly as it was; the message says which
 * checkpoint survives and whether to resume or start again).
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
    floatErrorModel = 'rigorous',
    checkpointEvery = 0,
    lossEvery = 10,
    restoreBest = true,
    batcher = batches,
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
    floatErrorModel,
    checkpointEvery,
    ...options.config,
  };

  const optimizer = createOptimizer(optimizerSpec);
  try {
    const session = await openRunSession({
      store,
      model,
      optimizer,
      config,
      request: { resume: Boolean(options.resume), overwrite: Boolean(options.overwrite), epochs },
      seed,
      runningSummary: { format: 'lipschitz-train-summary/1', status: 'running', model: model.name, epochs },
    });
    const { state } = session;
    const sessionStart = now();
    const baseElapsed = state.elapsedMs;
    let sessionSteps = 0;
    let sessionStepMs = 0;
    const elapsed = () => baseElapsed + (now() - sessionStart);
    const emit = (event: LoopEvent) => {
      if (!onProgress) return;
      const etaMs = sessionSteps > 0 ? (sessionStepMs / sessionSteps) * Math.max(0, totalSteps - state.step) : undefined;
      onProgress({ ...event, step: state.step, stepsPerEpoch, totalSteps, elapsedMs: elapsed(), etaMs });
    };

    let budgetSpent = false;
    const aborted = await runEpochs(
      {
        model,
        optimizer,
        trainSet,
        loss,
        batcher,
        schedule,
        epochs,
        batchSize,
        trainLimit,
        trainCount,
        stepsPerEpoch,
        evaluateEvery,
        initialEvaluation,
        checkpointEvery,
        lossEvery,
        signal,
        timeBudgetMs: options.timeBudgetMs,
        onBudgetSpent() {
          budgetSpent = true;
        },
        async evaluate(epoch, lr) {
          if (!testSet) return null;
          const result = await evaluate(model, testSet, { batchSize: testBatchSize, limit: testLimit, epsilons, floatErrorModel });
          emit({ type: 'evaluation', epoch, lr, metrics: result });
          return result;
        },
        emit,
        stepDone(ms) {
          sessionSteps++;
          sessionStepMs += ms;
        },
        elapsed,
        now,
      },
      session,
    );

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
      await session.writeSummary({
        format: 'lipschitz-train-summary/1',
        status: 'finished',
        model: model.name,
        epochs: state.epoch,
        steps: state.step,
        best,
        last: state.history[state.history.length - 1] ?? null,
        elapsedMs: elapsed(),
        ...(budgetSpent ? { stoppedBy: 'time-budget' } : {}),
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
    optimizer.dispose();
  }
}
