import { LipschitzError } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { singularValues } from './host-svd';
import { checkMatrixTensor, checkSquare, toBatch3, transposeLast } from './tensor-validate';

/**
 * @internal Gauss–Jordan elimination with partial pivoting on a batch: returns `X` with `A X = R`,
 * A `[B, n, n]`, R `[B, n, k]`. Pivot rows are selected by one-hot masks (no row swaps, no gather):
 * after n steps the left block is an exact permutation Π and `X = Πᵀ R'`. Run untaped only (inside a
 * customGrad forward or backward). A singular A gives Inf/NaN.
 */
export function gaussJordan(a: tf.Tensor3D, r: tf.Tensor3D): tf.Tensor3D {
  const [batch, n] = a.shape;
  const k = r.shape[2];
  let m = tf.concat([a, r], 2) as tf.Tensor3D;
  let unused = tf.ones([batch, n, 1]) as tf.Tensor3D;
  for (let j = 0; j < n; j++) {
    const [nextM, nextUnused] = tf.tidy(() => {
      const column = tf.slice(m, [0, 0, j], [batch, n, 1]);
      // candidates: |a_ij| on unused rows, −1 on used ones (so a used row is never picked)
      const candidates = tf.add(tf.mul(tf.abs(column), unused), tf.sub(unused, 1));
      const index = tf.reshape(tf.argMax(candidates, 1), [batch]);
      const oneHot = tf.reshape(tf.cast(tf.oneHot(index, n), 'float32'), [batch, n, 1]);
      const pivotRow = tf.matMul(tf.reshape(oneHot, [batch, 1, n]), m);
      const pivot = tf.slice(pivotRow, [0, 0, j], [batch, 1, 1]);
      const normalized = tf.div(pivotRow, pivot);
      // other rows: m_i − m_ij · normalized; pivot row: normalized
      const updated = tf.add(m, tf.mul(tf.sub(oneHot, column), normalized)) as tf.Tensor3D;
      return [updated, tf.sub(unused, oneHot) as tf.Tensor3D];
    });
    m.dispose();
    unused.dispose();
    m = nextM;
    unused = nextUnused;
  }
  const x = tf.tidy(() => {
    const permutation = tf.slice(m, [0, 0, 0], [batch, n, n]) as tf.Tensor3D;
    const right = tf.slice(m, [0, 0, n], [batch, n, k]) as tf.Tensor3D;
    return tf.matMul(transposeLast(permutation), right) as tf.Tensor3D;
  });
  m.dispose();
  unused.dispose();
  return x;
}

const solveBatch = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const a = args[0] as tf.Tensor3D;
  const b = args[1] as tf.Tensor3D;
  const save = args[2] as tf.GradSaveFunc;
  const x = gaussJordan(a, b);
  save([a, x]);
  return {
    value: x,
    gradFunc: (dx: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sx] = saved as tf.Tensor3D[];
      // X = A⁻¹B: dB = A⁻ᵀ dX, dA = −dB Xᵀ
      const db = gaussJordan(transposeLast(sa), dx as tf.Tensor3D);
      const da = tf.neg(tf.matMul(db, transposeLast(sx)));
      return [da, db];
    },
  };
});

const inverseBatch = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const a = args[0] as tf.Tensor3D;
  const save = args[1] as tf.GradSaveFunc;
  const [batch, n] = a.shape;
  const x = gaussJordan(a, tf.tile(tf.reshape(tf.eye(n), [1, n, n]), [batch, 1, 1]) as tf.Tensor3D);
  save([x]);
  return {
    value: x,
    gradFunc: (dx: tf.Tensor, saved: tf.Tensor[]) => {
      // X = A⁻¹: dA = −Xᵀ dX Xᵀ
      const xt = transposeLast(saved[0] as tf.Tensor3D);
      return tf.neg(tf.matMul(tf.matMul(xt, dx as tf.Tensor3D), xt));
    },
  };
});

