import * as tf from '@tensorflow/tfjs-core';

/**
 * Helpers of the real (half-spectrum) 2-D DFT: a real signal's spectrum is conjugate-symmetric, so only
 * the columns q = 0 … ⌊w/2⌋ of a width-w signal are stored (`rfft2`), each counted with its weight.
 */

/** Number of columns of the half spectrum of a real signal of width `w` (`rfft2`): ⌊w/2⌋ + 1. @internal */
export function halfWidth(w: number): number {
  return Math.floor(w / 2) + 1;
}

/**
 * Weight of half-spectrum column `q` when summing over the full spectrum of a real signal of width `w`:
 * 1 for the self-conjugate columns (q = 0, and q = w/2 for even w), 2 for the others.
 * @internal
 */
export function halfSpectrumWeight(q: number, w: number): number {
  return q === 0 || 2 * q === w ? 1 : 2;
}

/** Constant real DFT matrices of one input size and kernel size (see {@link realDftMatrices}). */
export interface RealDftMatrices {
  h: number;
  w: number;
  /** ⌊w/2⌋ + 1 half-spectrum columns. */
  wh: number;
  /** Frequencies h·wh, ordered p·wh + q. */
  frequencies: number;
  /**
   * `[F, k²]` cos / sin of θ = 2π(p(a − s)/h + q(b − s)/w) with the reference's centring shift
   * s = ⌊(k − 1)/2⌋ (Trockman & Kolter's `fft_shift_matrix`): the kernel's transfer matrices.
   */
  kernelCos: tf.Tensor2D;
  kernelSin: tf.Tensor2D;
  /** `[2wh, w]`: real rDFT along the width, rows [cos; −sin]. */
  forwardW: tf.Tensor2D;
  /** `[2h, 2h]`: complex DFT along the height on stacked [re; im]. */
  forwardH: tf.Tensor2D;
  /** `[2h, 2h]`: complex inverse DFT along the height (unnormalised). */
  inverseH: tf.Tensor2D;
  /** `[w, 2wh]`: inverse real DFT along the width, with the half-spectrum weights and 1/(h·w). */
  inverseW: tf.Tensor2D;
}

/**
 * The constant real matrices that compute a real 2-D DFT and its inverse with matrix products only
 * (tfjs has no differentiable FFT, runtime.md): the transfer matrices of a `k × k` kernel over the
 * half spectrum (with the centring shift ⌊(k − 1)/2⌋ of Trockman & Kolter's `fft_shift_matrix`), the
 * real DFT along the width, the complex DFT along the height on stacked `[re; im]`, and their inverses
 * (the inverse along the width carries the half-spectrum weights and 1/(h·w)).
 *
 * Ownership: the six tensors are created with `tf.keep` (they survive an enclosing `tf.tidy`) and are
 * owned by the caller, who disposes them.
 *
 * @throws nothing itself; sizes must be positive integers with k ≤ h, w.
 * @example
 * ```ts
 * const dft = realDftMatrices(16, 16, 3); // dft.kernelCos: [16·9, 9]
 * ```
 * @see A. Trockman, J. Z. Kolter, "Orthogonalizing Convolutional Layers with the Cayley Transform", ICLR 2021.
 */
