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
} from '@lipschitz/core';
export { DEFAULT_MODEL_SIZE_LIMITS, type ModelSizeLimits, resolveModelSizeLimits } from './limits';
export {
  type DecodedTensor,
  type LayerShape,
  type ValidateOptions,
  type ValidatedLayer,
  type ValidatedModel,
  type ValidatedNetwork,
  validateExportedLayers,
  validateExportedModel,
  walkExportedLayers,
} from './validate-model';
export { FLOAT32_SLACK_PER_LINEAR_LAYER, HOST_NORM_SLACK } from './slack-policy';
export {
  type BoundableModel,
  type LayerNormMethod,
  type LayerNormReport,
  type LayerSpectrum,
  type NetworkBound,
  type NetworkBoundOptions,
  boundValidatedNetwork,
  networkLipschitzUpperBound,
} from './network-bound';
export { type ModuleBound, moduleLipschitzBound } from './module-bound';
export { groupSortActivation, maxMinActivation } from './activations';
export { type ExportedForward, type LoadedExportedModel, exportedForward, loadExportedModel } from './load-exported-model';
export { type CertifyResult, type FloatErrorBall, type FloatErrorModel, certifyLogitValues } from './certificate-rule';
