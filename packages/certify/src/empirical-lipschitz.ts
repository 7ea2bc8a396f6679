import { LipschitzError, SeededRandom, assertPositiveInteger, assertPositiveNumber } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Predict } from './attack-core';

/** Options of {@link empiricalLipschitzLowerBound}. */
export interface EmpiricalLipschitzOptions {
  /** Random directions per example for the difference quotients (default 8). */
  pairs?: number;
  /** Seed of the random directions and power-iteration starts (default 0). */
  seed?: number;
  /** Power iterations on JᵀJ per example (default 10). */
  iterations?: number;
  /** ℓ2 distance of the paired points `x` and `x + r·d` (default 0.1). */
  radius?: number;
  /** Examples per pass (default 100). */
  batchSize?: number;
}

/** Result of {@link empiricalLipschitzLowerBound}. */
export interface EmpiricalLipschitzResult {
  /** `max(jacobianNormLowerBound, pairRatioLowerBound)`. */
  lipschitzLowerBound: number;
  /** `max_n ‖J(x_n)ᵀ u_n‖₂` over unit `u_n` chosen by power iteration. */
  jacobianNormLowerBound: number;
  /** `max ‖f(x) − f(y)‖₂ / ‖x − y‖₂` over the evaluated pairs. */
  pairRatioLowerBound: number;
}

function rowNorms(t: tf.Tensor): tf.Tensor1D {
  return tf.norm(tf.reshape(t, [t.shape[0], -1]), 'euclidean', 1) as tf.Tensor1D;
}

function normalizeRows(t: tf.Tensor): tf.Tensor {
  const norms = tf.maximum(rowNorms(t), 1e-30);
  return tf.div(t, tf.reshape(norms, [t.shape[0], ...new Array(t.rank - 1).fill(1)]));
}

async function maxOf(t: tf.Tensor): Promise<number> {
  const values = await t.data();
  t.dispose();
  let m = 0;
  for (const v of values) if (v > m) m = v;
  return m;
}

/**
 * An empirical LOWER bound on the ℓ2 → ℓ2 Lipschitz constant of `predict` (the whole logit vector),
 * to show how tight {@link networkLipschitzUpperBound} is. Two estimates, both valid lower bounds
 * (up to float32 rounding of the forward pass):
 *
 * 1. Jacobian: for each example x, `‖J(x)ᵀu‖₂` with `‖u‖₂ = 1` is ≤ `‖J(x)‖₂` ≤ L. u is chosen by
 *    `iterations` steps of power iteration on J Jᵀ: `v = Jᵀu` is the input gradient of `u · f(x)`
 *    (`tf.grad`), and `J v̂` is approximated by the central difference `(f(x + r v̂) − f(x − r v̂)) / 2r`
 *    (the difference only chooses the next u; the reported value is the gradient norm itself).
 * 2. Pairs: `‖f(x) − f(y)‖₂ / ‖x − y‖₂` for `y = x + r·d` with d random unit directions (`pairs` per
 *    example) and for the two power-iteration points `x ± r v̂`; distances are measured on the actual
 *    float32 points.
 *
 * Ownership: `images` (`[N, ...]`) is borrowed. `predict` should use frozen kernels.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` on a non-positive `pairs`, `iterations`, `radius`,
 *   `batchSize` or a non-integer seed; `SHAPE_MISMATCH` when `images` is not a batch.
 * @example
 * ```ts
 * const { lipschitzLowerBound } = await empiricalLipschitzLowerBound((x) => model.apply(x), images);
 * // lipschitzLowerBound ≤ networkLipschitzUpperBound(exported).lipschitzUpperBound
 * ```
 * @see Anil, Lucas, Grosse, "Sorting out Lipschitz function approximation", ICML 2019 (gradient-norm
 *   tightness); Fazlyab et al., "Efficient and Accurate Estimation of Lipschitz Constants", NeurIPS 2019.
 */
export async function empiricalLipschitzLowerBound(
  predict: Predict,
  images: tf.Tensor,
  options: EmpiricalLipschitzOptions = {},
): Promise<EmpiricalLipschitzResult> {
  const fn = 'empiricalLipschitzLowerBound';
  const { pairs = 8, seed = 0, iterations = 10, radius = 0.1, batchSize = 100 } = options;
  if (images.rank < 2) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: images must be a batch [N, ...], got shape [${images.shape.join(', ')}].`);
  }
  assertPositiveInteger(fn, 'pairs', pairs);
  assertPositiveInteger(fn, 'iterations', iterations);
  assertPositiveNumber(fn, 'radius', radius);
  assertPositiveInteger(fn, 'batchSize', batchSize);
  if (!Number.isInteger(seed)) throw new LipschitzError('INVALID_ARGUMENT', `${fn}: seed must be an integer, got ${seed}.`);
  const rng = new SeededRandom(seed);
  const n = images.shape[0];
  let jacobian = 0;
  let pairRatio = 0;
  for (let offset = 0; offset < n; offset += batchSize) {
    const size = Math.min(batchSize, n - offset);
    const x = tf.tidy(() => tf.cast(tf.slice(images, offset, size), 'float32'));
    const fx = tf.tidy(() => predict(x));
    try {
      const quotient = (y: tf.Tensor, fy: tf.Tensor, x0: tf.Tensor, f0: tf.Tensor) => tf.div(rowNorms(tf.sub(fy, f0)), rowNorms(tf.sub(y, x0)));
      for (let p = 0; p < pairs; p++) {
        const pairSeed = rng.seed();
        const ratios = tf.tidy(() => {
          const y = tf.add(x, tf.mul(normalizeRows(tf.randomNormal(x.shape, 0, 1, 'float32', pairSeed)), radius));
          return quotient(y, predict(y), x, fx);
        });
        pairRatio = Math.max(pairRatio, await maxOf(ratios));
      }
      let u = tf.tidy(() => normalizeRows(tf.randomNormal(fx.shape, 0, 1, 'float32', rng.seed())));
      try {
        for (let it = 0; it < iterations; it++) {
          const [gradNorms, ratios, next] = tf.tidy(() => {
            const uu = u;
            const v = tf.grad((xa: tf.Tensor) => tf.sum(tf.mul(predict(xa), uu)))(x);
            const vHat = normalizeRows(v);
            const plus = tf.add(x, tf.mul(vHat, radius));
            const minus = tf.sub(x, tf.mul(vHat, radius));
            const fPlus = predict(plus);
            const fMinus = predict(minus);
            return [rowNorms(v), quotient(plus, fPlus, minus, fMinus), normalizeRows(tf.sub(fPlus, fMinus))];
          });
          jacobian = Math.max(jacobian, await maxOf(gradNorms));
          pairRatio = Math.max(pairRatio, await maxOf(ratios));
          u.dispose();
          u = next;
        }
      } finally {
        u.dispose();
      }
    } finally {
      x.dispose();
      fx.dispose();
    }
  }
  return { lipschitzLowerBound: Math.max(jacobian, pairRatio), jacobianNormLowerBound: jacobian, pairRatioLowerBound: pairRatio };
}
