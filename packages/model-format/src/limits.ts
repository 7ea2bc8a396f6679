import { LipschitzError } from '@lipschitz/core';

/**
 * Size limits that {@link validateExportedModel} checks on the declared shapes of a `lipschitz-model/1`
 * file **before** it decodes or allocates anything, so a hostile file (say input `[28000, 28000, 1]`)
 * is refused at once instead of exhausting memory in the bound or the forward pass.
 */
export interface ModelSizeLimits {
  /** Most values in one activation (one example, without the batch axis), default 2^24 = 16,777,216. */
  maxActivationElements: number;
  /** Most values in one weight tensor (kernel, weight, bias), default 2^24 = 16,777,216 (64 MiB of float32). */
  maxTensorElements: number;
  /** Most layers, default 1024. */
  maxLayers: number;
  /** Largest magnitude allowed for `input.range` bounds, default 1e6 (a wider range is refused). */
  maxInputMagnitude: number;
}

/**
 * The documented default {@link ModelSizeLimits}: 2^24 values per activation and per tensor, 1024 layers,
 * `|input.range| ≤ 1e6`. Every reader (`validateExportedModel`, `loadExportedModel`,
 * `certifyExportedModel`, `robustness certify --model`) uses it unless given `limits`.
 */
export const DEFAULT_MODEL_SIZE_LIMITS: Readonly<ModelSizeLimits> = Object.freeze({
  maxActivationElements: 2 ** 24,
  maxTensorElements: 2 ** 24,
  maxLayers: 1024,
  maxInputMagnitude: 1e6,
});

/**
 * Merges `limits` over {@link DEFAULT_MODEL_SIZE_LIMITS} and checks every value is a positive number.
 * @throws LipschitzError `INVALID_ARGUMENT` on a non-positive or non-numeric limit.
 * @example
 * ```ts
 * const limits = resolveModelSizeLimits({ maxActivationElements: 2 ** 26 });
 * ```
 */
export function resolveModelSizeLimits(limits: Partial<ModelSizeLimits> | undefined): ModelSizeLimits {
  const merged = { ...DEFAULT_MODEL_SIZE_LIMITS, ...(limits ?? {}) };
  for (const [key, value] of Object.entries(merged)) {
    if (typeof value !== 'number' || !(value > 0)) {
      throw new LipschitzError('INVALID_ARGUMENT', `resolveModelSizeLimits: ${key} must be a positive number, got ${String(value)}.`);
    }
  }
  return merged;
}
