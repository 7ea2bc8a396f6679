export { type Batch, type BatchOptions, type Batcher, type LabeledImages, shuffledBatches } from './batches';
export {
  CHECKPOINT_FORMAT,
  type Checkpoint,
  type CheckpointManifest,
  type CheckpointTensorEntry,
  type CheckpointTensorRole,
  captureCheckpoint,
  restoreCheckpoint,
} from './checkpoint';
export { type EvaluateOptions, type EvaluationResult, evaluate } from './evaluate';
export { type AdamSpec, OPTIMIZER_KINDS, type OptimizerSpec, type RmspropSpec, createOptimizer } from './optimizer';
export type { EpochMetrics, TrainProgressEvent, TrainProgressType } from './progress';
export { type OpenRunDirectoryOptions, RUN_DIRECTORY_FILES, type RunDirectoryIO, openRunDirectory } from './run-directory';
export { type CheckpointSlot, type MemoryRunStore, type RunStore, memoryRunStore } from './run-store';
export {
  type CompressedExponentialScheduleOptions,
  type CosineScheduleOptions,
  type ExponentialScheduleOptions,
  type LearningRateSchedule,
  REFERENCE_LR_GAMMA,
  compressedExponentialSchedule,
  constantSchedule,
  cosineSchedule,
  exponentialSchedule,
} from './schedule';
export {
  EMPTY_RUN_STATUS,
  type RunStart,
  type RunStartMessages,
  type RunStartRequest,
  type RunStatus,
  TRAIN_START_MESSAGES,
  planRunStart,
  readRunStatus,
} from './run-session';
export { type TrainOptions, type TrainResult, train } from './train';
export { type LossFunction, type TrainStepOptions, trainStep } from './train-step';
