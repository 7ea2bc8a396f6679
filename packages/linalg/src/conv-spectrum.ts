import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import { twiddles } from './fft';
import { checkFinite } from './host-validate';
import { complexSingularValuesUnchecked } from './host-svd';

function checkConv(
  fn: string,
  kernel: ArrayLike<number>,
  kernelShape: readonly number[],
  inputSize: readonly number[],
): void {
  if (!Array.isArray(kernelShape) || kernelShape.length !== 4) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: kernelShape must be [kh, kw, cin, cout] (HWIO), got ${JSON.stringify(kernelShape)}.`);
  }
  if (!Array.isArray(inputSize) || inputSize.length !== 2) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: inputSize must be [height, width], got ${JSON.stringify(inputSize)}.`);
  }
  const names = ['kh', 'kw', 'cin', 'cout'];
  for (let i = 0; i < 4; i++) assertPositiveInteger(fn, `kernelShape ${names[i]}`, kernelShape[i]);
  assertPositiveInteger(fn, 'inputSize height', inputSize[0]);
  assertPositiveInteger(fn, 'inputSize width', inputSize[1]);
  const size = kernelShape[0] * kernelShape[1] * kernelShape[2] * kernelShape[3];
  if (kernel == null || kernel.length !== size) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: kernel has ${kernel?.length} values but kernelShape [${kernelShape.join(', ')}] needs ${size}. Pass the HWIO kernel row-major.`,
    );
  }
  if (kernelShape[0] > inputSize[0] || kernelShape[1] > inputSize[1]) {
    throw new LipschitzError(
      'UNSUPPORTED_CONFIGURATION',
      `${fn}: kernel ${kernelShape[0]}×${kernelShape[1]} is larger than the input ${inputSize[0]}×${inputSize[1]}; circular padding needs kernel ≤ input. Use a larger inputSize.`,
    );
  }
  checkFinite(fn, 'kernel', kernel);
}

/**
 * Calls `visit(re, im, multiplicity)` with the cout×cin matrix `K̂(p, q)[o][c] = Σ_{a,b} K[a,b,c,o]
 * e^{−2πi(pa/h + qb/w)}` of every frequency, visiting one of each conjugate pair (a real kernel has
 * K̂(−p,−q) = conj K̂(p,q), with the same singular values) with multiplicity 2.
 */
function forEachFrequency(
  kernel: ArrayLike<number>,
  [kh, kw, cin, cout]: readonly number[],
  [h, w]: readonly number[],
  visit: (re: Float64Array, im: Float64Array, multiplicity: number) => void,
): void {
  const cc = cin * cout;
  const tw = twiddles(w);
  const th = twiddles(h);
  // T[a][q][o][c] = Σ_b K[a,b,c,o] e^{−2πi qb/w}
  const tRe = new Float64Array(kh * w * cc);
  const tIm = new Float64Array(kh * w * cc);
  for (let a = 0; a < kh; a++) {
    for (let q = 0; q < w; q++) {
      const base = (a * w + q) * cc;
      for (let b = 0; b < kw; b++) {
        const k = (q * b) % w;
        const cr = tw.cos[k];
        const ci = tw.sin[k];
        const kb = (a * kw + b) * cc; // K[a,b,:,:] is cin × cout row-major
        for (let c = 0; c < cin; c++) {
          for (let o = 0; o < cout; o++) {
            const v = kernel[kb + c * cout + o];
            const idx = base + o * cin + c;
            tRe[idx] += v * cr;
            tIm[idx] += v * ci;
          }
        }
      }
    }
  }
  const mRe = new Float64Array(cc);
  const mIm = new Float64Array(cc);
  for (let p = 0; p < h; p++) {
    for (let q = 0; q < w; q++) {
      const pp = (h - p) % h;
      const qq = (w - q) % w;
      const self = p * w + q;
      const partner = pp * w + qq;
      if (partner < self) continue;
      mRe.fill(0);
      mIm.fill(0);
      for (let a = 0; a < kh; a++) {
        const k = (p * a) % h;
        const cr = th.cos[k];
        const ci = th.sin[k];
        const base = (a * w + q) * cc;
        for (let i = 0; i < cc; i++) {
          const xr = tRe[base + i];
          const xi = tIm[base + i];
          mRe[i] += xr * cr - xi * ci;
          mIm[i] += xr * ci + xi * cr;
        }
      }
      visit(mRe, mIm, partner === self ? 1 : 2);
    }
  }
}

/**
 * All singular values (descending) of the 2-D circular convolution with an HWIO kernel
 * `[kh, kw, cin, cout]` (stride 1, NHWC cross-correlation, circular padding as in design.md) acting on
 * inputs of spatial size `[h, w]`: `h·w·min(cin, cout)` values, in float64 on the host.
 *
 * The operator is block-diagonalised by the 2-D DFT: at each frequency (p, q) it is the cout×cin complex
 * matrix `K̂(p,q)[o][c] = Σ_{a,b} K[a,b,c,o] e^{−2πi(pa/h + qb/w)}` (the kernel zero-embedded at h×w and
 * transformed). The padding offset only multiplies each K̂(p,q) by a unit-modulus phase, so the singular
 * values do not depend on it. This is the project's exact oracle for orthogonality and certificates
 * (Sedghi, Gupta, Long 2019).
 *
 * Cost: O(h·w·kh·cin·cout + (h·w/2)·min(cin,cout)²·max(cin,cout)); a real kernel's conjugate-symmetric
 * frequencies are computed once.
 *
 * @param kernel HWIO kernel values, row-major (e.g. `await kernel.data()`).
 * @throws LipschitzError `SHAPE_MISMATCH` (wrong lengths or ranks), `INVALID_ARGUMENT` (non-positive
 *   sizes), `UNSUPPORTED_CONFIGURATION` (kernel larger than the input), `NUMERICAL_ERROR` (NaN/Infinity).
 * @example
 * ```ts
 * const sv = convSingularValues(await w.data(), [3, 3, 16, 16], [28, 28]); // 28·28·16 values
 * ```
 * @see H. Sedghi, V. Gupta, P. M. Long, "The Singular Values of Convolutional Layers", ICLR 2019.
 */
export function convSingularValues(
  kernel: ArrayLike<number>,
  kernelShape: readonly [number, number, number, number] | readonly number[],
  inputSize: readonly [number, number] | readonly number[],
): Float64Array {
  checkConv('convSingularValues', kernel, kernelShape, inputSize);
  const [, , cin, cout] = kernelShape;
  const r = Math.min(cin, cout);
  const out = new Float64Array(inputSize[0] * inputSize[1] * r);
  let n = 0;
  forEachFrequency(kernel, kernelShape, inputSize, (re, im, multiplicity) => {
    const sv = complexSingularValuesUnchecked(re, im, cout, cin);
    for (let m = 0; m < multiplicity; m++) {
      out.set(sv, n);
      n += r;
    }
  });
  out.sort();
  out.reverse();
  return out;
}

/**
 * The exact spectral norm (largest singular value, float64) of the 2-D circular convolution described
 * in {@link convSingularValues}: the max over frequencies of σ_max(K̂(p, q)). This is the value a sound
 * certificate uses (plus a float32 slack), never a power-iteration estimate.
 *
 * @throws LipschitzError as {@link convSingularValues}.
 * @example
 * ```ts
 * const norm = convSpectralNorm(await w.data(), [2, 2, 64, 32], [14, 14]);
 * ```
 * @see H. Sedghi, V. Gupta, P. M. Long, "The Singular Values of Convolutional Layers", ICLR 2019.
 */
export function convSpectralNorm(
  kernel: ArrayLike<number>,
  kernelShape: readonly [number, number, number, number] | readonly number[],
  inputSize: readonly [number, number] | readonly number[],
): number {
  checkConv('convSpectralNorm', kernel, kernelShape, inputSize);
  const [, , cin, cout] = kernelShape;
  let best = 0;
  forEachFrequency(kernel, kernelShape, inputSize, (re, im) => {
    const sv = complexSingularValuesUnchecked(re, im, cout, cin);
    if (sv[0] > best) best = sv[0];
  });
  return best;
}
