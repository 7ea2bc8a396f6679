import { LipschitzError, assertPositiveInteger, assertPositiveNumber } from '@lipschitz/core';

/**
 * Host float64 Fourier helpers of the OSSN / SVCM / Cayley layers: the half-spectrum frequency grid of a
 * real 2-D signal, the Hermitian eigen-decomposition used to clip singular values, and Sedghi et al.'s
 * singular-value clipping of a convolution kernel.
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

/**
 * Implicit QL on the symmetric tridiagonal matrix with diagonal `d` and sub-diagonal `e` (`e[i]` is
 * the entry (i, i − 1), `e[0]` ignored), accumulating the rotations into the row-major `n × n` matrix
 * `v` (EISPACK `tql2`, as in JAMA). On return `d` holds the eigenvalues and the columns of `v` (times
 * the initial `v`) the eigenvectors; `e` is destroyed.
 */
function tql2(d: Float64Array, e: Float64Array, v: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iterations = 0;
      do {
        if (++iterations > 60) {
          throw new LipschitzError('NUMERICAL_ERROR', 'symmetricEigen: the QL iteration did not converge (NaN or infinite input?).');
        }
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          for (let k = 0; k < n; k++) {
            const vk1 = v[k * n + i + 1];
            const vk = v[k * n + i];
            v[k * n + i + 1] = s * vk + c * vk1;
            v[k * n + i] = c * vk - s * vk1;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

/**
 * Eigen-decomposition of a Hermitian `n × n` matrix `G = gr + i·gi` (row-major, read) in float64:
 * complex Householder reduction to a Hermitian tridiagonal matrix, a diagonal unitary scaling that
 * makes it real, then {@link tql2}. Returns the eigenvalues and the eigenvectors as the columns of the
 * complex `n × n` matrix `vr + i·vi` (row-major). About 4× cheaper than decomposing the 2n × 2n real
 * embedding (Golub & Van Loan, *Matrix Computations*, 4th ed., §8.3.1).
 * @internal
 */
export function hermitianEigen(gr: ArrayLike<number>, gi: ArrayLike<number>, n: number): { values: Float64Array; vr: Float64Array; vi: Float64Array } {
  const ar = Float64Array.from(gr);
  const ai = Float64Array.from(gi);
  const reflectors: { start: number; ur: Float64Array; ui: Float64Array }[] = [];
  const pr = new Float64Array(n);
  const pi = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    const start = k + 1;
    const m = n - start;
    let norm2 = 0;
    for (let i = start; i < n; i++) norm2 += ar[i * n + k] ** 2 + ai[i * n + k] ** 2;
    const x0r = ar[start * n + k];
    const x0i = ai[start * n + k];
    const x0 = Math.hypot(x0r, x0i);
    const below = norm2 - x0 * x0;
    if (below <= 1e-300 * Math.max(norm2, 1e-300)) continue; // already tridiagonal in this column
    const norm = Math.sqrt(norm2);
    // α = −e^{i·arg x0}‖x‖, u = x − α e1 (normalised): H = I − 2uuᴴ maps x to α e1.
    const phaseR = x0 > 0 ? x0r / x0 : 1;
    const phaseI = x0 > 0 ? x0i / x0 : 0;
    const ur = new Float64Array(m);
    const ui = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      ur[i] = ar[(start + i) * n + k];
      ui[i] = ai[(start + i) * n + k];
    }
    ur[0] += phaseR * norm;
    ui[0] += phaseI * norm;
    let un = 0;
    for (let i = 0; i < m; i++) un += ur[i] * ur[i] + ui[i] * ui[i];
    un = Math.sqrt(un);
    for (let i = 0; i < m; i++) {
      ur[i] /= un;
      ui[i] /= un;
    }
    // Column k / row k: x → α e1.
    const alphaR = -phaseR * norm;
    const alphaI = -phaseI * norm;
    for (let i = start; i < n; i++) {
      ar[i * n + k] = 0;
      ai[i * n + k] = 0;
      ar[k * n + i] = 0;
      ai[k * n + i] = 0;
    }
    ar[start * n + k] = alphaR;
    ai[start * n + k] = alphaI;
    ar[k * n + start] = alphaR;
    ai[k * n + start] = -alphaI;
    // Trailing block B ← H B H = B − 2u wᴴ − 2w uᴴ, p = B u, K = uᴴ p (real), w = p − K u.
    let kk = 0;
    for (let i = 0; i < m; i++) {
      let sr = 0;
      let si = 0;
      const row = (start + i) * n + start;
      for (let j = 0; j < m; j++) {
        const br = ar[row + j];
        const bi = ai[row + j];
        sr += br * ur[j] - bi * ui[j];
        si += br * ui[j] + bi * ur[j];
      }
      pr[i] = sr;
      pi[i] = si;
      kk += ur[i] * sr + ui[i] * si; // Re(conj(u_i) p_i)
    }
    for (let i = 0; i < m; i++) {
      pr[i] -= kk * ur[i];
      pi[i] -= kk * ui[i];
    }
    for (let i = 0; i < m; i++) {
      const row = (start + i) * n + start;
      for (let j = 0; j < m; j++) {
        // 2(u_i conj(w_j) + w_i conj(u_j))
        const re = ur[i] * pr[j] + ui[i] * pi[j] + pr[i] * ur[j] + pi[i] * ui[j];
        const im = ui[i] * pr[j] - ur[i] * pi[j] + pi[i] * ur[j] - pr[i] * ui[j];
        ar[row + j] -= 2 * re;
        ai[row + j] -= 2 * im;
      }
    }
    reflectors.push({ start, ur, ui });
  }
  // Tridiagonal T: diagonal d, sub-diagonal t_j = T[j + 1][j] (complex). D = diag(δ) makes DᴴTD real.
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const deltaR = new Float64Array(n);
  const deltaI = new Float64Array(n);
  deltaR[0] = 1;
  for (let j = 0; j < n; j++) d[j] = ar[j * n + j];
  for (let j = 0; j + 1 < n; j++) {
    const tr = ar[(j + 1) * n + j];
    const ti = ai[(j + 1) * n + j];
    const mod = Math.hypot(tr, ti);
    e[j + 1] = mod;
    const cr = mod > 0 ? tr / mod : 1;
    const ci = mod > 0 ? ti / mod : 0;
    deltaR[j + 1] = deltaR[j] * cr - deltaI[j] * ci;
    deltaI[j + 1] = deltaR[j] * ci + deltaI[j] * cr;
  }
  const z = new Float64Array(n * n);
  for (let i = 0; i < n; i++) z[i * n + i] = 1;
  tql2(d, e, z, n);
  // Eigenvectors W = Q D Z, Q = H_0 H_1 ⋯ (applied right to left).
  const vr = new Float64Array(n * n);
  const vi = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      vr[i * n + j] = deltaR[i] * z[i * n + j];
      vi[i * n + j] = deltaI[i] * z[i * n + j];
    }
  }
  for (let r = reflectors.length - 1; r >= 0; r--) {
    const { start, ur, ui } = reflectors[r];
    const m = n - start;
    for (let j = 0; j < n; j++) {
      // s = uᴴ X[:, j]
      let sr = 0;
      let si = 0;
      for (let i = 0; i < m; i++) {
        const xr = vr[(start + i) * n + j];
        const xi = vi[(start + i) * n + j];
        sr += ur[i] * xr + ui[i] * xi;
        si += ur[i] * xi - ui[i] * xr;
      }
      for (let i = 0; i < m; i++) {
        vr[(start + i) * n + j] -= 2 * (ur[i] * sr - ui[i] * si);
        vi[(start + i) * n + j] -= 2 * (ur[i] * si + ui[i] * sr);
      }
    }
  }
  return { values: d, vr, vi };
}

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
  const right = rows >= cols; // Gram of the smaller side
  const n = right ? cols : rows;
  const gr = new Float64Array(n * n);
  const gi = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let sr = 0;
      let si = 0;
      if (right) {
        // (MᴴM)[i][j] = Σ_r conj(M[r][i]) M[r][j]
        for (let r = 0; r < rows; r++) {
          const ar = mr[r * cols + i];
          const ai = mi[r * cols + i];
          const br = mr[r * cols + j];
          const bi = mi[r * cols + j];
          sr += ar * br + ai * bi;
          si += ar * bi - ai * br;
        }
      } else {
        // (MMᴴ)[i][j] = Σ_c M[i][c] conj(M[j][c])
        for (let c = 0; c < cols; c++) {
          const ar = mr[i * cols + c];
          const ai = mi[i * cols + c];
          const br = mr[j * cols + c];
          const bi = mi[j * cols + c];
          sr += ar * br + ai * bi;
          si += ai * br - ar * bi;
        }
      }
      gr[i * n + j] = sr;
      gi[i * n + j] = si;
      gr[j * n + i] = sr;
      gi[j * n + i] = -si;
    }
  }
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
  const cosA = new Float64Array(h * kh);
  const sinA = new Float64Array(h * kh);
  for (let p = 0; p < h; p++) {
    for (let a = 0; a < kh; a++) {
      cosA[p * kh + a] = Math.cos((2 * Math.PI * ((p * a) % h)) / h);
      sinA[p * kh + a] = Math.sin((2 * Math.PI * ((p * a) % h)) / h);
    }
  }
  const cosB = new Float64Array(wh * kw);
  const sinB = new Float64Array(wh * kw);
  for (let q = 0; q < wh; q++) {
    for (let b = 0; b < kw; b++) {
      cosB[q * kw + b] = Math.cos((2 * Math.PI * ((q * b) % w)) / w);
      sinB[q * kw + b] = Math.sin((2 * Math.PI * ((q * b) % w)) / w);
    }
  }
  const mr = new Float64Array(cc);
  const mi = new Float64Array(cc);
  const next = new Float64Array(size);
  for (let round = 0; round < rounds; round++) {
    next.fill(0);
    let changed = false;
    for (let p = 0; p < h; p++) {
      for (let q = 0; q < wh; q++) {
        // M(p, q) = Σ_{a,b} K[a, b] e^{iθ}
        mr.fill(0);
        mi.fill(0);
        for (let a = 0; a < kh; a++) {
          for (let b = 0; b < kw; b++) {
            const ca = cosA[p * kh + a];
            const sa = sinA[p * kh + a];
            const cb = cosB[q * kw + b];
            const sb = sinB[q * kw + b];
            const c = ca * cb - sa * sb;
            const s = sa * cb + ca * sb;
            const base = (a * kw + b) * cc;
            for (let j = 0; j < cc; j++) {
              const v = k[base + j];
              mr[j] += v * c;
              mi[j] += v * s;
            }
          }
        }
        if (clipComplexMatrix(mr, mi, cin, cout, clipTo)) changed = true;
        // K'[a, b] += weight/(h·w) · Re(M e^{−iθ}) = weight/(h·w) · (Mr cos θ + Mi sin θ)
        const scale = halfSpectrumWeight(q, w) / (h * w);
        for (let a = 0; a < kh; a++) {
          for (let b = 0; b < kw; b++) {
            const ca = cosA[p * kh + a];
            const sa = sinA[p * kh + a];
            const cb = cosB[q * kw + b];
            const sb = sinB[q * kw + b];
            const c = (ca * cb - sa * sb) * scale;
            const s = (sa * cb + ca * sb) * scale;
            const base = (a * kw + b) * cc;
            for (let j = 0; j < cc; j++) next[base + j] += mr[j] * c + mi[j] * s;
          }
        }
      }
    }
    if (!changed) break;
    k.set(next);
  }
  return k;
}
