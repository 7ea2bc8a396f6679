// Float64 host oracles for the blockconv tests, written from the definitions (independent of the
// tfjs code under test).
import { denseMatrixOf, singularValuesOracle } from '@lipschitz/test-utils';
import type * as tf from '@tensorflow/tfjs-core';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { circularConv2d } from '../src/circular-pad';

/**
 * y[n, p, q, o] = Σ_{u,v,c} x[n, (p + u − ⌊kh/2⌋) mod h, (q + v − ⌊kw/2⌋) mod w, c] · K[u, v, c, o]
 * (reference-bcop.md §1.4: ⌊k/2⌋ rows/cols before, taken from the end).
 */
export function hostCircularConv(
  x: ArrayLike<number>,
  [b, h, w, cin]: number[],
  kernel: ArrayLike<number>,
  [kh, kw, kcin, cout]: number[],
): Float64Array {
  if (kcin !== cin) throw new Error('channel mismatch');
  const y = new Float64Array(b * h * w * cout);
  const bh = Math.floor(kh / 2);
  const bw = Math.floor(kw / 2);
  const mod = (a: number, m: number) => ((a % m) + m) % m;
  for (let n = 0; n < b; n++)
    for (let p = 0; p < h; p++)
      for (let q = 0; q < w; q++)
        for (let o = 0; o < cout; o++) {
          let s = 0;
          for (let u = 0; u < kh; u++)
            for (let v = 0; v < kw; v++)
              for (let c = 0; c < cin; c++) {
                const xi = ((n * h + mod(p + u - bh, h)) * w + mod(q + v - bw, w)) * cin + c;
                s += x[xi] * kernel[((u * kw + v) * cin + c) * cout + o];
              }
          y[((n * h + p) * w + q) * cout + o] = s;
        }
  return y;
}

/** out[i, j] = Σ_{a,b} A[a, b] @ B[i − a, j − b] on row-major [kh, kw, r, s] grids of matrices. */
export function hostBlockConv(a: ArrayLike<number>, [ah, aw, r, s]: number[], b: ArrayLike<number>, [bh, bw, s2, t]: number[]): { values: Float64Array; shape: number[] } {
  if (s !== s2) throw new Error('inner mismatch');
  const oh = ah + bh - 1;
  const ow = aw + bw - 1;
  const out = new Float64Array(oh * ow * r * t);
  for (let i = 0; i < ah; i++)
    for (let j = 0; j < aw; j++)
      for (let k = 0; k < bh; k++)
        for (let l = 0; l < bw; l++)
          for (let x = 0; x < r; x++)
            for (let z = 0; z < t; z++) {
              let sum = 0;
              for (let y = 0; y < s; y++) sum += a[((i * aw + j) * r + x) * s + y] * b[((k * bw + l) * s + y) * t + z];
              out[(((i + k) * ow + (j + l)) * r + x) * t + z] += sum;
            }
  return { values: out, shape: [oh, ow, r, t] };
}

/** The orthogonal polar factor U Vᵀ of a row-major n × n matrix (float64 SVD). */
export function polarFactor(values: ArrayLike<number>, n: number): Float64Array {
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, values[i * n + j]);
  const svd = new SingularValueDecomposition(m);
  const q = svd.leftSingularVectors.mmul(svd.rightSingularVectors.transpose());
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = q.get(i, j);
  return out;
}

/** All singular values (descending, float64) of x ↦ circularConv2d(x, kernel) on h × w inputs. */
export async function circularConvSingularValues(kernel: tf.Tensor4D, h: number, w: number): Promise<number[]> {
  const { values, rows, cols } = await denseMatrixOf((x) => circularConv2d(x as tf.Tensor4D, kernel), [h, w, kernel.shape[2]]);
  return singularValuesOracle(values, rows, cols);
}

/** Largest |σ − 1| over the given singular values. */
export function maxDeviationFromOne(sv: number[]): number {
  return sv.reduce((m, s) => Math.max(m, Math.abs(s - 1)), 0);
}
