import { singularValuesOracle } from '@lipschitz/test-utils';
import type * as tf from '@tensorflow/tfjs-core';

/** Singular values of every matrix in the last two axes (host float64 oracle, any shape). */
export async function batchSingularValues(t: tf.Tensor): Promise<number[][]> {
  const rows = t.shape[t.rank - 2];
  const cols = t.shape[t.rank - 1];
  const data = await t.data();
  const out: number[][] = [];
  for (let b = 0; b < data.length / (rows * cols); b++) {
    const m = data.subarray(b * rows * cols, (b + 1) * rows * cols);
    out.push(singularValuesOracle(m, rows, cols));
  }
  return out;
}

/** max |σ − 1| over every matrix. */
export function maxDeviationFromOne(svs: number[][]): number {
  return Math.max(...svs.flat().map((s) => Math.abs(s - 1)));
}
