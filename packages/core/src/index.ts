export { LipschitzError, type LipschitzErrorCode } from './errors';
export {
  assertFiniteNumber,
  assertInRange,
  assertNonNegativeInteger,
  assertNotDisposed,
  assertOneOf,
  assertPositiveInteger,
  assertPositiveNumber,
  assertRank,
  assertShape,
} from './validate';
export { stopGradient } from './stop-gradient';
export { SeededRandom, type SeededRandomState } from './random';
export {
  MODEL_FORMAT,
  decodeTensor,
  encodeTensor,
  type ExportedConv2d,
  type ExportedDense,
  type ExportedFlatten,
  type ExportedGroupSort,
  type ExportedInvertibleDownsample,
  type ExportedLayer,
  type ExportedMaxMin,
  type ExportedModel,
  type ExportedPadding,
  type ExportedRelu,
  type ExportedTensor,
} from './model-format';
export type { LipschitzModule, ModuleConfig, StepContext } from './module';
export { disposeAll, sizeOf, takeData, withDisposal } from './tensors';
export { importNodeModule } from './node-module';
export { type AtomicWriteIO, type WriteFileAtomicOptions, isAtomicWriteTemporary, nodeAtomicWriteIO, writeFileAtomic } from './write-file-atomic';
export type { Batch, Batcher, BatcherOptions, ImageSet } from './image-set';
export { type AugmentFn, type BatchOptions, assertImageSet, batches, numBatches } from './batches';
