/**
 * Test fixtures with known singular values and polar factors, built on the host in float64 from
 * Householder reflections (independent of the code under test).
 */

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

/** An n×n orthogonal matrix (row-major): a product of two Householder reflections. */
export function orthogonalMatrix(n: number, seed: number): Float64Array {
  const rand = lcg(seed);
  const reflect = () => {
    const v = Array.from({ length: n }, rand);
    const norm = Math.hypot(...v);
    const h = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j] = (i === j ? 1 : 0) - (2 * v[i] * v[j]) / norm ** 2;
    return h;
  };
  const a = reflect();
  const b = reflect();
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) out[i * n + j] += a[i * n + k] * b[k * n + j];
  return out;
}

/**
 * `A = U diag(σ) Vᵀ` (rows × cols, row-major) with `σ` given (length min(rows, cols)) and its polar
 * factor `U Vᵀ` (the limit of Björck).
 */
export function knownMatrix(rows: number, cols: number, sigmas: number[], seed: number): { values: Float32Array; polar: Float64Array } {
  const r = Math.min(rows, cols);
  if (sigmas.length !== r) throw new Error('knownMatrix: need min(rows, cols) singular values');
  const u = orthogonalMatrix(rows, seed);
  const v = orthogonalMatrix(cols, seed + 7919);
  const values = new Float32Array(rows * cols);
  const polar = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let a = 0;
      let p = 0;
      for (let k = 0; k < r; k++) {
        a += u[i * rows + k] * sigmas[k] * v[j * cols + k];
        p += u[i * rows + k] * v[j * cols + k];
      }
      values[i * cols + j] = a;
      polar[i * cols + j] = p;
    }
  }
  return { values, polar };
}

/** `count` singular values spread geometrically from `max` down to `max / cond`. */
export function geometricSigmas(count: number, max: number, cond: number): number[] {
  return Array.from({ length: count }, (_, i) => max * cond ** (-(count === 1 ? 0 : i / (count - 1))));
}

/** The scalar Björck map applied `iterations` times: σ ← (1+β)σ − βσ³ (float64). */
export function bjorckScalar(sigma: number, iterations: number, beta = 0.5): number {
  let s = sigma;
  for (let i = 0; i < iterations; i++) s = (1 + beta) * s - beta * s ** 3;
  return s;
}
