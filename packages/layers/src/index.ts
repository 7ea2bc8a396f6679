export type { LayerConfig, LayerModule } from './layer-base';
export type { ConvLayerOptions } from './conv-options';
/**
 * @deprecated The layer-authoring kit moved to `@lipschitz/layers/authoring`; these root re-exports go
 * in the next minor release.
 */
export {
  CircularConvLayer,
  HOST_BOUND_SLACK,
  LayerBase,
  StatelessLayer,
  StridedConv,
  circularConvNorm,
  orthogonalMatrix,
  orthogonalTensor,
  uniformTensor,
  validateConvOptions,
  withStride,
} from './authoring';
export { BjorckDense, type BjorckDenseOptions, bjorckDense } from './bjorck-dense';
export { type OrthogonalizerSpec, REFERENCE_ORTHOGONALIZER } from './orthogonalizer';
export {
  ORTHOGONALIZATIONS,
  type Orthogonalization,
  type OrthogonalizationOptions,
  PROJECTED_RETRACTION_STEPS,
} from './orthogonal-weight';
export { PlainDense, type PlainDenseOptions, plainDense } from './plain-dense';
export { BcopConv2d, type BcopConv2dOptions, bcopConv2d } from './bcop-conv2d';
export { RkoConv2d, type RkoConv2dOptions, rkoConv2d } from './rko-conv2d';
export { PlainConv2d, type PlainConv2dOptions, plainConv2d } from './plain-conv2d';
export { OssnConv2d, type OssnConv2dOptions, ossnConv2d } from './ossn-conv2d';
export { SvcmConv2d, type SvcmConv2dOptions, type SvcmModule, svcmConv2d } from './svcm-conv2d';
export { CayleyConv2d, type CayleyConv2dOptions, cayleyConv2d } from './cayley-conv2d';
/** @deprecated Import from `@lipschitz/linalg` (where the numerics live); this re-export goes in the next minor release. */
export { type ClipConvOptions, clipConvSingularValues } from '@lipschitz/linalg';
/** @deprecated Import from `@lipschitz/blockconv` (beside `circularConv2d`); this re-export goes in the next minor release. */
export { circularConv2dAdjoint } from '@lipschitz/blockconv';
export { MaxMin, maxMin } from './max-min';
export { GroupSort, type GroupSortOptions, groupSort } from './group-sort';
export { Relu, relu } from './relu';
export { Flatten, flatten } from './flatten';
export { InvertibleDownsample, type InvertibleDownsampleOptions, invertibleDownsample } from './invertible-downsample';
export { UpsampleNearest, type UpsampleNearestOptions, upsampleNearest } from './upsample-nearest';
export { Sequential, sequential } from './sequential';
export { CONV_TYPES, type ConvType, LIPSCHITZ_CONV_TYPES } from './conv-types';
export { type ActivationType, type ModelOptions, dcganCritic, fc3, largeConvNet, smallConvNet } from './models';
export { layerFromConfig } from './layer-from-config';
export {
  type DeserializeModelOptions,
  type LoadedModel,
  type NamedTensor,
  SAVED_MODEL_FORMAT,
  type SavableOptimizer,
  type SerializeModelOptions,
  deserializeModel,
  serializeModel,
} from './serialize-model';
export { loadModel, saveModel } from './save-model';
export { type ExportModelOptions, type LoadedExportedModel, exportModel, loadExportedModel } from './export-model';
