export { BJORCK_DEFAULTS, bjorck, type BjorckOptions, type BjorckScaling } from './bjorck';
export { bjorckGram, type BjorckGramOptions } from './bjorck-gram';
export {
  polarExpress,
  polarExpressIterations,
  polarExpressSchedule,
  type PolarExpressOptions,
  type PolarIterationForm,
} from './polar-express';
export { complexCayley } from './complex-cayley';
export { cayley, cayleyRectangular } from './cayley';
export { orthogonalityError } from './orthogonality-error';
export {
  FAST_POLAR,
  ORTHOGONALIZER_PRESETS,
  REFERENCE_BJORCK,
  REFERENCE_BJORCK_GRAM,
  REPROJECTED_BJORCK,
  orthogonalize,
  type OrthogonalizerSpec,
} from './orthogonalize';
export { SCALED_POLAR_LOWER_BOUND, scaledPolar, type ScaledPolarOptions } from './scaled-polar';
export {
  newtonSchulzRetraction,
  newtonSchulzStepsFor,
  stiefelRescale,
  type NewtonSchulzRetraction,
  type NewtonSchulzRetractionOptions,
} from './newton-schulz-retraction';
