import { LipschitzError } from '@lipschitz/core';

/**
 * The one Hermitian eigensolver of the project (host, float64): Householder reduction of a Hermitian
 * `n × n` matrix to a real symmetric tridiagonal one (a diagonal unitary similarity drops the phases of
 * the sub-diagonal), then implicit QL with Wilkinson shifts. {@link hermitianEigenvalues} (certificates,
 * `complexSingularValues`) skips the eigenvectors; {@link hermitianEigen} (singular-value clipping)
 * accumulates them with the same arithmetic on the eigenvalues.
 */

/** One Householder reflector `H = I − τ v vᴴ` acting on rows/columns `start … n − 1`. */
interface Reflector {
  start: number;
  tau: number;
  vr: Float64Array;
  vi: Float64Array;
}

/** The real tridiagonal form `DᴴQᴴ A Q D` of a Hermitian matrix: diagonal, off-diagonal and (optionally) Q, D. */
interface HermitianTridiagonal {
  d: Float64Array;
  /** `e[i]` couples `i` and `i + 1` (`e[n − 1]` unused). */
  e: Float64Array;
  /** With vectors: Q = H₀H₁⋯ (applied right to left) and the phases δ of D = diag(δ). */
  reflectors: Reflector[];
  deltaR: Float64Array;
  deltaI: Float64Array;
}

function tridiagonalize(reIn: ArrayLike<number>, imIn: ArrayLike<number>, n: number, withVectors: boolean): HermitianTridiagonal {
  const ar = Float64Array.from(reIn);
  const ai = Float64Array.from(imIn);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const vr = new Float64Array(n);
  const vi = new Float64Array(n);
  const pr = new Float64Array(n);
  const pi = new Float64Array(n);
  const reflectors: Reflector[] = [];
  // Sub-diagonal entries t_k = T[k + 1][k] of the complex tridiagonal T (only with vectors).
  const tr = new Float64Array(withVectors ? n : 0);
  const ti = new Float64Array(withVectors ? n : 0);
  for (let k = 0; k < n - 1; k++) {
    d[k] = ar[k * n + k];
    const s = k + 1; // the trailing block is rows/cols s..n-1
    let norm2 = 0;
    for (let j = s; j < n; j++) norm2 += ar[j * n + k] ** 2 + ai[j * n + k] ** 2;
    const alpha = Math.sqrt(norm2);
    e[k] = alpha;
    if (alpha === 0 || s === n - 1) {
      // nothing to annihilate: the sub-diagonal entry stays as it is
      if (withVectors) {
        tr[k] = ar[s * n + k];
        ti[k] = ai[s * n + k];
      }
      continue;
    }
    const x0r = ar[s * n + k];
    const x0i = ai[s * n + k];
    const x0 = Math.hypot(x0r, x0i);
    const phr = x0 === 0 ? 1 : x0r / x0;
    const phi = x0 === 0 ? 0 : x0i / x0;
    // v = x + phase·alpha·e_1 ; H = I − τ v vᴴ with τ = 2 / vᴴv = 1 / (alpha (alpha + |x0|)); H x = −phase·alpha·e_1.
    for (let j = s; j < n; j++) {
      vr[j] = ar[j * n + k];
      vi[j] = ai[j * n + k];
    }
    vr[s] += phr * alpha;
    vi[s] += phi * alpha;
    const tau = 1 / (alpha * (alpha + x0));
    if (withVectors) {
      tr[k] = -phr * alpha;
      ti[k] = -phi * alpha;
      reflectors.push({ start: s, tau, vr: vr.slice(s), vi: vi.slice(s) });
    }
    // p = τ A v over the trailing block; vᴴ p is real.
    let vhp = 0;
    for (let j = s; j < n; j++) {
      let sr = 0;
      let si = 0;
      const row = j * n;
      for (let c = s; c < n; c++) {
        const a = ar[row + c];
        const b = ai[row + c];
        sr += a * vr[c] - b * vi[c];
        si += a * vi[c] + b * vr[c];
      }
      pr[j] = tau * sr;
      pi[j] = tau * si;
      vhp += vr[j] * pr[j] + vi[j] * pi[j];
    }
    const half = 0.5 * tau * vhp;
    for (let j = s; j < n; j++) {
      pr[j] -= half * vr[j];
      pi[j] -= half * vi[j];
    }
    // A ← A − q vᴴ − v qᴴ on the trailing block (q stored in p).
    for (let j = s; j < n; j++) {
      const row = j * n;
      const qjr = pr[j];
      const qji = pi[j];
      const vjr = vr[j];
      const vji = vi[j];
      for (let c = s; c < n; c++) {
        // q_j conj(v_c) + v_j conj(q_c)
        ar[row + c] -= qjr * vr[c] + qji * vi[c] + vjr * pr[c] + vji * pi[c];
        ai[row + c] -= qji * vr[c] - qjr * vi[c] + vji * pr[c] - vjr * pi[c];
      }
    }
  }
  d[n - 1] = ar[(n - 1) * n + (n - 1)];
  e[n - 1] = 0;
  // D = diag(δ), δ₀ = 1, δ_{k+1} = δ_k t_k / |t_k|: then (DᴴTD)[k + 1][k] = |t_k| = e[k], real.
  const deltaR = new Float64Array(withVectors ? n : 0);
  const deltaI = new Float64Array(withVectors ? n : 0);
  if (withVectors && n > 0) {
    deltaR[0] = 1;
    for (let k = 0; k + 1 < n; k++) {
      const mod = Math.hypot(tr[k], ti[k]);
      const cr = mod > 0 ? tr[k] / mod : 1;
      const ci = mod > 0 ? ti[k] / mod : 0;
      deltaR[k + 1] = deltaR[k] * cr - deltaI[k] * ci;
      deltaI[k + 1] = deltaR[k] * ci + deltaI[k] * cr;
    }
  }
  return { d, e, reflectors, deltaR, deltaI };
}

