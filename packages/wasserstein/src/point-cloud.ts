import { LipschitzError } from '@lipschitz/core';

/** A set of `count` points in `dim` dimensions, row-major (`points[i * dim + k]`). */
export interface PointCloud {
  points: ArrayLike<number>;
  count: number;
  dim: number;
}

/** Validates a {@link PointCloud} and returns it; `fn` and `name` go into the error message. */
export function checkPointCloud(fn: string, name: string, cloud: PointCloud): PointCloud {
  if (!cloud || !Number.isInteger(cloud.count) || !Number.isInteger(cloud.dim) || cloud.count < 1 || cloud.dim < 1) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: ${name} must have integer count >= 1 and dim >= 1.`);
  }
  if (cloud.points.length !== cloud.count * cloud.dim) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: ${name} has ${cloud.points.length} values but count × dim = ${cloud.count} × ${cloud.dim} = ${cloud.count * cloud.dim}.`,
    );
  }
  return cloud;
}

/** Row-major `a.count × b.count` matrix of Euclidean distances `‖a_i − b_j‖₂` in float64. */
export function euclideanCostMatrix(a: PointCloud, b: PointCloud): Float64Array {
  if (a.dim !== b.dim) {
    throw new LipschitzError('SHAPE_MISMATCH', `euclideanCostMatrix: the sets have dimensions ${a.dim} and ${b.dim}; they must match.`);
  }
  const { dim } = a;
  const cost = new Float64Array(a.count * b.count);
  for (let i = 0; i < a.count; i++) {
    const ai = i * dim;
    for (let j = 0; j < b.count; j++) {
      const bj = j * dim;
      let sum = 0;
      for (let k = 0; k < dim; k++) {
        const d = a.points[ai + k] - b.points[bj + k];
        sum += d * d;
      }
      cost[i * b.count + j] = Math.sqrt(sum);
    }
  }
  return cost;
}
