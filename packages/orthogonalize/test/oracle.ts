import { singularValuesOracle } from '@lipschitz/test-utils';
import type * as tf from '@tensorflow/tfjs-core';

/** Singular values of every matrix in the last two axes (host float64 oracle; wide ones transposed first). */
export async function batchSingularValues(t: tf.Tensor): Promise<number[][]> {
  const rows = t.shape[t.rank - 2];
  const cols = t.shape[t.rank - 1];
  const data = await t.data();
  const out: number[][] = [];
  for (let b = 0; b < data.length / (rows * cols); b++) {
    const m = data.subarray(b * rows * cols, (b + 1) * rows * cols);
    const tr = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) tr[j * rows + i] = m[i * cols + j];
    out.push(rows >= cols ? singularValuesOracle(m, rows, cols) : singularValuesOracle(tr, cols, rows));
  }
  return out;
}

/** max |σ − 1| over every matrix. */
export function maxDeviationFromOne(svs: number[][]): number {
  return Math.max(...svs.flat().map((s) => Math.abs(s - 1)));
}