function checkSolveShapes(fn: string, a: tf.Tensor, b: tf.Tensor): void {
  checkSquare(fn, 'a', a);
  checkMatrixTensor(fn, 'b', b);
  const lead = a.shape.slice(0, -1);
  const blead = b.shape.slice(0, -1);
  if (lead.length !== blead.length || lead.some((d, i) => d !== blead[i])) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: b must have shape [${[...lead, 'k'].join(', ')}] to match a [${a.shape.join(', ')}], got [${b.shape.join(', ')}]. Reshape a vector right-hand side to [n, 1].`,
    );
  }
}

/**
 * Solves `A X = B` for a batch of square systems, differentiably: Gauss–Jordan elimination with partial
 * pivoting in tfjs ops (forward, off the tape), and the exact adjoint in backprop,
 * `∂L/∂B = A⁻ᵀ ∂L/∂X`, `∂L/∂A = −(∂L/∂B) Xᵀ` (one more solve). tfjs-core has no solve.
 *
 * `a` is `[..., n, n]`, `b` is `[..., n, k]` with the same leading axes; the result has `b`'s shape.
 * Cost O(n²(n + k)) per matrix in n steps of ~15 small ops. Accuracy: relative error ≲ cond(A)·6e-8
 * (float32). A singular `a` yields Inf/NaN without an error (this function is synchronous and never
 * reads tensors back); use {@link checkedSolve} for a `NUMERICAL_ERROR` on singular or ill-conditioned input.
 *
 * Ownership: `a` and `b` are borrowed; the result is owned by the caller. Runs in `tf.tidy`.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` (non-square a, mismatched b), `INVALID_ARGUMENT` (non-float32), `DISPOSED`.
 * @example
 * ```ts
 * const x = solve(tf.tensor2d([[2, 0], [0, 4]]), tf.tensor2d([[2], [2]])); // [[1], [0.5]]
 * ```
 * @see G. H. Golub, C. F. Van Loan, *Matrix Computations*, 4th ed., §3.4 (pivoting); M. B. Giles,
 *   "An extended collection of matrix derivative results for forward and reverse mode AD", 2008.
 */
export function solve(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  checkSolveShapes('solve', a, b);
  return tf.tidy(() => tf.reshape(solveBatch(toBatch3(a), toBatch3(b)), b.shape));
}

/**
 * The inverse `A⁻¹` of a batch of square matrices `[..., n, n]`, differentiably: Gauss–Jordan with
 * partial pivoting on `[A | I]` (forward, off the tape); backprop `∂L/∂A = −A⁻ᵀ (∂L/∂X) A⁻ᵀ`.
 * Prefer {@link solve} when the inverse is multiplied by something.
 *
 * A singular `a` yields Inf/NaN without an error; use {@link checkedInverse} to get `NUMERICAL_ERROR`.
 *
 * Ownership: `a` is borrowed; the result is owned by the caller. Runs in `tf.tidy`.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` (non-square), `INVALID_ARGUMENT` (non-float32), `DISPOSED`.
 * @example
 * ```ts
 * const inv = inverse(tf.tensor2d([[0, 2], [1, 0]])); // [[0, 1], [0.5, 0]]
 * ```
 * @see M. B. Giles, "An extended collection of matrix derivative results for forward and reverse mode AD", 2008.
 */
export function inverse(a: tf.Tensor): tf.Tensor {
  checkSquare('inverse', 'a', a);
  return tf.tidy(() => tf.reshape(inverseBatch(toBatch3(a)), a.shape));
}

/** Options of {@link checkedSolve} and {@link checkedInverse}. */
export interface ConditionCheckOptions {
  /** Largest accepted 2-norm condition number σ_max/σ_min of each matrix. Default 1e5 (float32 error ≲ 1e-2). */
  maxCondition?: number;
}

/**
 * The exact 2-norm condition numbers σ_max/σ_min of a batch of square matrices `[..., n, n]`, computed on
 * the host in float64 (SVD). `Infinity` for a singular matrix. Reads `a` with `await data()`.
 *
 * Ownership: `a` is borrowed (not disposed).
 *
 * @throws LipschitzError `SHAPE_MISMATCH`, `INVALID_ARGUMENT`, `DISPOSED`, `NUMERICAL_ERROR` (NaN/Infinity entries).
 * @example
 * ```ts
 * const [cond] = await conditionNumber(tf.tensor2d([[1, 0], [0, 1e-3]])); // 1000
 * ```
 * @see G. H. Golub, C. F. Van Loan, *Matrix Computations*, 4th ed., §2.6.
 */
export async function conditionNumber(a: tf.Tensor): Promise<Float64Array> {
  checkSquare('conditionNumber', 'a', a);
  const n = a.shape[a.rank - 1];
  const data = await a.data();
  const count = data.length / (n * n);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const block = data.subarray(i * n * n, (i + 1) * n * n);
    for (let j = 0; j < block.length; j++) {
      if (!Number.isFinite(block[j])) {
        throw new LipschitzError('NUMERICAL_ERROR', `conditionNumber: matrix ${i} has a non-finite entry (${block[j]}). Check the inputs for NaN/Infinity.`);
      }
    }
    const sv = singularValues(block, n, n);
    out[i] = sv[n - 1] === 0 ? Number.POSITIVE_INFINITY : sv[0] / sv[n - 1];
  }
  return out;
}

