import { checkFinite, checkHostMatrix } from './host-validate';

/** @internal cos/sin of −2πk/n for k = 0..n−1 (exact at the quarter points). */
export function twiddles(n: number): { cos: Float64Array; sin: Float64Array } {
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const angle = (-2 * Math.PI * k) / n;
    cos[k] = Math.cos(angle);
    sin[k] = Math.sin(angle);
  }
  if (n % 4 === 0) {
    cos[n / 4] = 0;
    sin[n / 4] = -1;
    cos[(3 * n) / 4] = 0;
    sin[(3 * n) / 4] = 1;
  }
  if (n % 2 === 0) {
    cos[n / 2] = -1;
    sin[n / 2] = 0;
  }
  return { cos, sin };
}

/**
 * The 2-D discrete Fourier transform of a `rows × cols` complex array (row-major), in float64 on the
 * host: `X[p, q] = Σ_y Σ_x x[y, x] · exp(−2πi (p·y / rows + q·x / cols))` (unnormalised, NumPy's
 * `fft2` convention). Computed exactly as a separable DFT, O(rows·cols·(rows + cols)); sizes need not be
 * powers of two.
 *
 * Ownership: the inputs are read, never kept; the result is new.
 *
 * @param re real part, `rows * cols` values.
 * @param im imaginary part, or `undefined` for a real input.
 * @throws LipschitzError `INVALID_ARGUMENT`, `SHAPE_MISMATCH`, `NUMERICAL_ERROR` (NaN/Infinity).
 * @example
 * ```ts
 * fft2d([1, 0, 0, 0], undefined, 2, 2); // { re: [1, 1, 1, 1], im: [0, 0, 0, 0] }
 * ```
 * @see J. W. Cooley, J. W. Tukey, "An algorithm for the machine calculation of complex Fourier series", 1965.
 */
export function fft2d(
  re: ArrayLike<number>,
  im: ArrayLike<number> | undefined,
  rows: number,
  cols: number,
): { re: Float64Array; im: Float64Array } {
  checkHostMatrix('fft2d', 're', re, rows, cols);
  checkFinite('fft2d', 're', re);
  if (im !== undefined) {
    checkHostMatrix('fft2d', 'im', im, rows, cols);
    checkFinite('fft2d', 'im', im);
  }
  const tc = twiddles(cols);
  const tr = twiddles(rows);
  // Along rows (x → q).
  const ar = new Float64Array(rows * cols);
  const ai = new Float64Array(rows * cols);
  for (let y = 0; y < rows; y++) {
    for (let q = 0; q < cols; q++) {
      let sr = 0;
      let si = 0;
      for (let x = 0; x < cols; x++) {
        const k = (q * x) % cols;
        const vr = re[y * cols + x];
        const vi = im === undefined ? 0 : im[y * cols + x];
        sr += vr * tc.cos[k] - vi * tc.sin[k];
        si += vr * tc.sin[k] + vi * tc.cos[k];
      }
      ar[y * cols + q] = sr;
      ai[y * cols + q] = si;
    }
  }
  // Along columns (y → p).
  const outRe = new Float64Array(rows * cols);
  const outIm = new Float64Array(rows * cols);
  for (let p = 0; p < rows; p++) {
    for (let q = 0; q < cols; q++) {
      let sr = 0;
      let si = 0;
      for (let y = 0; y < rows; y++) {
        const k = (p * y) % rows;
        const vr = ar[y * cols + q];
        const vi = ai[y * cols + q];
        sr += vr * tr.cos[k] - vi * tr.sin[k];
        si += vr * tr.sin[k] + vi * tr.cos[k];
      }
      outRe[p * cols + q] = sr;
      outIm[p * cols + q] = si;
    }
  }
  return { re: outRe, im: outIm };
}
