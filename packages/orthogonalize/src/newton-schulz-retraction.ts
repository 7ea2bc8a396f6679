import { assertInRange, assertPositiveInteger, stopGradient } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { coupledIteration } from './gram-iteration';
import { checkMatrixTensor } from '@lipschitz/linalg';
import { fromTallBatch, gram, toTallBatch } from './matrix-batch';

/** Options of {@link newtonSchulzRetraction}. */
export interface NewtonSchulzRetractionOptions {
  /** Newton–Schulz (Björck, β = 0.5, order 1) steps, run on the n × n Gram side. Default 1. */
  steps?: number;
}

/** Result of {@link newtonSchulzRetraction}. */
export interface NewtonSchulzRetraction {
  /** `c · x_k`, the re-projected matrices (same shape as the input). */
  value: tf.Tensor;
  /**
   * The drift of the input off the scaled manifold, `max_batch ‖wᵀw/c² − I‖_F / √n` (the RMS of
   * `σᵢ²/c² − 1`, ≈ 2·RMS(σᵢ/c − 1)), a scalar kept on the device: read it asynchronously to choose the
   * next call's `steps` ({@link newtonSchulzStepsFor}).
   */
  drift: tf.Scalar;
}

/** The Newton–Schulz / Björck cubic `q(E) = 1.5 I − 0.5 E` as polynomial coefficients. */
const NEWTON_SCHULZ: readonly number[] = [1.5, -0.5];

/**
 * A cheap retraction onto the **scaled** orthogonal (Stiefel) manifold for matrices already close to
 * it (a parameter one optimizer step after the last retraction): for each matrix `w` (last two axes,
 * batched over leading ones, `m × n`, wide ones transposed), with `c² = ‖w‖²_F / min(m, n)` (the mean
 * square singular value) and `s² = max(c², ‖wᵀw‖_∞ / 2.89)`,
 * ```
 *   x₀ = w / s,   x_{j+1} = x_j (1.5 I − 0.5 x_jᵀx_j)   (Newton–Schulz = Björck, β = 0.5, order 1),
 *   result = c·√n · x_k / ‖x_k‖_F.
 * ```
 * Each singular value maps as `σ/s → p(σ/s)`, `p(t) = 1.5t − 0.5t³`; near 1 the error squares,
 * `1 − p(1 + δ) ≈ 1.5δ²`, so one step takes a 2% drift to 6e-4 and two to 5e-7. The iterates are
 * run on the n × n Gram side (`x_k = x₀ Z_k`, Z a polynomial in `x₀ᵀx₀`), so a tall `m × n` matrix
 * costs two `m·n²` products (`wᵀw` and `w Z`) plus `~3n³` per step. `s ≥ c` and
 * `σ_max ≤ √‖wᵀw‖_∞ ≤ 1.7 s < √3 s` keep every `σ/s` inside (0, √3), where p is positive: the polar
 * factor (the nearest orthogonal matrix) is preserved even far from the manifold, where the singular
 * values still move towards 1, only more slowly. The result is rescaled to `‖w‖_F = c·√n`, the norm of the
 * target `c·polar(w)`: far from the manifold (`s > c`) a few steps leave `x_k`'s singular values below 1, and
 * without the rescaling every call would shrink the scale — under Adam, whose steps have a fixed size, a
 * shrinking parameter is moved further off the manifold by each step and shrinks faster (measured: a
 * 1568 × 100 Björck dense weight fell from ‖w‖_F = 0.25 to 0.026 in 50 MNIST steps). When the drift is
 * small, `s = c`, `‖x_k‖_F ≈ √n` and `result = c·polar(w)` up to the error above.
 *
 * Forward only: the result and the drift are constants for autodiff (`stopGradient`). Nothing is read
 * back to the host.
 *
 * Ownership: `w` is borrowed; `value` and `drift` are owned by the caller. Runs in `tf.tidy`.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` (rank < 2, empty), `INVALID_ARGUMENT` (non-float32, bad
 *   steps), `DISPOSED`.
 * @example
 * ```ts
 * const { value, drift } = newtonSchulzRetraction(variable, { steps: 1 });
 * variable.assign(value); // after an optimizer step, outside the tape
 * const next = newtonSchulzStepsFor((await drift.data())[0]);
 * tf.dispose([value, drift]);
 * ```
 * @see Å. Björck, C. Bowie, "An iterative algorithm for computing the best estimate of an orthogonal
 *   matrix", SIAM J. Numer. Anal. 8 (1971); N. J. Higham, *Functions of Matrices*, SIAM 2008, §8.3
 *   (Newton–Schulz); P.-A. Absil, R. Mahony, R. Sepulchre, *Optimization Algorithms on Matrix
 *   Manifolds*, 2008, §4.1 (retractions).
 */