/**
 * @internal Eigenvalues of the real symmetric tridiagonal matrix with diagonal `d` and off-diagonal `e`
 * (`e[i]` couples `i` and `i + 1`; `e[n − 1]` unused) by implicit QL with Wilkinson shifts
 * (Numerical Recipes `tqli`). Overwrites and returns `d`; `e` is destroyed. With `z` (row-major
 * `n × n`, e.g. the identity) the rotations are accumulated into its columns: on return column k of
 * `z` (times the initial `z`) is the eigenvector of `d[k]`. The eigenvalues do not depend on `z`.
 */
export function tridiagonalEigenvalues(d: Float64Array, e: Float64Array, z?: Float64Array): Float64Array {
  const n = d.length;
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
      }
      if (m === l) break;
      if (iterations++ === 100) {
        throw new LipschitzError('NUMERICAL_ERROR', 'hermitianEigenvalues: the QL iteration did not converge. Check the input for extreme values.');
      }
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] -= p;
          e[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (z) {
          for (let k = 0; k < n; k++) {
            const zk1 = z[k * n + i + 1];
            const zk = z[k * n + i];
            z[k * n + i + 1] = s * zk + c * zk1;
            z[k * n + i] = c * zk - s * zk1;
          }
        }
      }
      if (underflow) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return d;
}

/**
 * @internal Eigenvalues (unordered) of a Hermitian n×n matrix `A = re + i·im` (row-major, full storage).
 * Householder reduction to a real symmetric tridiagonal matrix (the sub-diagonal's phases are dropped:
 * a diagonal unitary similarity), then implicit QL with Wilkinson shifts. O(n³), no eigenvectors.
 */
export function hermitianEigenvalues(reIn: ArrayLike<number>, imIn: ArrayLike<number>, n: number): Float64Array {
  const { d, e } = tridiagonalize(reIn, imIn, n, false);
  return tridiagonalEigenvalues(d, e);
}

/**
 * @internal Eigen-decomposition of a Hermitian `n × n` matrix `G = gr + i·gi` (row-major, read) in
 * float64: the reduction of {@link hermitianEigenvalues} with its reflectors and phases kept, implicit
 * QL accumulating the rotations, then the back-transformation `W = Q D Z`. Returns the eigenvalues
 * (unordered) and the eigenvectors as the columns of the complex `n × n` matrix `vr + i·vi`
 * (row-major). About 4× cheaper than decomposing the 2n × 2n real embedding.
 * @see G. H. Golub, C. F. Van Loan, *Matrix Computations*, 4th ed., §8.3.1 (Householder
 *   tridiagonalisation), §8.3.3 (implicit QL/QR with Wilkinson shifts).
 */
export function hermitianEigen(gr: ArrayLike<number>, gi: ArrayLike<number>, n: number): { values: Float64Array; vr: Float64Array; vi: Float64Array } {
  const { d, e, reflectors, deltaR, deltaI } = tridiagonalize(gr, gi, n, true);
  const z = new Float64Array(n * n);
  for (let i = 0; i < n; i++) z[i * n + i] = 1;
  tridiagonalEigenvalues(d, e, z);
  // W = Q D Z with Q = H₀H₁⋯: X = D Z, then the reflectors from the last to the first.
  const vr = new Float64Array(n * n);
  const vi = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      vr[i * n + j] = deltaR[i] * z[i * n + j];
      vi[i * n + j] = deltaI[i] * z[i * n + j];
    }
  }
  for (let r = reflectors.length - 1; r >= 0; r--) {
    const { start, tau, vr: ur, vi: ui } = reflectors[r];
    const m = n - start;
    for (let j = 0; j < n; j++) {
      // X[:, j] −= τ v (vᴴ X[:, j])
      let sr = 0;
      let si = 0;
      for (let i = 0; i < m; i++) {
        const xr = vr[(start + i) * n + j];
        const xi = vi[(start + i) * n + j];
        sr += ur[i] * xr + ui[i] * xi;
        si += ur[i] * xi - ui[i] * xr;
      }
      sr *= tau;
      si *= tau;
      for (let i = 0; i < m; i++) {
        vr[(start + i) * n + j] -= ur[i] * sr - ui[i] * si;
        vi[(start + i) * n + j] -= ur[i] * si + ui[i] * sr;
      }
    }
  }
  return { values: d, vr, vi };
}
