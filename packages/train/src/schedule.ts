import { assertFiniteNumber, assertInRange, assertNonNegativeInteger, assertPositiveInteger, assertPositiveNumber } from '@lipschitz/core';

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

/** Options of {@link compressedExponentialSchedule}. */
export interface CompressedExponentialScheduleOptions {
  /** The epochs the run will actually train (N ≥ 1). */
  epochs: number;
  /** The length of the schedule being compressed (default 200, the paper's). */
  referenceEpochs?: number;
  /** Base rate `lr₀` (default 1e-3). */
  initial?: number;
  /** The reference's decay per epoch (default {@link REFERENCE_LR_GAMMA}). */
  gamma?: number;
}

/**
 * The reference schedule compressed in time: the same start and end learning rate as `referenceEpochs` epochs of
 * {@link exponentialSchedule}, spread over `epochs` epochs — `lr(e) = lr₀ · γ^(e·R/N)` with R = `referenceEpochs`,
 * N = `epochs`; epoch N uses the reference's last rate `lr₀·γ^R` (≈ 4.6e-7 for the paper's 200 epochs), and epochs
 * after N keep decaying at the same rate. With N = R it is exactly {@link exponentialSchedule}.
 *
 * This is a **protocol change** (the paper trains 200 epochs): report it next to every number it produced.
 *
 * Throws `INVALID_ARGUMENT` for a non-integer or non-positive `epochs`/`referenceEpochs`, a non-positive
 * `initial`, or a `gamma` outside (0, 1].
 *
 * @example
 * ```ts
 * const lr = compressedExponentialSchedule({ epochs: 20 }); // the paper's 200-epoch decay in 20 epochs
 * lr(20); // 1e-3 · 0.96235^200 ≈ 4.6e-7
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §8) for the schedule it compresses.
 */
export function compressedExponentialSchedule({ epochs, referenceEpochs = 200, initial = 1e-3, gamma = REFERENCE_LR_GAMMA }: CompressedExponentialScheduleOptions): LearningRateSchedule {
  const fn = 'compressedExponentialSchedule';
  assertPositiveInteger(fn, 'epochs', epochs);
  assertPositiveInteger(fn, 'referenceEpochs', referenceEpochs);
  assertPositiveNumber(fn, 'initial', initial);
  assertInRange(fn, 'gamma', gamma, 0, 1, { minExclusive: true });
  const perEpoch = gamma ** (referenceEpochs / epochs);
  return (epoch: number) => {
    assertNonNegativeInteger(fn, 'epoch', epoch);
    return initial * perEpoch ** epoch;
  };
}

/** Options of {@link cosineSchedule}. */
export interface CosineScheduleOptions {
  /** The epochs the cosine spans (N ≥ 1): epoch N uses `final`, later epochs keep it. */
  epochs: number;
  /** Base rate `lr₀` (default 1e-3). */
  initial?: number;
  /**
   * The rate reached at epoch N (default `initial · γ^200`, the last rate of the paper's 200-epoch decay, ≈ 4.6e-7
   * for the default `initial`): the same start and end rate as the reference schedule.
   */
  final?: number;
}

/**
 * Cosine annealing from `initial` to `final` over `epochs` epochs, PyTorch's `CosineAnnealingLR` stepped with the
 * epoch index: `lr(e) = final + (initial − final) · (1 + cos(π·e/N)) / 2` for `0 ≤ e ≤ N`, and `final` after N (no
 * warm restart). It keeps the rate near `initial` for much longer than the exponential decay compressed into the same
 * N epochs ({@link compressedExponentialSchedule}): at N = 100 it stays above 1e-4 through epoch 79, where the compressed decay
 * reaches 1e-4 at epoch 30 and 1e-5 at epoch 60.
 *
 * This is a **protocol change** (the paper uses the exponential decay over 200 epochs): report it next to every
 * number it produced.
 *
 * Throws `INVALID_ARGUMENT` for a non-integer or non-positive `epochs`, a non-positive `initial`, a `final` that is
 * negative or above `initial`, or (when called) an epoch that is not a non-negative integer.
 *
 * Reference: Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017, eq. (5)
 * (one cycle, no restart).
 *
 * @example
 * ```ts
 * const lr = cosineSchedule({ epochs: 100 });
 * lr(50); // ≈ 5.0e-4: halfway, the mean of the start and end rates
 * lr(100); // 1e-3 · 0.96235^200 ≈ 4.6e-7
 * ```
 */
export function cosineSchedule({ epochs, initial = 1e-3, final }: CosineScheduleOptions): LearningRateSchedule {
  const fn = 'cosineSchedule';
  assertPositiveInteger(fn, 'epochs', epochs);
  assertPositiveNumber(fn, 'initial', initial);
  const end = final ?? initial * REFERENCE_LR_GAMMA ** 200;
  assertInRange(fn, 'final', end, 0, initial);
  return (epoch: number) => {
    assertNonNegativeInteger(fn, 'epoch', epoch);
    if (epoch >= epochs) return end;
    return end + ((initial - end) * (1 + Math.cos((Math.PI * epoch) / epochs))) / 2;
  };
}
