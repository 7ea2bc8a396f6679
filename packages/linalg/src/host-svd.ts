import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { hermitianEigenvalues, tridiagonalEigenvalues } from './hermitian-eigen';
import { checkFinite, checkHostMatrix } from './host-validate';

function descending(values: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(values, (v) => Math.max(v, 0));
  out.sort();
  out.reverse();
  return out;
}

function svdValues(m: Matrix): number[] {
  const svd = new SingularValueDecomposition(m, {
    computeLeftSingularVectors: false,
    computeRightSingularVectors: false,
    autoTranspose: true,
  });
  return svd.diagonal;
}

/**
 * All `min(rows, cols)` singular values, in descending order, of a real `rows × cols` matrix given
 * row-major, computed on the host in float64 (Golub–Kahan SVD from `ml-matrix`).
 *
 * This is an exact oracle up to float64 rounding (about 1e-15 relative to σ_max), used for dense-layer
 * certificates and orthogonality checks.
 *
 * Ownership: `values` is read, never kept. Returns a new array.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` (non-positive `rows`/`cols`), `SHAPE_MISMATCH` (`values.length
 *   !== rows * cols`), `NUMERICAL_ERROR` (a NaN or infinite entry).
 * @example
 * ```ts
 * singularValues([3, 0, 0, 4], 2, 2); // Float64Array [4, 3]
 * ```
 * @see G. H. Golub, C. F. Van Loan, *Matrix Computations*, 4th ed., §8.6.
 */
export function singularValues(values: ArrayLike<number>, rows: number, cols: number): Float64Array {
  checkHostMatrix('singularValues', 'values', values, rows, cols);
  checkFinite('singularValues', 'values', values);
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, values[i * cols + j]);
  return descending(svdValues(m));
}

/**
 * The exact spectral norm σ_max = ‖A‖₂ of a real `rows × cols` matrix (row-major), in float64 on the
 * host: `√λ_max` of the Gram matrix of the smaller side (`AᵀA` or `AAᵀ`, formed in float64), by
 * Householder tridiagonalisation and implicit QL. Unlike a power-iteration estimate this is not a lower
 * bound but the value itself, up to float64 rounding (relative error ≲ 1e-13 for 3136×512), so
 * certificates may use it with a small slack. O(rows·cols·min + min³): 3136×512 takes about 1 s.
 *
 * @throws LipschitzError as {@link singularValues}.
 * @example
 * ```ts
 * spectralNorm([1, 1, 0, 1], 2, 2); // 1.618… (the golden ratio)
 * ```
 * @see G. H. Golub, C. F. Van Loan, *Matrix Computations*, 4th ed., §2.3.
 */
export function spectralNorm(values: ArrayLike<number>, rows: number, cols: number): number {
  checkHostMatrix('spectralNorm', 'values', values, rows, cols);
  checkFinite('spectralNorm', 'values', values);
  const { gram, n } = realGram(values, rows, cols);
  const eig = symmetricEigenvalues(gram, n);
  let max = 0;
  for (let i = 0; i < n; i++) if (eig[i] > max) max = eig[i];
  return Math.sqrt(max);
}

/** @internal `AᵀA` (cols ≤ rows) or `AAᵀ`, full n×n row-major, float64. */
export function realGram(values: ArrayLike<number>, rows: number, cols: number): { gram: Float64Array; n: number } {
  const tall = cols <= rows;
  const n = tall ? cols : rows;
  const len = tall ? rows : cols;
  const v = new Float64Array(n * len);
  for (let i = 0; i < n; i++) for (let k = 0; k < len; k++) v[i * len + k] = values[tall ? k * cols + i : i * cols + k];
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const oi = i * len;
    for (let j = i; j < n; j++) {
      const oj = j * len;
      let sum = 0;
      for (let k = 0; k < len; k++) sum += v[oi + k] * v[oj + k];
      gram[i * n + j] = sum;
      gram[j * n + i] = sum;
    }
  }
  return { gram, n };
}

/**
 * @internal Eigenvalues (unordered) of a real symmetric n×n matrix (row-major, full storage):
 * Householder tridiagonalisation then implicit QL. O(n³), no eigenvectors.
 */
