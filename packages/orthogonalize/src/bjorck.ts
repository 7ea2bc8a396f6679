import {
  LipschitzError,
  assertFiniteNumber,
  assertInRange,
  assertOneOf,
  assertPositiveInteger,
} from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { directStep } from './gram-iteration';
import { checkMatrixTensor, transposeLast } from '@lipschitz/linalg';
import { type TallBatch, fromTallBatch, toTallBatch } from './matrix-batch';

/** How {@link bjorck} rescales each matrix before iterating (so that its singular values are ≲ 1). */
export type BjorckScaling = 'power' | 'frobenius' | 'none';

/** Options of {@link bjorck}. Defaults are the reference's (LConvNet `bjorck_orthonormalize`). */
export interface BjorckOptions {
  /** Number of unrolled iterations, no early exit. Default 20. */
  iterations?: number;
  /** Step of the order-1 iteration `w ← (1+β) w − β w (wᵀw)`, in (0, 1]. Default 0.5. Order 1 only. */
  beta?: number;
  /** Order of the Taylor expansion of `(wᵀw)^{-1/2}` around I (1 = Björck–Bowie). Default 1. */
  order?: number;
  /**
   * `'power'` (default): divide by a power-iteration estimate `s = uᵀ w v` of σ_max; `'frobenius'`:
   * divide by ‖w‖_F (≥ σ_max, so σ ≤ 1 exactly); `'none'`: no scaling (σ_max must be < √3).
   * The scale is a constant in backprop (computed outside the tape), as in the reference.
   */
  scaling?: BjorckScaling;
  /** Power-iteration steps for `'power'` scaling. Default 10. */
  powerIterations?: number;
  /** Seed of the N(0, 1) power-iteration start; omitted: a fresh random start on every call (reference). */
  seed?: number;
}

/** @internal Options with defaults filled in. */
export interface ResolvedBjorckOptions {
  iterations: number;
  beta: number;
  order: number;
  scaling: BjorckScaling;
  powerIterations: number;
  seed: number | undefined;
}

/** The reference's Björck settings: 20 iterations, order 1, β = 0.5, 10-step power scaling. */
export const BJORCK_DEFAULTS: Readonly<Required<Omit<BjorckOptions, 'seed'>>> = Object.freeze({
  iterations: 20,
  beta: 0.5,
  order: 1,
  scaling: 'power' as BjorckScaling,
  powerIterations: 10,
});

const SCALINGS: readonly BjorckScaling[] = ['power', 'frobenius', 'none'];

