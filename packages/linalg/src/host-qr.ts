import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Modified Gram–Schmidt, in place and in float64 on the host: the `n` vectors of length `m` stored one
 * after the other in `columns` (vector j at `j·m … j·m + m − 1`, n ≤ m) become orthonormal, spanning the
 * same nested subspaces — the Q factor of the thin QR decomposition `A = QR` with `diag(R) > 0` of the
 * `m × n` matrix whose columns they are. 2mn² flops; its loss of orthogonality is about
 * 1e-16·cond(A) (Björck 1967), far below float32 precision for well-conditioned (e.g. Gaussian) inputs.
 *
 * Ownership: `columns` is overwritten; nothing is kept.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` (`m`, `n` not positive integers, n > m), `SHAPE_MISMATCH`
 *   (`columns.length !== m·n`).
 * @example
 * ```ts
 * const q = Float64Array.from([3, 4, 1, 0]); // two vectors of length 2
 * orthonormalizeColumns(q, 2, 2); // [0.6, 0.8, 0.8, −0.6]
 * ```
 * @see G. H. Golub, C. F. Van Loan, *Matrix Computations*, 4th ed., §5.2.8 (modified Gram–Schmidt).
 */
export function orthonormalizeColumns(columns: Float64Array, m: number, n: number): void {
  const fn = 'orthonormalizeColumns';
  assertPositiveInteger(fn, 'm', m);
  assertPositiveInteger(fn, 'n', n);
  if (n > m) throw new LipschitzError('INVALID_ARGUMENT', `${fn}: n (${n}) must be at most m (${m}): at most m vectors of length m are independent.`);
  if (columns.length !== m * n) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: columns has ${columns.length} values but m·n = ${m * n}.`);
  }
  const q = columns;
  for (let k = 0; k < n; k++) {
    const ck = k * m;
    for (let j = 0; j < k; j++) {
      const cj = j * m;
      let dot = 0;
      for (let i = 0; i < m; i++) dot += q[cj + i] * q[ck + i];
      for (let i = 0; i < m; i++) q[ck + i] -= dot * q[cj + i];
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += q[ck + i] * q[ck + i];
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < m; i++) q[ck + i] *= scale;
  }
}

/**
 * `L⁻¹` (row-major, lower triangular) of the Cholesky factor `G = L Lᵀ` of a symmetric positive
 * definite `n × n` matrix, in float64; null when a pivot is not positive.
 */
function choleskyInverse(g: ArrayLike<number>, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0.5 * (g[i * n + j] + g[j * n + i]);
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(sum > 0)) return null;
        l[i * n + i] = Math.sqrt(sum);
      } else l[i * n + j] = sum / l[j * n + j];
    }
  }
  const inv = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    inv[j * n + j] = 1 / l[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum -= l[i * n + k] * inv[k * n + j];
      inv[i * n + j] = sum / l[i * n + i];
    }
  }
  return inv;
}

/**
 * The Q factor of a tall `m × n` matrix (m ≥ n) by CholeskyQR2: `Q ← A (Lᵀ)⁻¹` with `AᵀA = L Lᵀ`,
 * twice. The two Gram products run on the backend; each `n × n` Cholesky factor and its inverse are
 * computed in float64 on the host. Exact in exact arithmetic (R has a positive diagonal, as a
 * sign-corrected Householder QR); the second pass restores orthonormality to working (float32)
 * precision for matrices with cond(A) ≲ 1/√ε_float32 (e.g. Gaussian matrices with m ≥ 2n, cond ≤ ~6).
 * It costs two backend matrix products instead of 2mn² host flops.
 *
 * **Host readback:** each pass reads the `n × n` Gram matrix back with `dataSync` (synchronous, because
 * layer constructors are). Meant for construction time (initial values), not for training steps.
 *
 * Ownership: `a` is borrowed; the result is owned by the caller. Returns null (nothing allocated)
 * when a Cholesky pivot is not positive (A numerically rank-deficient): fall back to a host QR then.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` (`a` not rank 2 or wider than tall).
 * @example
 * ```ts
 * const q = choleskyQr2(tf.randomNormal([1600, 100])); // 1600×100, orthonormal columns
 * ```
 * @see T. Fukaya, Y. Nakatsukasa, Y. Yanagisawa, Y. Yamamoto, "CholeskyQR2: a simple and
 *   communication-avoiding algorithm for computing a tall-skinny QR factorization", ScalA 2014.
 */
export function choleskyQr2(a: tf.Tensor2D): tf.Tensor2D | null {
  if (a.rank !== 2 || a.shape[0] < a.shape[1]) {
    throw new LipschitzError('SHAPE_MISMATCH', `choleskyQr2: a must be a tall matrix [m, n] with m >= n, got shape [${a.shape.join(', ')}]. Transpose wide matrices.`);
  }
  const n = a.shape[1];
  let q: tf.Tensor2D = a;
  for (let pass = 0; pass < 2; pass++) {
    const current = q;
    const gram = tf.tidy(() => tf.matMul(tf.transpose(current), current));
    const inv = choleskyInverse(gram.dataSync(), n);
    gram.dispose();
    if (inv === null) {
      if (current !== a) current.dispose();
      return null;
    }
    // Q = A (Lᵀ)⁻¹ = A (L⁻¹)ᵀ
    q = tf.tidy(() => tf.matMul(current, tf.transpose(tf.tensor2d(Float32Array.from(inv), [n, n]))));
    if (current !== a) current.dispose();
  }
  return q;
}