async function assertConditioned(fn: string, a: tf.Tensor, options: ConditionCheckOptions | undefined): Promise<void> {
  const maxCondition = options?.maxCondition ?? 1e5;
  if (typeof maxCondition !== 'number' || !(maxCondition >= 1)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: maxCondition must be a number >= 1, got ${String(maxCondition)}.`);
  }
  checkSquare(fn, 'a', a);
  const conds = await conditionNumber(a);
  conds.forEach((c, i) => {
    if (!(c <= maxCondition)) {
      throw new LipschitzError(
        'NUMERICAL_ERROR',
        `${fn}: matrix ${i} is ${c === Number.POSITIVE_INFINITY ? 'singular' : `ill-conditioned (condition number ${c.toExponential(3)} > ${maxCondition})`}; float32 elimination would be meaningless. Regularise it (e.g. add εI) or raise maxCondition.`,
      );
    }
  });
}

/**
 * {@link solve} after checking on the host (float64 SVD, `await data()`) that every matrix of `a` has a
 * condition number ≤ `maxCondition`; otherwise throws `NUMERICAL_ERROR` instead of returning Inf/NaN.
 * For API boundaries, not hot loops (the check costs an O(n³) host SVD per matrix).
 *
 * Ownership: `a` and `b` are borrowed; the result is owned by the caller.
 *
 * @throws LipschitzError `NUMERICAL_ERROR` (singular or ill-conditioned), and as {@link solve}.
 * @example
 * ```ts
 * const x = await checkedSolve(a, b, { maxCondition: 1e4 });
 * ```
 * @see G. H. Golub, C. F. Van Loan, *Matrix Computations*, 4th ed., §3.5 (sensitivity of linear systems).
 */
export async function checkedSolve(a: tf.Tensor, b: tf.Tensor, options?: ConditionCheckOptions): Promise<tf.Tensor> {
  checkSolveShapes('checkedSolve', a, b);
  await assertConditioned('checkedSolve', a, options);
  return solve(a, b);
}

/**
 * {@link inverse} after the host condition check of {@link checkedSolve}; throws `NUMERICAL_ERROR` on a
 * singular or ill-conditioned matrix.
 *
 * @throws LipschitzError `NUMERICAL_ERROR`, and as {@link inverse}.
 * @example
 * ```ts
 * const inv = await checkedInverse(a);
 * ```
 * @see G. H. Golub, C. F. Van Loan, *Matrix Computations*, 4th ed., §3.5.
 */
export async function checkedInverse(a: tf.Tensor, options?: ConditionCheckOptions): Promise<tf.Tensor> {
  checkSquare('checkedInverse', 'a', a);
  await assertConditioned('checkedInverse', a, options);
  return inverse(a);
}
