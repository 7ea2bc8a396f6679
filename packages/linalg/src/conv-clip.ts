import { LipschitzError, assertPositiveInteger, assertPositiveNumber } from '@lipschitz/core';
import { hermitianEigen } from './hermitian-eigen';
import { hermitianGram } from './host-svd';
import { halfSpectrumWeight, halfWidth } from './real-dft';

/**
 * `g(G)` for a Hermitian `n × n` matrix `G = gr + i·gi` (row-major) and a scalar function `g` of its
 * eigenvalues: `I + Σ_k (g(λ_k) − 1) w_k w_kᴴ` over the eigenpairs with `g(λ_k) ≠ 1`. Returns null when
 * `g(λ) = 1` for every eigenvalue.
 */
function hermitianFunction(gr: Float64Array, gi: Float64Array, n: number, g: (lambda: number) => number): { re: Float64Array; im: Float64Array } | null {
  const { values, vr, vi } = hermitianEigen(gr, gi, n);
  const active: number[] = [];
  for (let k = 0; k < n; k++) if (g(values[k]) !== 1) active.push(k);
  if (active.length === 0) return null;
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  for (let i = 0; i < n; i++) re[i * n + i] = 1;
  for (const k of active) {
    const c = g(values[k]) - 1;
    for (let i = 0; i < n; i++) {
      const wir = vr[i * n + k];
      const wii = vi[i * n + k];
      for (let j = 0; j < n; j++) {
        // w_i conj(w_j)
        const wjr = vr[j * n + k];
        const wji = vi[j * n + k];
        re[i * n + j] += c * (wir * wjr + wii * wji);
        im[i * n + j] += c * (wii * wjr - wir * wji);
      }
    }
  }
  return { re, im };
}

/**
 * True when the Hermitian `n × n` matrix `G = gr + i·gi` satisfies `G ≺ limit·I`, i.e. the complex
 * Cholesky factorisation of `limit·I − G` succeeds with positive pivots (about n³/3 complex
 * multiply-adds: far cheaper than an eigen-decomposition, so frequencies that need no clipping are
 * skipped). A false answer only means "decompose and check".
 */
function belowScaledIdentity(gr: Float64Array, gi: Float64Array, n: number, limit: number): boolean {
  const lr = new Float64Array(n * n);
  const li = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = limit - gr[j * n + j];
    for (let k = 0; k < j; k++) d -= lr[j * n + k] * lr[j * n + k] + li[j * n + k] * li[j * n + k];
    if (!(d > 0)) return false;
    const root = Math.sqrt(d);
    lr[j * n + j] = root;
    for (let i = j + 1; i < n; i++) {
      // L[i][j] = (H[i][j] − Σ_k L[i][k] conj(L[j][k])) / L[j][j], with H = limit·I − G
      let sr = -gr[i * n + j];
      let si = -gi[i * n + j];
      for (let k = 0; k < j; k++) {
        const ar = lr[i * n + k];
        const ai = li[i * n + k];
        const br = lr[j * n + k];
        const bi = li[j * n + k];
        sr -= ar * br + ai * bi;
        si -= ai * br - ar * bi;
      }
      lr[i * n + j] = sr / root;
      li[i * n + j] = si / root;
    }
  }
  return true;
}

/**
 * Clips the singular values of the complex `rows × cols` matrix `M = mr + i·mi` (row-major, updated in
 * place) to at most `clipTo`: `M ← M · g(MᴴM)` (or `g(MMᴴ) · M` when rows < cols) with
 * `g(λ) = min(1, clipTo / √λ)`, which equals `U · min(Σ, clipTo) · Vᴴ` for the SVD `M = UΣVᴴ`.
 * Returns false when nothing had to be clipped.
 */