export function realDftMatrices(h: number, w: number, k: number): RealDftMatrices {
  const wh = halfWidth(w);
  const frequencies = h * wh;
  const angle = (m: number, n: number) => (2 * Math.PI * (((m % n) + n) % n)) / n;
  const s = Math.floor((k - 1) / 2);
  const kc = new Float32Array(frequencies * k * k);
  const ks = new Float32Array(frequencies * k * k);
  for (let p = 0; p < h; p++) {
    for (let q = 0; q < wh; q++) {
      for (let a = 0; a < k; a++) {
        for (let b = 0; b < k; b++) {
          const theta = angle(p * (a - s), h) + angle(q * (b - s), w);
          kc[(p * wh + q) * k * k + a * k + b] = Math.cos(theta);
          ks[(p * wh + q) * k * k + a * k + b] = Math.sin(theta);
        }
      }
    }
  }
  const fw = new Float32Array(2 * wh * w);
  const iw = new Float32Array(w * 2 * wh);
  for (let q = 0; q < wh; q++) {
    const weight = halfSpectrumWeight(q, w) / (h * w);
    for (let x = 0; x < w; x++) {
      const c = Math.cos(angle(q * x, w));
      const sn = Math.sin(angle(q * x, w));
      fw[q * w + x] = c;
      fw[(wh + q) * w + x] = -sn;
      iw[x * 2 * wh + q] = weight * c;
      iw[x * 2 * wh + wh + q] = -weight * sn;
    }
  }
  const fh = new Float32Array(4 * h * h);
  const ih = new Float32Array(4 * h * h);
  const n2 = 2 * h;
  for (let p = 0; p < h; p++) {
    for (let y = 0; y < h; y++) {
      const c = Math.cos(angle(p * y, h));
      const sn = Math.sin(angle(p * y, h));
      // forward: re = c·Ar + s·Ai, im = −s·Ar + c·Ai
      fh[p * n2 + y] = c;
      fh[p * n2 + h + y] = sn;
      fh[(h + p) * n2 + y] = -sn;
      fh[(h + p) * n2 + h + y] = c;
      // inverse: re = c·Yr − s·Yi, im = s·Yr + c·Yi (rows indexed by position y, columns by p)
      ih[y * n2 + p] = c;
      ih[y * n2 + h + p] = -sn;
      ih[(h + y) * n2 + p] = sn;
      ih[(h + y) * n2 + h + p] = c;
    }
  }
  // tf.keep: built e.g. at a layer's first apply, possibly inside a caller's tf.tidy; the caller owns them.
  const constant = (values: Float32Array, shape: [number, number]) => tf.keep(tf.tensor2d(values, shape));
  return {
    h,
    w,
    wh,
    frequencies,
    kernelCos: constant(kc, [frequencies, k * k]),
    kernelSin: constant(ks, [frequencies, k * k]),
    forwardW: constant(fw, [2 * wh, w]),
    forwardH: constant(fh, [n2, n2]),
    inverseH: constant(ih, [n2, n2]),
    inverseW: constant(iw, [w, 2 * wh]),
  };
}

/**
 * The full `h × w` HWIO kernel (float64, host) of the circular convolution (export convention: ⌊h/2⌋,
 * ⌊w/2⌋ rows/columns wrapped before) whose transfer matrices are `M(p, q) = mr + i·mi` (`cin × cout`,
 * half spectrum, frequency p·wh + q): `K[a, b] = (1/hw) Σ_{p,q} Re(M(p,q) e^{−2πi(p(a − ⌊h/2⌋)/h + q(b − ⌊w/2⌋)/w)})`,
 * separably. O(h·w·(h + w)·cin·cout).
 *
 * Ownership: `mr`, `mi` are read; returns a new array.
 *
 * @example
 * ```ts
 * const kernel = kernelFromHalfSpectrum(mr, mi, 16, 16, 4, 4); // [16, 16, 4, 4] HWIO, row-major
 * ```
 * @see A. V. Oppenheim, R. W. Schafer, *Discrete-Time Signal Processing*, 3rd ed., §8.5 (DFT of real signals).
 */
export function kernelFromHalfSpectrum(mr: ArrayLike<number>, mi: ArrayLike<number>, h: number, w: number, cin: number, cout: number): Float64Array {
  const wh = halfWidth(w);
  const cc = cin * cout;
  const th = Math.floor(h / 2);
  const tw = Math.floor(w / 2);
  const angle = (m: number, n: number) => (2 * Math.PI * (((m % n) + n) % n)) / n;
  // Stage 1 (width): P[p, b] = Σ_q weight(q) M(p, q) e^{−iχ}, χ = 2π q (b − tw)/w.
  const pr = new Float64Array(h * w * cc);
  const pi = new Float64Array(h * w * cc);
  for (let q = 0; q < wh; q++) {
    const weight = halfSpectrumWeight(q, w);
    for (let b = 0; b < w; b++) {
      const c = weight * Math.cos(angle(q * (b - tw), w));
      const s = weight * Math.sin(angle(q * (b - tw), w));
      for (let p = 0; p < h; p++) {
        const src = (p * wh + q) * cc;
        const dst = (p * w + b) * cc;
        for (let j = 0; j < cc; j++) {
          const r = mr[src + j];
          const i = mi[src + j];
          pr[dst + j] += r * c + i * s;
          pi[dst + j] += i * c - r * s;
        }
      }
    }
  }
  // Stage 2 (height): K[a, b] = (1/hw) Σ_p Re(P[p, b] e^{−iψ}), ψ = 2π p (a − th)/h.
  const out = new Float64Array(h * w * cc);
  const scale = 1 / (h * w);
  for (let p = 0; p < h; p++) {
    for (let a = 0; a < h; a++) {
      const c = scale * Math.cos(angle(p * (a - th), h));
      const s = scale * Math.sin(angle(p * (a - th), h));
      for (let b = 0; b < w; b++) {
        const src = (p * w + b) * cc;
        const dst = (a * w + b) * cc;
        for (let j = 0; j < cc; j++) out[dst + j] += pr[src + j] * c + pi[src + j] * s;
      }
    }
  }
  return out;
}
