import { decodeTensor } from '@lipschitz/core';
import { convSingularValues, singularValues } from '@lipschitz/linalg';
import { seededNormal, seededUniform } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import type { Sequential } from '../../src/index';

/**
 * Adam steps (lr 1e-2: a larger drift off the manifold than the paper's 1e-3) on a fixed synthetic batch of 16
 * inputs of `inputShape` regressed onto 10 seeded targets, each followed by `model.afterStep` unless told not to.
 */
export async function trainSynthetic(model: Sequential, inputShape: readonly number[], steps: number, afterStep = true): Promise<void> {
  const x = seededUniform([16, ...inputShape], 1);
  const target = seededNormal([16, 10], 2);
  const optimizer = tf.train.adam(1e-2);
  for (let step = 1; step <= steps; step++) {
    tf.tidy(() => {
      optimizer.minimize(() => tf.mean(tf.square(tf.sub(model.apply(x), target))) as tf.Scalar, false, model.trainableVariables);
    });
    if (afterStep) await model.afterStep(step);
  }
  optimizer.dispose();
  tf.dispose([x, target]);
}

/**
 * max |σ − 1| over the exact (float64, host) singular values of every linear layer of the exported model:
 * circular convs by per-frequency SVD at their input size, dense weights by SVD; the conv at position
 * `rkoIndex` (an RKO layer) by its kernel matrix ×k (its reshaped Björck matrix, whose conv is not tight by design).
 */
export async function maxSingularValueDeviation(model: Sequential, inputShape: [number, number, number], rkoIndex = 2): Promise<{ layer: string; deviation: number }[]> {
  const out: { layer: string; deviation: number }[] = [];
  let size: [number, number] = [inputShape[0], inputShape[1]];
  let index = 0;
  for (const l of await model.exportLayers(inputShape)) {
    let s: Float64Array | null = null;
    if (l.type === 'invertibleDownsample') size = [size[0] / l.factor, size[1] / l.factor];
    else if (l.type === 'conv2d') {
      const k = decodeTensor(l.kernel);
      const [kh, kw, cin, cout] = k.shape;
      s = index === rkoIndex ? singularValues(Float64Array.from(k.values, (v) => v * kh), kh * kw * cin, cout) : convSingularValues(k.values, k.shape, size);
      index++;
    } else if (l.type === 'dense') {
      const w = decodeTensor(l.weight);
      s = singularValues(w.values, w.shape[0], w.shape[1]);
    }
    if (s) out.push({ layer: l.type, deviation: Math.max(...Array.from(s, (v) => Math.abs(v - 1))) });
  }
  return out;
}
