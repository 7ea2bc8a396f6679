import { assertFiniteNumber, assertInRange, assertNonNegativeInteger, assertPositiveNumber } from '@lipschitz/core';

/** A learning rate per epoch: `schedule(e)` is the rate used throughout epoch `e` (1-based; 0 = before training). */
export type LearningRateSchedule = (epoch: number) => number;

/** The reference decay factor: `0.96235062639^60 ≈ 0.1`, a smooth 10× decay every 60 epochs. */
export const REFERENCE_LR_GAMMA = 0.96235062639;

/** Options of {@link exponentialSchedule}. */
export interface ExponentialScheduleOptions {
  /** Base rate `lr₀` (default 1e-3, the reference's Adam rate). */
  initial?: number;
  /** Decay per epoch, in (0, 1] (default {@link REFERENCE_LR_GAMMA}). */
  gamma?: number;
}

/**
 * PyTorch's `ExponentialLR` stepped with the epoch index, as in the reference training protocol:
 * epoch `e` uses `lr(e) = lr₀ · γ^e`, so epoch 1 already uses `lr₀·γ` (9.6235e-4 for the defaults) and
 * epoch 60 uses `1e-4` (to within 1e-9).
 *
 * Returns a plain function; `train()` applies it by setting the optimizer's `learningRate` at the start of
 * every epoch.
 *
 * Throws `INVALID_ARGUMENT` for a non-positive `initial`, a `gamma` outside (0, 1], or (when called) an epoch
 * that is not a non-negative integer.
 *
 * Reference: Li et al., "Preventing Gradient Attenuation in Lipschitz Constrained Convolutional Networks",
 * NeurIPS 2019, `runs/adv-rob-{mnist,cifar10}/template.yaml` (`lr_scheduler.step(epoch)`); reference-bcop.md §8.
 *
 * @example
 * ```ts
 * const lr = exponentialSchedule();
 * lr(1); // 9.6235062639e-4
 * lr(60); // ≈ 1e-4
 * ```
 */
export function exponentialSchedule({ initial = 1e-3, gamma = REFERENCE_LR_GAMMA }: ExponentialScheduleOptions = {}): LearningRateSchedule {
  assertPositiveNumber('exponentialSchedule', 'initial', initial);
  assertInRange('exponentialSchedule', 'gamma', gamma, 0, 1, { minExclusive: true });
  return (epoch: number) => {
    assertNonNegativeInteger('exponentialSchedule', 'epoch', epoch);
    return initial * gamma ** epoch;
  };
}

/**
 * A constant learning rate: `lr(e) = value` for every epoch.
 *
 * Throws `INVALID_ARGUMENT` unless `value` is a finite number > 0.
 *
 * @example
 * ```ts
 * train({ ..., schedule: constantSchedule(1e-4) });
 * ```
 */
export function constantSchedule(value: number): LearningRateSchedule {
  assertFiniteNumber('constantSchedule', 'value', value);
  assertPositiveNumber('constantSchedule', 'value', value);
  return () => value;
}
