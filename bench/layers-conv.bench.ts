// @lipschitz/layers convolutions against a plain tf.conv2d of the same shape, in the same run, on wasm:
// forward + backward (gradients w.r.t. the input and every trainable variable; "training") and the
// frozen forward (cached kernels; "inference"). Shapes are the paper's: MNIST-Small conv2 (4×4 stride 2,
// 16 → 32 at 14×14, i.e. a 2×2 BCOP 64 → 32 at 7×7) and MNIST-Large conv3 (3×3, 32 → 64 at 14×14).
// Also one Adam step of the whole MNIST-Small network with BCOP (reference Björck and FAST_POLAR) vs
// the same architecture with plain layers.
import { prepareBackend } from '@lipschitz/backends';
import { measure, writeBenchResult } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
// The root package does not depend on @lipschitz/layers, so import the sources.
import { FAST_POLAR } from '../packages/orthogonalize/src/index';
import {
  type LayerModule,
  bcopConv2d,
  cayleyConv2d,
  ossnConv2d,
  plainConv2d,
  rkoConv2d,
  smallConvNet,
  svcmConv2d,
} from '../packages/layers/src/index';

const BATCH = 64;
const round = (v: number) => Math.round(v * 100) / 100;

const SHAPES = [
  { name: 'small-conv2 4x4 s2 16->32 @14', inChannels: 16, outChannels: 32, kernelSize: 4, stride: 2, size: 14 },
  { name: 'large-conv3 3x3 32->64 @14', inChannels: 32, outChannels: 64, kernelSize: 3, stride: 1, size: 14 },
];

test('layers: conv fwd+bwd and frozen forward vs plain tf.conv2d (wasm)', async () => {
  await prepareBackend('wasm');
  const options = { warmup: 1, repeats: 5 };
  const rows: Record<string, unknown>[] = [];
  for (const s of SHAPES) {
    const out = s.size / s.stride;
    const x = tf.variable(tf.randomNormal([BATCH, s.size, s.size, s.inChannels], 0, 1, 'float32', 1), true);
    const dy = tf.randomNormal([BATCH, out, out, s.outChannels], 0, 1, 'float32', 2);
    const w = tf.variable(tf.randomNormal([s.kernelSize, s.kernelSize, s.inChannels, s.outChannels], 0, 0.1, 'float32', 3), true);
    const fwdBwd = (f: () => tf.Tensor, vars: tf.Variable[]) => () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(f(), dy)) as tf.Scalar, vars);
      return [value, ...Object.values(grads)];
    };
    const plainConv = () => tf.conv2d(x as tf.Tensor4D, w as unknown as tf.Tensor4D, s.stride, 'same');
    const plainTrain = await measure(fwdBwd(plainConv, [x, w]), options);
    const plainForward = await measure(plainConv, options);
    const row: Record<string, unknown> = { shape: s.name, batch: BATCH, plainConvFwdBwdMs: round(plainTrain.medianMs), plainConvForwardMs: round(plainForward.medianMs) };
    const conv = { inChannels: s.inChannels, outChannels: s.outChannels, kernelSize: s.kernelSize, stride: s.stride, inputSize: [s.size, s.size] as [number, number] };
    const layers: [string, LayerModule][] = [
      ['bcop', bcopConv2d(conv)],
      ['bcopFastPolar', bcopConv2d({ ...conv, orthogonalizer: FAST_POLAR })],
      ['rko', rkoConv2d(conv)],
      ['ossn', ossnConv2d(conv)],
      ['svcm', svcmConv2d(conv)],
      ['cayley', cayleyConv2d(conv)],
      ['plainCircular', plainConv2d(conv)],
    ];
    for (const [name, layer] of layers) {
      const train = await measure(fwdBwd(() => layer.apply(x), [x, ...layer.trainableVariables]), options);
      layer.freeze();
      const inference = await measure(() => layer.apply(x), options);
      layer.unfreeze();
      row[`${name}FwdBwdMs`] = round(train.medianMs);
      row[`${name}OverPlainFwdBwd`] = round(train.medianMs / plainTrain.medianMs);
      row[`${name}FrozenForwardMs`] = round(inference.medianMs);
      row[`${name}FrozenOverPlainForward`] = round(inference.medianMs / plainForward.medianMs);
      layer.dispose();
    }
    rows.push(row);
    tf.dispose([x, dy, w]);
  }

  // One Adam step of the whole MNIST-Small network, batch 64.
  const images = tf.randomUniform([BATCH, 28, 28, 1], 0, 1, 'float32', 4);
  const labels = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32', 5), 10);
  const steps: Record<string, number> = {};
  for (const [name, make] of [
    ['plain', () => smallConvNet({ conv: 'plain', inputShape: [28, 28, 1] })],
    ['bcop', () => smallConvNet({ conv: 'bcop', inputShape: [28, 28, 1] })],
    ['bcopFastPolar', () => smallConvNet({ conv: 'bcop', inputShape: [28, 28, 1], orthogonalizer: FAST_POLAR })],
  ] as const) {
    const model = make();
    const optimizer = tf.train.adam(1e-3);
    const step = await measure(
      () => optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.apply(images)) as tf.Scalar, true, model.trainableVariables),
      { warmup: 1, repeats: 5 },
    );
    model.freeze();
    const inference = await measure(() => model.apply(images), { warmup: 1, repeats: 5 });
    steps[`${name}StepMs`] = round(step.medianMs);
    steps[`${name}FrozenForwardMs`] = round(inference.medianMs);
    model.dispose();
    optimizer.dispose();
  }
  steps.bcopOverPlainStep = round(steps.bcopStepMs / steps.plainStepMs);
  steps.bcopFastPolarOverPlainStep = round(steps.bcopFastPolarStepMs / steps.plainStepMs);
  steps.bcopFrozenOverPlainFrozen = round(steps.bcopFrozenForwardMs / steps.plainFrozenForwardMs);
  tf.dispose([images, labels]);

  writeBenchResult('layers-conv', {
    description:
      'Median ms on wasm, same run. rows: forward+backward (dx and every trainable variable) of each @lipschitz/layers conv vs tf.conv2d "same" with the same kernel size and stride (zero padding), and the frozen (cached-kernel) forward vs the plain forward; *Over* = ratios. Strided layers are invertible downsampling + a k/s circular conv, as the reference. bcop uses the reference Björck (20 iterations), bcopFastPolar the polar-express schedule. smallNet: one Adam step and one frozen forward of MNIST-Small (batch 64) with BCOP vs plain layers.',
    rows,
    smallNet: steps,
  });
});
