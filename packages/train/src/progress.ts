import type { FloatErrorModel } from '@lipschitz/model-format';
import type { EvaluationResult } from './evaluate';
import type { CheckpointSlot } from './run-store';

/** One line of `metrics.jsonl`: what an epoch did. Accuracies are fractions in [0, 1]. */
export interface EpochMetrics {
  /** 1-based; 0 is the initial validation before training. */
  epoch: number;
  /** Optimizer steps taken so far. */
  step: number;
  /** Learning rate used in this epoch. */
  lr: number;
  /** Mean training loss over the epoch's batches (`null` for epoch 0). */
  trainLoss: number | null;
  /** Present when the test set was evaluated after this epoch. */
  testAccuracy?: number;
  /** Certified accuracy per ε (keyed by `String(ε)`) when `epsilons` were given. */
  certified?: Record<string, number>;
  /** The Lipschitz bound used for certification (the exact network's under `'rigorous'`, as `certify` reports it). */
  lipschitzUpperBound?: number;
  /** The certificate rule `certified` was counted with (lines written before it was recorded used the old rule). */
  floatErrorModel?: FloatErrorModel;
  /** Wall time of this epoch (training and evaluation), ms. Not reproducible across runs. */
  epochMs: number;
  /** Wall time of the run so far (across resumes), ms. Not reproducible across runs. */
  elapsedMs: number;
}

/** Kinds of {@link TrainProgressEvent}. */
export type TrainProgressType = 'step' | 'epoch' | 'evaluation' | 'checkpoint' | 'done';

/**
 * What `train()` reports to `onProgress`, for a progress bar or a web page: a `step` event after every
 * optimizer step (with `loss` every `lossEvery` steps), `evaluation` after each test-set evaluation,
 * `checkpoint` after each checkpoint write, `epoch` at the end of each epoch and `done` once.
 */
export interface TrainProgressEvent {
  type: TrainProgressType;
  /** Current epoch (1-based; 0 during the initial validation). */
  epoch: number;
  /** Optimizer steps taken so far. */
  step: number;
  stepsPerEpoch: number;
  totalSteps: number;
  /** The latest step's loss, when it was read back. */
  loss?: number;
  lr: number;
  /** Wall time of the run so far (across resumes), ms. */
  elapsedMs: number;
  /** Estimated remaining training time from this session's mean step time, ms. */
  etaMs?: number;
  /** `epoch` and `done`: the epoch's metrics; `evaluation`: the evaluation. */
  metrics?: EpochMetrics | EvaluationResult;
  /** `checkpoint`: which checkpoints were written. */
  slots?: CheckpointSlot[];
}
