import { LipschitzError, assertInRange, assertNonNegativeInteger, assertPositiveInteger, stopGradient } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkMatrixTensor } from '@lipschitz/linalg';
import { polarExpress, polarExpressIterations } from './polar-express';

/** Options of {@link scaledPolar}. */
export interface ScaledPolarOptions {
  /**
   * Assumed lower bound of σ_min/σ_max of each input matrix, in (0, 1). Default 0.05: one Adam step
   * (lr 1e-3) off the manifold, MNIST-Small's parameters measured ≥ 0.106 (bench/README.md).
   */
  lowerBound?: number;
  /** Polar-express steps; default `polarExpressIterations(lowerBound)` (float32 precision from `lowerBound`). */
  iterations?: number;
  /**
   * Final steps on w itself when the Gram form is used (tall or wide matrices). Default 0: measured on
   * MNIST-Small's 1568×100 weight one Adam step off the manifold (σ_min/σ_max = 0.11), max |σ/c − 1| is
   * 5e-6 after re-projection without refinement, 7e-7 with one.
   */
  refinementSteps?: number;
}

/** Default {@link ScaledPolarOptions.lowerBound}. */
export const SCALED_POLAR_LOWER_BOUND = 0.05;

/**
 * Re-projection onto the scaled orthogonal (Stiefel) manifold: for each matrix `w` (last two axes,
 * batched over leading ones, `m × n`), returns `c · polar(w)` with `polar(w) = U Vᵀ` (for
 * `w = U Σ Vᵀ`) and `c = ‖w‖_F / √min(m, n)` (the root-mean-square singular value, so
 * `‖c·polar(w)‖_F = ‖w‖_F`: the parameter keeps its scale, and Adam's effective step size with it).
 *
 * Because every polar scheme of this package scales its input first, `orthogonalize(c·polar(w))`
 * equals `polar(w)` (to float32 rounding): re-projecting a parameter after an optimizer step leaves the
 * function a layer computes unchanged, while keeping the parameter where one Björck step already returns
 * its polar factor (and the Jacobian of that step is the derivative of the polar factor there).
 *
 * Scheme: {@link polarExpress} (guaranteed-upper-bound scaling, the minimax cubic schedule from
 * `lowerBound`, 7 steps by default; the Gram form for tall/wide matrices), forward only: the result is
 * a constant for autodiff (`stopGradient`). Convergence: after `polarExpressIterations(lowerBound)`
 * steps every singular value of `polar` is within float32 rounding of 1 when σ_min/σ_max ≥ lowerBound;
 * below it the singular values still move towards 1 and the polar factor is unchanged (odd polynomial
 * steps only map σ), so a later call finishes the job. Tested against the float64 SVD.
 *
 * Ownership: `w` is borrowed; the result (same shape) is owned by the caller. Runs in `tf.tidy`.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` (rank < 2, empty), `INVALID_ARGUMENT` (non-float32, bad
 *   option), `DISPOSED`.
 * @example
 * ```ts
 * tf.tidy(() => variable.assign(scaledPolar(variable))); // after an optimizer step, outside the tape
 * ```
 * @see N. J. Higham, *Functions of Matrices*, SIAM 2008, §8.1 (the polar factor is the nearest
 *   orthogonal matrix); P.-A. Absil, R. Mahony, R. Sepulchre, *Optimization Algorithms on Matrix
 *   Manifolds*, 2008, §4.1 (retractions); N. Amsel et al., "The Polar Express", 2025.
 */
export function scaledPolar(w: tf.Tensor, options: ScaledPolarOptions = {}): tf.Tensor {
  const fn = 'scaledPolar';
  const lowerBound = options.lowerBound ?? SCALED_POLAR_LOWER_BOUND;
  assertInRange(fn, 'lowerBound', lowerBound, 0, 1, { minExclusive: true, maxExclusive: true });
  const iterations = options.iterations ?? polarExpressIterations(lowerBound);
  assertPositiveInteger(fn, 'iterations', iterations);
  const refinementSteps = options.refinementSteps ?? 0;
  assertNonNegativeInteger(fn, 'refinementSteps', refinementSteps);
  if (refinementSteps > iterations) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: refinementSteps (${refinementSteps}) must not exceed iterations (${iterations}).`);
  }
  checkMatrixTensor(fn, 'w', w);
  return tf.tidy(() => {
    const input = stopGradient(w);
    const rank = input.rank;
    const small = Math.min(input.shape[rank - 2], input.shape[rank - 1]);
    const c = tf.div(tf.sqrt(tf.sum(tf.square(input), [rank - 2, rank - 1], true)), Math.sqrt(small));
    return tf.mul(polarExpress(input, { lowerBound, iterations, refinementSteps }), c);
  });
}
