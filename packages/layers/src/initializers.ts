import type { SeededRandom } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { choleskyQr2, orthonormalizeColumns } from '@lipschitz/linalg';

/**
 * A random `rows × cols` matrix with orthonormal columns (rows ≥ cols) or rows (rows < cols), times
 * `gain`, as PyTorch's `nn.init.orthogonal_`: the Q factor of the QR decomposition of a standard
 * normal matrix with diag(R) > 0 (Haar distributed). Computed on the host in float64 by modified
 * Gram–Schmidt (`orthonormalizeColumns` of `@lipschitz/linalg`: 2mn² flops; its loss of orthogonality,
 * ~1e-16·cond(A) ≤ ~1e-12 for Gaussian matrices, is far below the float32 result's precision);
 * row-major values.
 */
export function orthogonalMatrix(rows: number, cols: number, gain: number, rng: SeededRandom): Float32Array {
  const m = Math.max(rows, cols);
  const n = Math.min(rows, cols);
  // n column vectors of length m, each contiguous.
  const q = new Float64Array(m * n);
  for (let i = 0; i < m * n; i++) q[i] = rng.normal();
  orthonormalizeColumns(q, m, n);
  return rowMajor(q, rows, cols, gain);
}

/** `gain` times the `rows × cols` row-major matrix of `n` orthonormal columns `q` (their transpose when wide). */
function rowMajor(q: Float64Array, rows: number, cols: number, gain: number): Float32Array {
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const n = tall ? cols : rows;
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

/** Backends whose synchronous `dataSync` is a plain memory read (CPU, wasm, tfjs-node). */
export const SYNC_READ_BACKENDS: ReadonlySet<string> = new Set(['cpu', 'wasm', 'tensorflow']);

/**
 * {@link orthogonalMatrix} as a `[rows, cols]` tensor. For clearly tall (or wide) matrices
 * (max ≥ 2·min, e.g. the 3136 × 512 dense layer) the Q factor is computed on the backend by
 * CholeskyQR2 (`choleskyQr2` of `@lipschitz/linalg`: two backend matrix products, the n × n Cholesky in
 * float64 on the host), which for these well-conditioned Gaussian matrices (cond ≤ ~6) is orthonormal
 * to float32 precision. Other shapes, or a failed Cholesky, use the host path.
 *
 * Host readback: `choleskyQr2` reads two n × n Gram matrices back with `dataSync`. This is allowed here
 * because it runs at construction time only (layer constructors are synchronous), never in a step — and
 * only on the backends in {@link SYNC_READ_BACKENDS}. Elsewhere (WebGPU, WebGL) the Q factor of the same
 * Gaussian matrix is computed on the host (`orthonormalizeColumns`: the same matrix up to float32
 * rounding): a synchronous read there stalls the GPU, and tfjs-backend-webgpu's, which copies through a
 * canvas, lost the device on SwiftShader and broke training in the browser (issue 17).
 */
export function orthogonalTensor(rows: number, cols: number, gain: number, rng: SeededRandom): tf.Tensor2D {
  const m = Math.max(rows, cols);
  const n = Math.min(rows, cols);
  if (m < 2 * n || m * n * n < 1e7) return tf.tensor2d(orthogonalMatrix(rows, cols, gain, rng), [rows, cols]);
  const gaussian = new Float32Array(m * n);
  for (let i = 0; i < gaussian.length; i++) gaussian[i] = rng.normal();
  if (!SYNC_READ_BACKENDS.has(tf.getBackend())) {
    const columns = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) columns[j * m + i] = gaussian[i * n + j];
    orthonormalizeColumns(columns, m, n);
    return tf.tensor2d(rowMajor(columns, rows, cols, gain), [rows, cols]);
  }
  const a = tf.tensor2d(gaussian, [m, n]);
  const q = choleskyQr2(a);
  a.dispose();
  if (q === null) return tf.tensor2d(orthogonalMatrix(rows, cols, gain, rng), [rows, cols]);
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
