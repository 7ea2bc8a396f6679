import type { SeededRandom } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * A random `rows × cols` matrix with orthonormal columns (rows ≥ cols) or rows (rows < cols), times
 * `gain`, as PyTorch's `nn.init.orthogonal_`: the Q factor of the QR decomposition of a standard
 * normal matrix with diag(R) > 0 (Haar distributed). Computed on the host in float64 by modified
 * Gram–Schmidt (2mn² flops; its loss of orthogonality, ~1e-16·cond(A) ≤ ~1e-12 for Gaussian
 * matrices, is far below the float32 result's precision); row-major values.
 */
export function orthogonalMatrix(rows: number, cols: number, gain: number, rng: SeededRandom): Float32Array {
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const n = tall ? cols : rows;
  // n column vectors of length m, each contiguous.
  const q = new Float64Array(m * n);
  for (let i = 0; i < m * n; i++) q[i] = rng.normal();
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
  const out = new Float32Array(rows * cols);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) {
      const v = gain * q[j * m + i];
      if (tall) out[i * cols + j] = v;
      else out[j * cols + i] = v;
    }
  }
  return out;
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
 * {@link orthogonalMatrix} as a `[rows, cols]` tensor. For clearly tall (or wide) matrices
 * (max ≥ 2·min, e.g. the 3136 × 512 dense layer) the Q factor is computed on the backend by
 * CholeskyQR2 — `Q ← A (Lᵀ)⁻¹` with `AᵀA = L Lᵀ`, twice, the n × n Cholesky in float64 on the host —
 * which is exact in exact arithmetic (R has a positive diagonal, as PyTorch's sign-corrected QR) and,
 * for these well-conditioned Gaussian matrices (cond ≤ ~6), orthonormal to float32 precision; it
 * costs two backend matrix products instead of 2mn² host flops. Other shapes use the host path.
 * Reads two n × n Gram matrices back from the backend (construction time only).
 */
export function orthogonalTensor(rows: number, cols: number, gain: number, rng: SeededRandom): tf.Tensor2D {
  const m = Math.max(rows, cols);
  const n = Math.min(rows, cols);
  if (m < 2 * n || m * n * n < 1e7) return tf.tensor2d(orthogonalMatrix(rows, cols, gain, rng), [rows, cols]);
  const gaussian = new Float32Array(m * n);
  for (let i = 0; i < gaussian.length; i++) gaussian[i] = rng.normal();
  let a: tf.Tensor2D = tf.tensor2d(gaussian, [m, n]);
  for (let pass = 0; pass < 2; pass++) {
    const current = a;
    const gram = tf.tidy(() => tf.matMul(tf.transpose(current), current));
    const inv = choleskyInverse(gram.dataSync(), n);
    gram.dispose();
    if (inv === null) {
      current.dispose();
      return tf.tensor2d(orthogonalMatrix(rows, cols, gain, rng), [rows, cols]);
    }
    // Q = A (Lᵀ)⁻¹ = A (L⁻¹)ᵀ
    a = tf.tidy(() => tf.matMul(current, tf.transpose(tf.tensor2d(Float32Array.from(inv), [n, n]))));
    current.dispose();
  }
  const q = a;
  const out = tf.tidy(() => {
    const scaled = tf.mul(q, gain) as tf.Tensor2D;
    return rows >= cols ? scaled : (tf.transpose(scaled) as tf.Tensor2D);
  });
  q.dispose();
  return out;
}

/** A float32 tensor of `shape` with values uniform in [−limit, limit) from `rng`. */
export function uniformTensor(shape: number[], limit: number, rng: SeededRandom): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = (2 * rng.uniform() - 1) * limit;
  return tf.tensor(values, shape, 'float32');
}
