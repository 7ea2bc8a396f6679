export type { LayerConfig, LayerModule } from './layer-base';
export { type ConvLayerOptions, validateConvOptions } from './conv-options';
export { HOST_BOUND_SLACK, circularConvNorm } from './host-bound';
export { CircularConvLayer } from './circular-conv-layer';
export { LayerBase } from './layer-base';
export { StatelessLayer } from './stateless-layer';
export { StridedConv, withStride } from './strided-conv';
export { orthogonalMatrix, orthogonalTensor, uniformTensor } from './initializers';
export { BjorckDense, type BjorckDenseOptions, bjorckDense } from './bjorck-dense';
export { type OrthogonalizerSpec, REFERENCE_ORTHOGONALIZER } from './orthogonalizer';
export { PlainDense, type PlainDenseOptions, plainDense } from './plain-dense';
export { BcopConv2d, type BcopConv2dOptions, bcopConv2d } from './bcop-conv2d';
export { RkoConv2d, type RkoConv2dOptions, rkoConv2d } from './rko-conv2d';
export { PlainConv2d, type PlainConv2dOptions, plainConv2d } from './plain-conv2d';
export { OssnConv2d, type OssnConv2dOptions, ossnConv2d } from './ossn-conv2d';
export { SvcmConv2d, type SvcmConv2dOptions, type SvcmModule, svcmConv2d } from './svcm-conv2d';
export { CayleyConv2d, type CayleyConv2dOptions, cayleyConv2d } from './cayley-conv2d';
export { type ClipConvOptions, clipConvSingularValues } from './fourier';
export { circularConv2dAdjoint } from './circular-adjoint';
export { MaxMin, maxMin } from './max-min';
export { GroupSort, type GroupSortOptions, groupSort } from './group-sort';
export { Relu, relu } from './relu';
export { Flatten, flatten } from './flatten';
export { InvertibleDownsample, type InvertibleDownsampleOptions, invertibleDownsample } from './invertible-downsample';
export { UpsampleNearest, type UpsampleNearestOptions, upsampleNearest } from './upsample-nearest';
export { Sequential, sequential } from './sequential';
export { type ActivationType, type ConvType, type ModelOptions, dcganCritic, fc3, largeConvNet, smallConvNet } from './models';
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