export function newtonSchulzRetraction(w: tf.Tensor, options: NewtonSchulzRetractionOptions = {}): NewtonSchulzRetraction {
  const fn = 'newtonSchulzRetraction';
  const steps = options.steps ?? 1;
  assertPositiveInteger(fn, 'steps', steps);
  checkMatrixTensor(fn, 'w', w);
  const [value, drift] = tf.tidy(() => {
    const tall = toTallBatch(stopGradient(w));
    const n = tall.x.shape[2];
    const g = gram(tall.x);
    const eye = tf.reshape(tf.eye(n), [1, n, n]);
    const c2 = tf.div(tf.sum(tf.mul(g, eye), [1, 2], true), n);
    const rowSums = tf.max(tf.sum(tf.abs(g), 2, true), 1, true);
    const s2 = tf.maximum(c2, tf.div(rowSums, 2.89));
    const z = coupledIteration(tf.div(g, s2) as tf.Tensor3D, Array.from({ length: steps }, () => NEWTON_SCHULZ));
    const unscaled = tf.matMul(tall.x, z) as tf.Tensor3D;
    // Rescaled to ‖w‖_F = c·√n, the norm of the target c·polar(w): where s > c an under-converged x_k has
    // singular values below 1, and without this the scale would shrink a little at every call.
    const x = tf.mul(unscaled, tf.sqrt(tf.div(tf.mul(c2, n), tf.sum(tf.square(unscaled), [1, 2], true)))) as tf.Tensor3D;
    const deviation = tf.sub(tf.div(g, c2), eye);
    const driftPerMatrix = tf.div(tf.sqrt(tf.sum(tf.square(deviation), [1, 2])), Math.sqrt(n));
    return [fromTallBatch(x, tall), tf.max(driftPerMatrix) as tf.Scalar];
  });
  return { value, drift: drift as tf.Scalar };
}

/**
 * The fewest Newton–Schulz steps that bring a drift `drift` (as {@link NewtonSchulzRetraction.drift})
 * under `tolerance`, predicted from the step's error map `δ → 1.5δ²` (capped at `maxSteps`). A drift
 * that is not a finite number gives `maxSteps`.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` (tolerance outside (0, 1), maxSteps not a positive integer).
 * @example
 * ```ts
 * newtonSchulzStepsFor(0.02); // 1 (0.02 → 6e-4 ≤ 1e-3)
 * newtonSchulzStepsFor(0.2);  // 3
 * ```
 */
export function newtonSchulzStepsFor(drift: number, tolerance = 1e-3, maxSteps = 6): number {
  const fn = 'newtonSchulzStepsFor';
  assertInRange(fn, 'tolerance', tolerance, 0, 1, { minExclusive: true, maxExclusive: true });
  assertPositiveInteger(fn, 'maxSteps', maxSteps);
  if (!Number.isFinite(drift)) return maxSteps;
  let delta = Math.min(Math.abs(drift), 0.5);
  let steps = 0;
  while (delta > tolerance && steps < maxSteps) {
    delta = 1.5 * delta * delta;
    steps++;
  }
  return Math.max(1, steps);
}

/**
 * The differentiated forward pass of a parameter kept on the scaled orthogonal manifold (the layers'
 * `'projected'` scheme): value `Q = w / c` with `c = ‖w‖_F / √min(m, n)` per matrix (last two axes,
 * batched), and as gradient the **tangent-space (Riemannian) projection** of the upstream gradient `G`
 * at Q, divided by c:
 * ```
 *   ∂L/∂w = (G − Q sym(QᵀG)) / c      (tall Q, QᵀQ = I; wide matrices transposed),  sym(A) = (A + Aᵀ)/2.
 * ```
 * On the manifold (`w = c·Q`, Q with orthonormal columns) this is exactly the value and the derivative
 * of the polar factor `polar(w)` (the converged Björck / reference orthogonalization): `polar(Q + E) =
 * Q + E − Q sym(QᵀE) + O(E²)`, a self-adjoint map, divided by c for the scale. So a loss sees the
 * reference's function and gradient, at the cost of a rescaling forward and two products (`QᵀG`,
 * `Q·sym`) backward. Off the manifold the value is only rescaled (not orthogonalized): keep `w` on it
 * with {@link newtonSchulzRetraction} after every optimizer step. An optimizer step on this gradient
 * followed by the retraction is Riemannian (projected) gradient descent on the Stiefel manifold.
 *
 * Ownership: `w` is borrowed; the result (same shape) is owned by the caller. Runs in `tf.tidy`.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` (rank < 2, empty), `INVALID_ARGUMENT` (non-float32), `DISPOSED`.
 * @example
 * ```ts
 * const q = stiefelRescale(variable); // inside the loss: the layer's orthogonal matrix
 * ```
 * @see P.-A. Absil, R. Mahony, R. Sepulchre, *Optimization Algorithms on Matrix Manifolds*, 2008,
 *   §3.6.1 (the Stiefel manifold's tangent projection) and §4.1; N. J. Higham, *Functions of Matrices*,
 *   SIAM 2008, §8.1 (the polar factor).
 */
export function stiefelRescale(w: tf.Tensor): tf.Tensor {
  checkMatrixTensor('stiefelRescale', 'w', w);
  return tf.tidy(() => {
    const rescale = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const x = args[0] as tf.Tensor;
      const save = args[1] as tf.GradSaveFunc;
      const rank = x.rank;
      const small = Math.min(x.shape[rank - 2], x.shape[rank - 1]);
      const c = tf.div(tf.sqrt(tf.sum(tf.square(x), [rank - 2, rank - 1], true)), Math.sqrt(small));
      const q = tf.div(x, c);
      save([q, c]);
      return {
        value: q,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const [savedQ, savedC] = saved;
          const qt = toTallBatch(savedQ);
          const gt = toTallBatch(dy as tf.Tensor);
          const a = tf.matMul(tf.transpose(qt.x, [0, 2, 1]), gt.x);
          const sym = tf.mul(tf.add(a, tf.transpose(a, [0, 2, 1])), 0.5);
          const tangent = tf.sub(gt.x, tf.matMul(qt.x, sym)) as tf.Tensor3D;
          return tf.div(fromTallBatch(tangent, gt), savedC);
        },
      };
    });
    return rescale(w);
  });
}
