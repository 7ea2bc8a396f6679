import { type LipschitzModule, SeededRandom, assertPositiveInteger } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkPointCloud, type PointCloud } from './point-cloud';
import type { Sampler } from './sampler';

async function meanOverRows(critic: LipschitzModule, cloud: PointCloud, shape: readonly number[], batchSize: number): Promise<number> {
  let total = 0;
  for (let start = 0; start < cloud.count; start += batchSize) {
    const count = Math.min(batchSize, cloud.count - start);
    const values = Float32Array.from({ length: count * cloud.dim }, (_, k) => cloud.points[start * cloud.dim + k]);
    const sum = tf.tidy(() => tf.sum(critic.apply(tf.tensor(values, [count, ...shape]))));
    total += (await sum.data())[0];
    sum.dispose();
  }
  return total / cloud.count;
}

/**
 * `mean_{x∈A} f(x) − mean_{y∈B} f(y)` for a critic f over every row of two point clouds (rows reshaped to
 * `shape`), in batches, with f's kernels frozen. For a critic whose Lipschitz constant is at most 1 this is
 * a lower bound on the exact empirical W1(A, B) (Kantorovich–Rubinstein duality).
 */
export async function criticGapOnPoints(
  critic: LipschitzModule,
  a: PointCloud,
  b: PointCloud,
  { shape = [a.dim], batchSize = 256 }: { shape?: readonly number[]; batchSize?: number } = {},
): Promise<number> {
  checkPointCloud('criticGapOnPoints', 'a', a);
  checkPointCloud('criticGapOnPoints', 'b', b);
  assertPositiveInteger('criticGapOnPoints', 'batchSize', batchSize);
  const wasFrozen = critic.frozen;
  critic.freeze();
  try {
    return (await meanOverRows(critic, a, shape, batchSize)) - (await meanOverRows(critic, b, shape, batchSize));
  } finally {
    if (!wasFrozen) critic.unfreeze();
  }
}

/**
 * The same gap estimated from fresh samples: `pairs` draws from each sampler (the reference evaluates
 * 100 batches × 64 = 6,400 pairs), with f's kernels frozen.
 */
export async function criticGapOnSamples(
  critic: LipschitzModule,
  p: Sampler,
  q: Sampler,
  { pairs = 6400, batchSize = 64, seed = 1 }: { pairs?: number; batchSize?: number; seed?: number } = {},
): Promise<number> {
  assertPositiveInteger('criticGapOnSamples', 'pairs', pairs);
  assertPositiveInteger('criticGapOnSamples', 'batchSize', batchSize);
  const rng = new SeededRandom(seed);
  const wasFrozen = critic.frozen;
  critic.freeze();
  try {
    let total = 0;
    for (let done = 0; done < pairs; done += batchSize) {
      const count = Math.min(batchSize, pairs - done);
      const xp = p(count, rng);
      const xq = q(count, rng);
      const gap = tf.tidy(() => tf.sub(tf.sum(critic.apply(xp)), tf.sum(critic.apply(xq))));
      xp.dispose();
      xq.dispose();
      total += (await gap.data())[0];
      gap.dispose();
    }
    return total / pairs;
  } finally {
    if (!wasFrozen) critic.unfreeze();
  }
}
