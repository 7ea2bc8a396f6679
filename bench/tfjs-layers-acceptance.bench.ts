// Acceptance run of @lipschitz/tfjs-layers (issue 19): the paper's MNIST-Small BCOP network built with
// tf.sequential from @lipschitz/tfjs-layers, trained for one epoch with model.fit on all 60,000 MNIST
// training images under the protocol of `robustness train --preset quick` (wasm with the training kernels
// of @lipschitz/backends, Adam at the epoch-1 rate of the reference schedule 1e-3·0.96235062639, β 0.9/0.999,
// ε 1e-8, batch 128, the hinge loss with ε = 1.5, the same seeds per layer, and the same data order: the
// training set is put in the order @lipschitz/train's shuffledBatches draws for epoch 1 of seed 0 — the
// permutation of SeededRandom(SeededRandom(0).nextUint32()) — and fit with shuffle: false, so every batch is
// the same as in the robustness run), then certified on the 10,000 test images at ε = 1.58 and 0.3 with
// lipschitzUpperBound/certify of the package. Set LIPSCHITZ_TFJS_SHUFFLE=1 to let model.fit shuffle instead
// (another data order: after one epoch certified@1.58 varies by ±2.5 points across orders, README.md).
// Compare with `node apps/robustness/dist/cli.js train --preset quick --out DIR` (its DIR/metrics.jsonl):
// set LIPSCHITZ_ROBUSTNESS_RUN=DIR to put that run's epoch-1 numbers into the result file.
// Writes bench/results/tfjs-layers-acceptance.json (tfjs-layers-acceptance-tfjs-shuffle.json with the shuffle knob). Takes several minutes (≈ one `robustness train` epoch).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareBackend } from '@lipschitz/backends';
import { mnist } from '@lipschitz/datasets';
import { SeededRandom } from '@lipschitz/core';
import { writeBenchResult } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { test } from 'vitest';
import { bcopConv2d, bjorckDense, certify, lipschitzCallback, maxMin, multiClassHinge } from '@lipschitz/tfjs-layers';

const LR = 1e-3 * 0.96235062639;
/** The environment knob naming a `robustness train` run directory to compare with. */
const RUN_KNOB = 'LIPSCHITZ_ROBUSTNESS_RUN';
/** The environment knob that lets model.fit shuffle (another data order) instead of replaying the robustness run's. */
const SHUFFLE_KNOB = 'LIPSCHITZ_TFJS_SHUFFLE';

/** The training images and labels in the order of `robustness train`'s first epoch (seed 0), or as stored. */
function epochOneOrder(set: { images: Float32Array; labels: Int32Array; count: number }, replay: boolean): { images: Float32Array; labels: Int32Array } {
  if (!replay) return set;
  const order = new SeededRandom(new SeededRandom(0).nextUint32()).permutation(set.count);
  const pixels = set.images.length / set.count;
  const images = new Float32Array(set.images.length);
  const labels = new Int32Array(set.count);
  for (let i = 0; i < set.count; i++) {
    images.set(set.images.subarray(order[i] * pixels, (order[i] + 1) * pixels), i * pixels);
    labels[i] = set.labels[order[i]];
  }
  return { images, labels };
}

/** Epoch-1 numbers of a `robustness train` run directory, when LIPSCHITZ_ROBUSTNESS_RUN names one. */
function robustnessRun(): Record<string, unknown> | null {
  const dir = process.env[RUN_KNOB];
  if (!dir || !existsSync(join(dir, 'metrics.jsonl'))) return null;
  const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number });
  const epoch1 = lines.find((m) => m.epoch === 1);
  return epoch1 ? { dir, ...epoch1 } : null;
}

test('tfjs-layers: 1-epoch MNIST-Small BCOP with model.fit, certified', async () => {
  const backend = await prepareBackend('wasm');
  const { train, test: testSet } = await mnist();
  const model = tfl.sequential();
  model.add(bcopConv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 4, strides: 2, seed: 0 }));
  model.add(maxMin());
  model.add(bcopConv2d({ filters: 32, kernelSize: 4, strides: 2, seed: 1000 }));
  model.add(maxMin());
  model.add(tfl.layers.flatten());
  model.add(bjorckDense({ units: 100, seed: 2000 }));
  model.add(maxMin());
  model.add(bjorckDense({ units: 10, seed: 3000 }));
  const parameters = model.countParams();
  model.compile({ optimizer: tf.train.adam(LR, 0.9, 0.999, 1e-8), loss: multiClassHinge({ epsilon: 1.5 }) });
  const shuffle = process.env[SHUFFLE_KNOB] === '1';
  const ordered = epochOneOrder(train, !shuffle);
  const x = tf.tensor4d(ordered.images, [train.count, 28, 28, 1]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(ordered.labels, 'int32'), 10));
  const start = performance.now();
  const history = await model.fit(x, y, { epochs: 1, batchSize: 128, shuffle, callbacks: [lipschitzCallback()], verbose: 0 });
  const fitMs = performance.now() - start;
  tf.dispose([x, y]);
  const xTest = tf.tensor4d(testSet.images, [testSet.count, 28, 28, 1]);
  const labels = tf.tensor1d(testSet.labels, 'int32');
  const certStart = performance.now();
  // The rule of @lipschitz/train's evaluation (margin > √2·ε·L), so both runs are certified alike.
  const result = await certify(model, xTest, labels, [1.58, 0.3], { floatErrorModel: 'assume-relative-1e-5' });
  const certifyMs = performance.now() - certStart;
  tf.dispose([xTest, labels]);
  const file = writeBenchResult(shuffle ? 'tfjs-layers-acceptance-tfjs-shuffle' : 'tfjs-layers-acceptance', {
    setup: { backend: backend.backend, model: 'mnist-small-bcop (tf.sequential)', parameters, epochs: 1, batchSize: 128, lr: LR, lossEpsilon: 1.5, trainCount: train.count, testCount: testSet.count, dataOrder: shuffle ? 'model.fit shuffle' : 'robustness train epoch 1 (seed 0)' },
    tfjsLayers: {
      trainLoss: history.history.loss[0],
      clean: result.clean,
      certified: result.certified,
      floatErrorModel: result.floatErrorModel,
      lipschitzUpperBound: result.lipschitzUpperBound,
      fitMs: Math.round(fitMs),
      certifyMs: Math.round(certifyMs),
    },
    robustnessTrain: robustnessRun(),
  });
  process.stderr.write(
    `tfjs-layers: clean ${(100 * result.clean).toFixed(2)}%, certified@1.58 ${(100 * result.certified['1.58']).toFixed(2)}%, ` +
      `certified@0.3 ${(100 * result.certified['0.3']).toFixed(2)}%, L ${result.lipschitzUpperBound}, fit ${(fitMs / 1000).toFixed(0)} s → ${file}\n`,
  );
  model.dispose();
});
