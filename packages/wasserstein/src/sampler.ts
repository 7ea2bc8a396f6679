import { LipschitzError, type SeededRandom } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkPointCloud, type PointCloud } from './point-cloud';

/**
 * A source of samples: returns `count` samples as one tensor `[count, ...shape]` owned by the caller,
 * drawing any randomness from `rng` (so a seeded run is reproducible). Arrays of points, datasets and
 * generators are all samplers.
 */
export type Sampler = (count: number, rng: SeededRandom) => tf.Tensor;

/**
 * A sampler that draws rows of a point cloud uniformly at random with replacement, reshaped to
 * `[count, ...shape]` (default `[count, dim]`; e.g. `[28, 28, 1]` for images stored as rows).
 */
export function pointCloudSampler(cloud: PointCloud, shape: readonly number[] = [cloud.dim]): Sampler {
  checkPointCloud('pointCloudSampler', 'cloud', cloud);
  if (shape.reduce((a, b) => a * b, 1) !== cloud.dim) {
    throw new LipschitzError('SHAPE_MISMATCH', `pointCloudSampler: shape [${shape.join(', ')}] does not hold ${cloud.dim} values per point.`);
  }
  return (count, rng) => {
    const values = new Float32Array(count * cloud.dim);
    for (let n = 0; n < count; n++) {
      const row = rng.int(cloud.count) * cloud.dim;
      for (let k = 0; k < cloud.dim; k++) values[n * cloud.dim + k] = cloud.points[row + k];
    }
    return tf.tensor(values, [count, ...shape]);
  };
}

/** The rows `start .. start + count − 1` of a point cloud (a view, no copy). */
export function pointCloudRows(cloud: PointCloud, start: number, count: number): PointCloud {
  checkPointCloud('pointCloudRows', 'cloud', cloud);
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > cloud.count) {
    throw new LipschitzError('INVALID_ARGUMENT', `pointCloudRows: rows ${start}..${start + count - 1} are outside 0..${cloud.count - 1}.`);
  }
  const points = cloud.points as Float32Array | Float64Array;
  const view = typeof points.subarray === 'function' ? points.subarray(start * cloud.dim, (start + count) * cloud.dim) : Array.prototype.slice.call(points, start * cloud.dim, (start + count) * cloud.dim);
  return { points: view, count, dim: cloud.dim };
}