/** @internal Validates and fills in {@link BjorckOptions}. */
export function resolveBjorckOptions(fn: string, options: BjorckOptions | undefined): ResolvedBjorckOptions {
  const o = options ?? {};
  if (typeof o !== 'object') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: options must be an object, got ${String(o)}.`);
  }
  const iterations = o.iterations ?? BJORCK_DEFAULTS.iterations;
  const order = o.order ?? BJORCK_DEFAULTS.order;
  const beta = o.beta ?? BJORCK_DEFAULTS.beta;
  const scaling = o.scaling ?? BJORCK_DEFAULTS.scaling;
  const powerIterations = o.powerIterations ?? BJORCK_DEFAULTS.powerIterations;
  assertPositiveInteger(fn, 'iterations', iterations);
  assertPositiveInteger(fn, 'order', order);
  if (order > MAX_ORDER) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: order must be at most ${MAX_ORDER}, got ${order}. Use order 1 to 4 and more iterations.`);
  }
  assertInRange(fn, 'beta', beta, 0, 1, { minExclusive: true });
  if (order > 1 && o.beta !== undefined && o.beta !== BJORCK_DEFAULTS.beta) {
    throw new LipschitzError(
      'UNSUPPORTED_CONFIGURATION',
      `${fn}: beta applies to order 1 only (got order ${order}, beta ${o.beta}). Remove beta or use order 1.`,
    );
  }
  assertOneOf(fn, 'scaling', scaling, SCALINGS);
  assertPositiveInteger(fn, 'powerIterations', powerIterations);
  if (o.seed !== undefined) {
    assertFiniteNumber(fn, 'seed', o.seed);
    if (!Number.isInteger(o.seed)) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: seed must be an integer, got ${o.seed}.`);
    }
  }
  return { iterations, beta, order, scaling, powerIterations, seed: o.seed };
}

const MAX_ORDER = 8;

/**
 * Coefficients `a_j` of `q(G) = Σ_j a_j G^j`, the order-`p` Taylor polynomial of `G^{-1/2}` around I:
 * `Σ_{k=0}^{p} C(2k,k)/4^k (I − G)^k`. Order 1 gives (3/2, −1/2); order 2 (15/8, −5/4, 3/8), as LNets.
 * @internal
 */
export function bjorckCoefficients(order: number): number[] {
  const c: number[] = [];
  for (let k = 0; k <= order; k++) c.push(k === 0 ? 1 : (c[k - 1] * (2 * k - 1)) / (2 * k));
  const a = new Array<number>(order + 1).fill(0);
  for (let k = 0; k <= order; k++) {
    let binom = 1; // C(k, j)
    for (let j = 0; j <= k; j++) {
      a[j] += c[k] * binom * (j % 2 === 0 ? 1 : -1);
      binom = (binom * (k - j)) / (j + 1);
    }
  }
  return a;
}

/** @internal Power-iteration estimate `s = uᵀ x v` of σ_max per matrix, `[batch, 1, 1]`. Untaped use only. */
export function powerEstimate(x: tf.Tensor3D, iterations: number, seed: number | undefined): tf.Tensor3D {
  const [batch, m] = x.shape;
  const xt = transposeLast(x);
  const normalize = (t: tf.Tensor3D) => tf.div(t, tf.norm(t, 'euclidean', [1, 2], true)) as tf.Tensor3D;
  let u = tf.randomNormal([batch, m, 1], 0, 1, 'float32', seed) as tf.Tensor3D;
  let v = u;
  for (let i = 0; i < iterations; i++) {
    v = normalize(tf.matMul(xt, u));
    u = normalize(tf.matMul(x, v));
  }
  return tf.sum(tf.mul(u, tf.matMul(x, v)), [1, 2], true) as tf.Tensor3D;
}

/**
 * @internal Divides each matrix of the batch by its scale (power estimate or Frobenius norm), with the
 * scale computed outside the gradient tape (inside a customGrad forward) and treated as a constant:
 * `∂/∂x (x / s) = 1/s`.
 */
export function scaleBatch(x: tf.Tensor3D, options: ResolvedBjorckOptions): tf.Tensor3D {
  if (options.scaling === 'none') return x;
  const scale = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as tf.Tensor3D;
    const save = args[1] as tf.GradSaveFunc;
    const s =
      options.scaling === 'power'
        ? powerEstimate(t, options.powerIterations, options.seed)
        : (tf.norm(t, 'euclidean', [1, 2], true) as tf.Tensor3D);
    save([s]);
    return { value: tf.div(t, s), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.div(dy, saved[0]) };
  });
  return scale(x) as tf.Tensor3D;
}

/** @internal The per-step polynomial coefficients of Björck: order 1 `[1+β, −β]`, else Taylor. */
export function bjorckPolynomial(order: number, beta: number): number[] {
  return order === 1 ? [1 + beta, -beta] : bjorckCoefficients(order);
}

/** @internal The Björck iteration on an already tall batch (scaling included). */
export function bjorckTall(x: tf.Tensor3D, options: ResolvedBjorckOptions): tf.Tensor3D {
  const polynomial = bjorckPolynomial(options.order, options.beta);
  let y = scaleBatch(x, options);
  for (let i = 0; i < options.iterations; i++) {
    const current = y;
    const next = tf.tidy(() => directStep(current, polynomial));
    if (i > 0 || y !== x) y.dispose();
    y = next;
  }
  return y;
}

/**
 * Björck–Bowie orthonormalisation, exactly as the reference (LConvNet/LNets `bjorck_orthonormalize`):
 * the matrices in the last two axes of `w` are driven towards their orthogonal polar factor `U Vᵀ`
 * (for `w = U Σ Vᵀ`), differentiably through every unrolled iteration.
 *
 * 1. Batched over leading axes; a wide matrix (rows < cols) is transposed, iterated, transposed back
 *    (so the result has orthonormal rows; a tall one orthonormal columns).
 * 2. Scaling (default `'power'`): `w ← w / s` with `s = uᵀ w v` after `powerIterations` steps of
 *    `v = wᵀu/‖wᵀu‖, u = wv/‖wv‖` from `u ~ N(0, 1)` (seeded by `seed`, else fresh every call). `s` is
 *    computed outside the gradient tape and is a constant in backprop.
 * 3. `iterations` times: order 1, `w ← (1+β) w − β w (wᵀw)`; order p, `w ← w q_p(wᵀw)` with `q_p` the
 *    order-p Taylor polynomial of `(wᵀw)^{-1/2}` around I. Products are ordered for a tall w
 *    (`w (wᵀw)`: 4mn² flops per step) and use no matMul transpose flags (slow on wasm).
 *
 * Each singular value follows `σ ← (1+β)σ − βσ³` (order 1): small ones grow only ~1.5× per step, so
 * cond(w) ≳ 1e3 needs more than 20 iterations. σ never exceeds 1 by more than float32 rounding
 * when the scaled σ_max < √3.
 *
 * Ownership: `w` is borrowed; the result (same shape) is owned by the caller. Runs in `tf.tidy`.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` (rank < 2, empty), `INVALID_ARGUMENT` (non-float32, bad
 *   option), `UNSUPPORTED_CONFIGURATION` (`beta` with `order` > 1), `DISPOSED`.
 * @example
 * ```ts
 * const q = bjorck(w);                                 // reference: 20 it., β = 0.5, power scaling
 * const q2 = bjorck(w, { iterations: 30, seed: 1 });   // more steps, reproducible scaling
 * ```
 * @see Å. Björck, C. Bowie, "An iterative algorithm for computing the best estimate of an orthogonal
 *   matrix", SIAM J. Numer. Anal. 8 (1971); Anil, Lucas, Grosse, "Sorting out Lipschitz function
 *   approximation", ICML 2019; Li et al., NeurIPS 2019 (LConvNet).
 */
export function bjorck(w: tf.Tensor, options?: BjorckOptions): tf.Tensor {
  const resolved = resolveBjorckOptions('bjorck', options);
  checkMatrixTensor('bjorck', 'w', w);
  return tf.tidy(() => {
    const tall: TallBatch = toTallBatch(w);
    return fromTallBatch(bjorckTall(tall.x, resolved), tall);
  });
}
