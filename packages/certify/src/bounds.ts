import type { LipschitzModule } from '@lipschitz/core';
import { HOST_NORM_SLACK, type ModuleBound, moduleLipschitzBound } from '@lipschitz/model-format';

export {
  FLOAT32_SLACK_PER_LINEAR_LAYER,
  networkLipschitzUpperBound,
  type BoundableModel,
  type LayerNormMethod,
  type LayerNormReport,
  type NetworkBound,
} from '@lipschitz/model-format';

/**
 * @deprecated The host-rounding slack is now {@link HOST_NORM_SLACK} of `@lipschitz/model-format`
 * (1e-12 per norm, one policy for the whole project); this alias equals it and is removed in the next
 * minor release.
 */
export const HOST_FLOAT64_SLACK = HOST_NORM_SLACK;

/** @deprecated Use `ModuleBound` of `@lipschitz/model-format`. */
export type ModelBound = ModuleBound;

/**
 * @deprecated Use `moduleLipschitzBound` of `@lipschitz/model-format` (the same function). The
 * module's own `lipschitzUpperBound` is no longer consulted: a module's bound is the bound of its
 * exported layers. Removed in the next minor release.
 * @example
 * ```ts
 * const { lipschitzUpperBound } = await modelLipschitzUpperBound(model, [28, 28, 1]);
 * ```
 */
export function modelLipschitzUpperBound(model: LipschitzModule, inputShape: readonly number[]): Promise<ModuleBound> {
  return moduleLipschitzBound(model, inputShape);
}
