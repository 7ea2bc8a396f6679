// Overhead of @lipschitz/train's loop against a bare tfjs loop, measured in the same run on wasm:
// - baseline: for each batch, optimizer.minimize(...) and `await cost.data()` (a read per step), nothing else;
// - ours: train() for one epoch into a run directory: loss summed on the device and read every 10 steps,
//   afterStep, progress events, the epoch-0 and epoch-1 atomic checkpoints (capture + SHA-256 + fsync +
//   rename) and metrics.jsonl; no test set, so no evaluation.
// Also: one checkpoint alone (capture + atomic save) for the same model.
// Model: flatten → dense 784→256 → ReLU → dense 256→10 (@lipschitz/layers plain layers), MNIST-shaped
// synthetic images, 4096 examples, batch 128 (32 steps), the reference hinge loss (@lipschitz/certify).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareBackend } from '@lipschitz/backends';
import { multiMarginLoss } from '../packages/certify/src/index';
import { syntheticImages } from '../packages/datasets/src/index';
import { flatten, plainDense, relu, sequential } from '../packages/layers/src/index';
import { measure, type Timing, writeBenchResult } from '@lipschitz/test-utils';
import { captureCheckpoint, createOptimizer, openRunDirectory, shuffledBatches, train } from '../packages/train/src/index';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';

const round = (v: number) => Math.round(v * 100) / 100;
const summary = (t: Timing) => ({ medianMs: round(t.medianMs), minMs: round(t.minMs), samples: t.samples.length });

test('train: loop overhead vs a bare minimize loop', async () => {
  await prepareBackend('wasm');
  const set = syntheticImages({ count: 4096, height: 28, width: 28, channels: 1, numClasses: 10, seed: 0 });
  const model = sequential([flatten(), plainDense({ inputs: 784, outputs: 256, seed: 1 }), relu(), plainDense({ inputs: 256, outputs: 10, seed: 2 })]);
  const loss = (z: tf.Tensor, y: tf.Tensor) => multiMarginLoss(z, y, { epsilon: 1.5 });
  const work = mkdtempSync(join(tmpdir(), 'lipschitz-train-bench-'));
  try {
    const baseline = await measure(
      async () => {
        const optimizer = createOptimizer({ kind: 'adam' });
        for (const { x, y } of shuffledBatches(set, { batchSize: 128, shuffle: true, seed: 1 })) {
          const cost = optimizer.minimize(() => loss(model.apply(x), y), true, model.trainableVariables);
          await cost?.data();
          tf.dispose([cost as tf.Scalar, x, y]);
        }
        optimizer.dispose();
      },
      { warmup: 1, repeats: 5 },
    );
    const ours = await measure(
      () => train({ model, trainSet: set, loss, epochs: 1, runDir: join(work, 'run'), overwrite: true, seed: 1 }),
      { warmup: 1, repeats: 5 },
    );
    const store = await openRunDirectory(join(work, 'single'));
    const optimizer = createOptimizer({ kind: 'adam' });
    const [{ x, y }] = [...shuffledBatches(set, { batchSize: 128, limit: 128 })];
    optimizer.minimize(() => loss(model.apply(x), y), false, model.trainableVariables); // creates Adam's moments
    tf.dispose([x, y]);
    const checkpoint = await measure(async () => store.saveCheckpoint('latest', await captureCheckpoint(model, optimizer, { epoch: 1 })), {
      warmup: 1,
      repeats: 5,
    });
    optimizer.dispose();
    const parameters = model.trainableVariables.reduce((n, v) => n + v.size, 0);
    writeBenchResult('train-loop', {
      setup: { examples: 4096, batchSize: 128, stepsPerEpoch: 32, parameters, model: model.name },
      baselineBareLoopEpoch: summary(baseline),
      oursTrainEpochWithTwoCheckpoints: summary(ours),
      oneCheckpointCaptureAndAtomicSave: summary(checkpoint),
      ratioOursOverBaseline: round(ours.medianMs / baseline.medianMs),
      checkpointBytes: parameters * 3 * 4,
    });
  } finally {
    model.dispose();
    rmSync(work, { recursive: true, force: true });
  }
});