function clipComplexMatrix(mr: Float64Array, mi: Float64Array, rows: number, cols: number, clipTo: number): boolean {
  const right = rows >= cols; // Gram of the smaller side: MᴴM, or MMᴴ when rows < cols
  const { gramRe: gr, gramIm: gi, n } = hermitianGram(mr, mi, rows, cols);
  const limit = clipTo * clipTo;
  // Gershgorin: λ_max(G) ≤ max_i Σ_j |G_ij|; nothing to clip when that is ≤ clipTo².
  let gershgorin = 0;
  for (let i = 0; i < n; i++) {
    let row = 0;
    for (let j = 0; j < n; j++) row += Math.hypot(gr[i * n + j], gi[i * n + j]);
    if (row > gershgorin) gershgorin = row;
  }
  if (gershgorin <= limit) return false;
  if (belowScaledIdentity(gr, gi, n, limit)) return false;
  const g = hermitianFunction(gr, gi, n, (lambda) => (lambda > limit ? clipTo / Math.sqrt(lambda) : 1));
  if (g === null) return false;
  const outR = new Float64Array(rows * cols);
  const outI = new Float64Array(rows * cols);
  if (right) {
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        let sr = 0;
        let si = 0;
        for (let k = 0; k < cols; k++) {
          const ar = mr[r * cols + k];
          const ai = mi[r * cols + k];
          const br = g.re[k * n + j];
          const bi = g.im[k * n + j];
          sr += ar * br - ai * bi;
          si += ar * bi + ai * br;
        }
        outR[r * cols + j] = sr;
        outI[r * cols + j] = si;
      }
    }
  } else {
    for (let i = 0; i < rows; i++) {
      for (let c = 0; c < cols; c++) {
        let sr = 0;
        let si = 0;
        for (let k = 0; k < rows; k++) {
          const ar = g.re[i * n + k];
          const ai = g.im[i * n + k];
          const br = mr[k * cols + c];
          const bi = mi[k * cols + c];
          sr += ar * br - ai * bi;
          si += ar * bi + ai * br;
        }
        outR[i * cols + c] = sr;
        outI[i * cols + c] = si;
      }
    }
  }
  mr.set(outR);
  mi.set(outI);
  return true;
}

/** cos / sin of 2π((f·t) mod n)/n for the frequencies f < `count` and taps t < `taps` (entry f·taps + t). */
function phaseTable(n: number, count: number, taps: number): { cos: Float64Array; sin: Float64Array } {
  const cos = new Float64Array(count * taps);
  const sin = new Float64Array(count * taps);
  for (let f = 0; f < count; f++) {
    for (let t = 0; t < taps; t++) {
      cos[f * taps + t] = Math.cos((2 * Math.PI * ((f * t) % n)) / n);
      sin[f * taps + t] = Math.sin((2 * Math.PI * ((f * t) % n)) / n);
    }
  }
  return { cos, sin };
}

/** Options of {@link clipConvSingularValues}. */
export interface ClipConvOptions {
  /** Largest singular value allowed (default 1). */
  clipTo?: number;
  /** Rounds of clip-then-truncate (default 1; the reference's SVCM uses 50). */
  rounds?: number;
}

/**
 * Sedghi et al.'s projection of a convolution kernel towards the set of convolutions with spectral
 * norm ≤ `clipTo`, in float64 on the host. One round: the 2-D DFT of the HWIO kernel zero-embedded at
 * the input size `[h, w]` gives one `cin × cout` complex matrix per frequency; each has its singular
 * values clipped to ≤ `clipTo` (`U·min(Σ, clipTo)·Vᴴ`); the inverse DFT (real part) is truncated
 * back to the `kh × kw` support. The truncation makes one round inexact, hence `rounds` repetitions
 * (the result may still exceed `clipTo` slightly: check it with `convSpectralNorm`).
 *
 * Conjugate-symmetric frequencies are processed once (half spectrum), and only the `kh·kw` kept taps
 * of the inverse DFT are computed. Cost per round: O(h·w·(kh·kw·cin·cout + min(cin,cout)³)).
 *
 * Ownership: `kernel` is read, never kept; returns a new float64 HWIO kernel.
 *
 * @param kernel HWIO values `[kh, kw, cin, cout]`, row-major.
 * @throws LipschitzError `INVALID_ARGUMENT` (sizes, options), `SHAPE_MISMATCH` (length), 
 *   `UNSUPPORTED_CONFIGURATION` (kernel larger than the input), `NUMERICAL_ERROR` (NaN/Infinity).
 * @example
 * ```ts
 * const clipped = clipConvSingularValues(await w.data(), [3, 3, 16, 16], [14, 14], { rounds: 50 });
 * ```
 * @see H. Sedghi, V. Gupta, P. M. Long, "The Singular Values of Convolutional Layers", ICLR 2019
 *   (Algorithm 2, `Clip_OperatorNorm`); LConvNet `svcm.py` (reference-bcop.md §4, SVCM).
 */
