import { denseMatrixOf, singularValuesOracle } from '@lipschitz/test-utils';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * Test helper: exact singular values (descending, float64) of the linear map `f` on NHWC inputs of
 * `inputShape`, from its impulse-response matrix (any shape: the test-utils oracle handles wide ones).
 * @internal
 */
export async function mapSingularValues(f: (x: tf.Tensor) => tf.Tensor, inputShape: number[]): Promise<number[]> {
  const { values, rows, cols } = await denseMatrixOf(f, inputShape);
  return singularValuesOracle(values, rows, cols);
}