export function symmetricEigenvalues(input: ArrayLike<number>, n: number): Float64Array {
  const a = Float64Array.from(input);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 1; k++) {
    d[k] = a[k * n + k];
    const s = k + 1;
    let norm2 = 0;
    for (let j = s; j < n; j++) norm2 += a[j * n + k] ** 2;
    const alpha = Math.sqrt(norm2);
    e[k] = alpha;
    if (alpha === 0 || s === n - 1) continue;
    const x0 = a[s * n + k];
    const sign = x0 >= 0 ? 1 : -1;
    for (let j = s; j < n; j++) v[j] = a[j * n + k];
    v[s] += sign * alpha;
    const tau = 1 / (alpha * (alpha + Math.abs(x0)));
    let vp = 0;
    for (let j = s; j < n; j++) {
      let sum = 0;
      const row = j * n;
      for (let c = s; c < n; c++) sum += a[row + c] * v[c];
      p[j] = tau * sum;
      vp += v[j] * p[j];
    }
    const half = 0.5 * tau * vp;
    for (let j = s; j < n; j++) p[j] -= half * v[j];
    for (let j = s; j < n; j++) {
      const row = j * n;
      const pj = p[j];
      const vj = v[j];
      for (let c = s; c < n; c++) a[row + c] -= pj * v[c] + vj * p[c];
    }
  }
  d[n - 1] = a[(n - 1) * n + (n - 1)];
  e[n - 1] = 0;
  return tridiagonalEigenvalues(d, e);
}

/**
 * All `min(rows, cols)` singular values (descending) of the complex `rows × cols` matrix
 * `M = re + i·im` (both row-major), in float64 on the host.
 *
 * Computed from the Hermitian Gram matrix of the smaller side (`MᴴM` or `MMᴴ`) by Householder
 * tridiagonalisation and implicit QL (eigenvalues only), σ = √λ. Relative accuracy is float64 for
 * σ near σ_max; a tiny σ has an absolute error of about 1e-8·σ_max (it is computed from σ²).
 *
 * @throws LipschitzError `INVALID_ARGUMENT`, `SHAPE_MISMATCH` (either part has the wrong length),
 *   `NUMERICAL_ERROR` (a NaN or infinite entry).
 * @example
 * ```ts
 * complexSingularValues([0, 0, 0, 0], [2, 0, 0, 1], 2, 2); // Float64Array [2, 1]  (M = diag(2i, i))
 * ```
 * @see G. H. Golub, C. F. Van Loan, *Matrix Computations*, 4th ed., §8.3 (tridiagonalisation, QL).
 */
export function complexSingularValues(
  re: ArrayLike<number>,
  im: ArrayLike<number>,
  rows: number,
  cols: number,
): Float64Array {
  checkHostMatrix('complexSingularValues', 're', re, rows, cols);
  checkHostMatrix('complexSingularValues', 'im', im, rows, cols);
  checkFinite('complexSingularValues', 're', re);
  checkFinite('complexSingularValues', 'im', im);
  return complexSingularValuesUnchecked(re, im, rows, cols);
}

/** @internal {@link complexSingularValues} without validation (hot loop of the conv spectrum). */
export function complexSingularValuesUnchecked(
  re: ArrayLike<number>,
  im: ArrayLike<number>,
  rows: number,
  cols: number,
): Float64Array {
  const { gramRe, gramIm, n } = hermitianGram(re, im, rows, cols);
  const eig = hermitianEigenvalues(gramRe, gramIm, n);
  for (let i = 0; i < n; i++) eig[i] = Math.sqrt(Math.max(eig[i], 0));
  return descending(eig);
}

/**
 * @internal Gram matrix of the smaller side: `MᴴM` (cols × cols) when cols ≤ rows, else `MMᴴ`.
 * Returned as full n×n row-major real and imaginary parts (Hermitian).
 */
export function hermitianGram(
  re: ArrayLike<number>,
  im: ArrayLike<number>,
  rows: number,
  cols: number,
): { gramRe: Float64Array; gramIm: Float64Array; n: number } {
  // G[i][j] = Σ_k conj(x_i[k]) x_j[k] over the vectors x_i gathered below.
  const tall = cols <= rows;
  const n = tall ? cols : rows;
  const len = tall ? rows : cols;
  const gramRe = new Float64Array(n * n);
  const gramIm = new Float64Array(n * n);
  // Gather vectors x_i (length len): for tall, column i of M; otherwise conj(row i of M) so that
  // G = MMᴴ has G[i][j] = Σ_k M[i][k] conj(M[j][k]) = Σ_k conj(x_i[k]) x_j[k] with x_i = conj(row i).
  const vr = new Float64Array(n * len);
  const vi = new Float64Array(n * len);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < len; k++) {
      const idx = tall ? k * cols + i : i * cols + k;
      vr[i * len + k] = re[idx];
      vi[i * len + k] = tall ? im[idx] : -im[idx];
    }
  }
  for (let i = 0; i < n; i++) {
    const oi = i * len;
    for (let j = i; j < n; j++) {
      const oj = j * len;
      let sr = 0;
      let si = 0;
      for (let k = 0; k < len; k++) {
        const ar = vr[oi + k];
        const ai = vi[oi + k];
        const br = vr[oj + k];
        const bi = vi[oj + k];
        // conj(a) * b
        sr += ar * br + ai * bi;
        si += ar * bi - ai * br;
      }
      gramRe[i * n + j] = sr;
      gramIm[i * n + j] = si;
      gramRe[j * n + i] = sr;
      gramIm[j * n + i] = -si;
    }
  }
  return { gramRe, gramIm, n };
}