export function clipConvSingularValues(
  kernel: ArrayLike<number>,
  kernelShape: readonly [number, number, number, number],
  inputSize: readonly [number, number],
  options: ClipConvOptions = {},
): Float64Array {
  const fn = 'clipConvSingularValues';
  const [kh, kw, cin, cout] = kernelShape;
  for (const [i, d] of kernelShape.entries()) assertPositiveInteger(fn, `kernelShape[${i}]`, d);
  assertPositiveInteger(fn, 'inputSize[0]', inputSize[0]);
  assertPositiveInteger(fn, 'inputSize[1]', inputSize[1]);
  const clipTo = options.clipTo ?? 1;
  const rounds = options.rounds ?? 1;
  assertPositiveNumber(fn, 'clipTo', clipTo);
  assertPositiveInteger(fn, 'rounds', rounds);
  const size = kh * kw * cin * cout;
  if (kernel.length !== size) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: kernel has ${kernel.length} values but shape [${kernelShape.join(', ')}] needs ${size}.`);
  }
  const [h, w] = inputSize;
  if (kh > h || kw > w) {
    throw new LipschitzError('UNSUPPORTED_CONFIGURATION', `${fn}: the kernel (${kh}×${kw}) must not be larger than the input (${h}×${w}).`);
  }
  const k = Float64Array.from(kernel);
  for (let i = 0; i < size; i++) {
    if (!Number.isFinite(k[i])) throw new LipschitzError('NUMERICAL_ERROR', `${fn}: kernel has a NaN or infinite value at index ${i}.`);
  }
  const wh = halfWidth(w);
  const cc = cin * cout;
  // Phases θ(p, q; a, b) = 2π(pa/h + qb/w) for the kept taps.
  const { cos: cosA, sin: sinA } = phaseTable(h, h, kh);
  const { cos: cosB, sin: sinB } = phaseTable(w, wh, kw);
  const mr = new Float64Array(cc);
  const mi = new Float64Array(cc);
  const next = new Float64Array(size);
  const tapCos = new Float64Array(kh * kw);
  const tapSin = new Float64Array(kh * kw);
  for (let round = 0; round < rounds; round++) {
    next.fill(0);
    let changed = false;
    for (let p = 0; p < h; p++) {
      for (let q = 0; q < wh; q++) {
        // cos θ, sin θ of the kept taps at this frequency
        for (let a = 0; a < kh; a++) {
          for (let b = 0; b < kw; b++) {
            const ca = cosA[p * kh + a];
            const sa = sinA[p * kh + a];
            const cb = cosB[q * kw + b];
            const sb = sinB[q * kw + b];
            tapCos[a * kw + b] = ca * cb - sa * sb;
            tapSin[a * kw + b] = sa * cb + ca * sb;
          }
        }
        // M(p, q) = Σ_{a,b} K[a, b] e^{iθ}
        mr.fill(0);
        mi.fill(0);
        for (let t = 0; t < kh * kw; t++) {
          const c = tapCos[t];
          const s = tapSin[t];
          const base = t * cc;
          for (let j = 0; j < cc; j++) {
            const v = k[base + j];
            mr[j] += v * c;
            mi[j] += v * s;
          }
        }
        if (clipComplexMatrix(mr, mi, cin, cout, clipTo)) changed = true;
        // K'[a, b] += weight/(h·w) · Re(M e^{−iθ}) = weight/(h·w) · (Mr cos θ + Mi sin θ)
        const scale = halfSpectrumWeight(q, w) / (h * w);
        for (let t = 0; t < kh * kw; t++) {
          const c = tapCos[t] * scale;
          const s = tapSin[t] * scale;
          const base = t * cc;
          for (let j = 0; j < cc; j++) next[base + j] += mr[j] * c + mi[j] * s;
        }
      }
    }
    if (!changed) break;
    k.set(next);
  }
  return k;
}
