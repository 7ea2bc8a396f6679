import { denseMatrixOf, singularValuesOracle } from '@lipschitz/test-utils';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * Test helper: exact singular values (descending, float64) of the linear map `f` on NHWC inputs of
 * `inputShape`, from its impulse-response matrix. Wide matrices are transposed first (the test-utils
 * oracle runs ml-matrix's SVD without autoTranspose, which assumes rows ≥ cols).
 * @internal
 */
export async function mapSingularValues(f: (x: tf.Tensor) => tf.Tensor, inputShape: number[]): Promise<number[]> {
  const { values, rows, cols } = await denseMatrixOf(f, inputShape);
  if (rows >= cols) return singularValuesOracle(values, rows, cols);
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = values[i * cols + j];
  return singularValuesOracle(t, cols, rows);
}
