import { prepareBackend } from '@lipschitz/backends';
import { type ExportedLayer, type ExportedModel, MODEL_FORMAT, SeededRandom, encodeTensor } from '../packages/core/src/index';
import { measure, writeBenchResult } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
import { exportedForward, networkLipschitzUpperBound, validateExportedModel } from '@lipschitz/model-format';
// The root package does not depend on @lipschitz/certify, so import its sources.
import { certifyExportedModel, pgdAttack } from '../packages/certify/src/index';

// The paper's MNIST-Small shape with random weights: unshuffle2 → conv k2 4→16 @14 → MaxMin →
// unshuffle2 → conv k2 64→32 @7 → MaxMin → flatten 1568 → dense 100 → MaxMin → dense 10.
function small(): ExportedModel {
  const rng = new SeededRandom(0);
  const t = (shape: number[], std: number) => encodeTensor(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * std));
  const layers: ExportedLayer[] = [
    { type: 'invertibleDownsample', factor: 2 },
    { type: 'conv2d', padding: 'circular', kernel: t([2, 2, 4, 16], 0.25), bias: t([16], 0.01) },
    { type: 'maxMin' },
    { type: 'invertibleDownsample', factor: 2 },
    { type: 'conv2d', padding: 'circular', kernel: t([2, 2, 64, 32], 0.06), bias: t([32], 0.01) },
    { type: 'maxMin' },
    { type: 'flatten' },
    { type: 'dense', weight: t([1568, 100], 0.025), bias: t([100], 0.01) },
    { type: 'maxMin' },
    { type: 'dense', weight: t([100, 10], 0.1), bias: t([10], 0.01) },
  ];
  return { format: MODEL_FORMAT, input: { shape: [28, 28, 1], range: [0, 1] }, layers, lipschitzUpperBound: 0 };
}

test('certify throughput: certify 100 images and PGD-200 on MNIST-Small (random weights), wasm', async () => {
  await prepareBackend('wasm');
  const model = small();
  const forward = exportedForward(validateExportedModel(model));
  const n = 100;
  const images = tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', 1);
  const labels = tf.tidy(() => tf.cast(tf.argMax(forward.predict(images), 1), 'int32')) as tf.Tensor1D;

  // certification = bound (host float64) + forward pass + margins; baseline: the plain forward pass
  const forwardOnly = await measure(() => forward.predict(images), { warmup: 1, repeats: 5 });
  const bound = await measure(() => networkLipschitzUpperBound(model), { warmup: 1, repeats: 3 });
  const certifyAll = await measure(() => certifyExportedModel(model, images, labels, { epsilons: [1.58, 0.3], batchSize: 100 }), { warmup: 1, repeats: 3 });

  // PGD-200 on 20 images; baseline: 200 plain input-gradient steps of the cross-entropy on the same batch
  const x = tf.slice(images, 0, 20);
  const y = tf.slice(labels, 0, 20);
  const mask = tf.tidy(() => tf.cast(tf.oneHot(y, 10), 'float32'));
  const plainSteps = async () => {
    let adv = tf.clone(x);
    const g = tf.grad((a: tf.Tensor) => tf.losses.softmaxCrossEntropy(mask, forward.predict(a)));
    for (let s = 0; s < 200; s++) {
      const next = tf.tidy(() => tf.clipByValue(tf.add(adv, tf.mul(tf.sign(g(adv)), 0.001)), 0, 1));
      adv.dispose();
      adv = next;
    }
    return adv;
  };
  const baselinePgd = await measure(plainSteps, { warmup: 1, repeats: 3 });
  const pgd = await measure(() => pgdAttack(forward.predict, x, y, { epsilon: 1.58, steps: 200, batchSize: 20 }), { warmup: 1, repeats: 3 });

  const file = writeBenchResult('certify-throughput', {
    model: 'MNIST-Small shape, random weights (exported lipschitz-model/1, private plain-ops runner)',
    certify: {
      images: n,
      forwardOnlyMedianMs: forwardOnly.medianMs,
      boundMedianMs: bound.medianMs,
      certifyExportedModelMedianMs: certifyAll.medianMs,
      ratioCertifyToForward: certifyAll.medianMs / forwardOnly.medianMs,
      imagesPerSecond: (n / certifyAll.medianMs) * 1000,
    },
    pgd200: {
      images: 20,
      baselinePlainGradientStepsMedianMs: baselinePgd.medianMs,
      pgdAttackMedianMs: pgd.medianMs,
      ratioPgdToBaseline: pgd.medianMs / baselinePgd.medianMs,
      msPerImageStep: pgd.medianMs / (20 * 200),
    },
  });
  console.log(`wrote ${file}`);
  forward.dispose();
  tf.dispose([images, labels, x, y, mask]);
});
