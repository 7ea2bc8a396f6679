export { multiMarginLoss, type MultiMarginLossOptions } from './multi-margin-loss';
export { crossEntropyLoss } from './cross-entropy-loss';
export { KR_COUNT_EPSILON, krLoss } from './kr-loss';
export { hkrLoss, type HkrLossOptions } from './hkr-loss';
export { certify, type CertifyOptions, type CertifyResult, type FloatErrorModel } from './certify';
export {
  FLOAT32_MIN_NORMAL,
  FLOAT32_OVERFLOW_GUARD,
  FLOAT32_UNIT_ROUNDOFF,
  FLOAT64_UNIT_ROUNDOFF,
  HOST_ROUNDING_SLACK,
  float32ErrorBound,
  float32Gamma,
  float32SumErrorCoefficients,
  type Float32ErrorBound,
  type Float32ErrorBoundOptions,
  type Float32ErrorReport,
} from './float-error-bound';
export { hostForward64, type HostForward64, type HostForwardResult, type HostLinearStats } from './host-forward64';
export {
  FLOAT32_SLACK_PER_LINEAR_LAYER,
  HOST_FLOAT64_SLACK,
  modelLipschitzUpperBound,
  networkLipschitzUpperBound,
  type BoundableModel,
  type LayerNormMethod,
  type LayerNormReport,
  type ModelBound,
  type NetworkBound,
} from './bounds';
export {
  certifyExportedModel,
  certifyModel,
  type CertifyExportedModelOptions,
  type CertifyModelOptions,
  type CertifyReport,
  type FloatErrorBound,
} from './certify-model';
export { ATTACK_NORM_TOLERANCE, CW_CONFIDENCE, GRADIENT_NORM_FLOOR, type AttackResult, type Predict } from './attack-core';
export { pgdAttack, type PgdAttackOptions } from './pgd-attack';
export { fgsmAttack, type FgsmAttackOptions } from './fgsm-attack';
export {
  empiricalLipschitzLowerBound,
  type EmpiricalLipschitzOptions,
  type EmpiricalLipschitzResult,
} from './empirical-lipschitz';
export { boundaryAttack, type BoundaryAttackOptions } from './boundary-attack';
export { pointwiseAttack, type PointwiseAttackOptions } from './pointwise-attack';
export type { DecisionAttackCommonOptions } from './decision-attack-core';
export type { DecisionAttackResult } from './decision-attack-core';
