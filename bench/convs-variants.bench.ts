// OSSN, SVCM and Cayley convolutions (@lipschitz/layers) against a plain tf.conv2d of the same shape,
// all forward + backward (gradients w.r.t. the input and every trainable variable) on wasm in the same
// run, at batch 64 on 14×14 maps, k = 3, cin = cout ∈ {16, 32}. Also: the frozen (inference) forward of
// each layer, and the cost of one SVCM projection (50 rounds of Sedghi clipping on the host).
import { prepareBackend } from '@lipschitz/backends';
import { measure, writeBenchResult } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
// The root package does not depend on @lipschitz/layers / blockconv, so import their sources.
import { circularConv2d } from '../packages/blockconv/src/index';
import { cayleyConv2d } from '../packages/layers/src/cayley-conv2d';
import type { LayerModule } from '../packages/layers/src/layer-base';
import { ossnConv2d } from '../packages/layers/src/ossn-conv2d';
import { svcmConv2d } from '../packages/layers/src/svcm-conv2d';

const BATCH = 64;
const SIZE = 14;
const KERNEL = 3;
const CHANNELS = [16, 32];

const round = (v: number) => Math.round(v * 100) / 100;

test('convs: OSSN / SVCM / Cayley conv fwd+bwd vs plain tf.conv2d (wasm)', async () => {
  await prepareBackend('wasm');
  const rows: Record<string, unknown>[] = [];
  for (const channels of CHANNELS) {
    const x = tf.variable(tf.randomNormal([BATCH, SIZE, SIZE, channels], 0, 1, 'float32', 1), true);
    const dy = tf.randomNormal([BATCH, SIZE, SIZE, channels], 0, 1, 'float32', 2);
    const w = tf.variable(tf.randomNormal([KERNEL, KERNEL, channels, channels], 0, 0.1, 'float32', 3), true);
    const options = { warmup: 1, repeats: 5 };
    const fwdBwd = (f: () => tf.Tensor, vars: tf.Variable[]) => () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(f(), dy)) as tf.Scalar, vars);
      return [value, ...Object.values(grads)];
    };
    const plain = await measure(fwdBwd(() => tf.conv2d(x as tf.Tensor4D, w as unknown as tf.Tensor4D, 1, 'same'), [x, w]), options);
    const plainCircular = await measure(fwdBwd(() => circularConv2d(x as tf.Tensor4D, w as unknown as tf.Tensor4D), [x, w]), options);
    const plainForward = await measure(() => tf.conv2d(x as tf.Tensor4D, w as unknown as tf.Tensor4D, 1, 'same'), options);
    const shape = { inChannels: channels, outChannels: channels, kernelSize: KERNEL, inputSize: [SIZE, SIZE] as [number, number] };
    const layers: [string, LayerModule][] = [
      ['ossn', ossnConv2d(shape)],
      ['svcm', svcmConv2d(shape)],
      ['cayley', cayleyConv2d(shape)],
    ];
    const row: Record<string, unknown> = {
      channels,
      plainConvFwdBwdMs: round(plain.medianMs),
      plainCircularConvFwdBwdMs: round(plainCircular.medianMs),
      plainConvForwardMs: round(plainForward.medianMs),
    };
    for (const [name, layer] of layers) {
      const train = await measure(fwdBwd(() => layer.apply(x), [x, ...layer.trainableVariables]), options);
      layer.freeze();
      const inference = await measure(() => layer.apply(x), options);
      layer.unfreeze();
      row[`${name}FwdBwdMs`] = round(train.medianMs);
      row[`${name}OverPlainFwdBwd`] = round(train.medianMs / plain.medianMs);
      row[`${name}FrozenForwardMs`] = round(inference.medianMs);
      row[`${name}FrozenOverPlainForward`] = round(inference.medianMs / plainForward.medianMs);
    }
    const svcm = layers[1][1] as LayerModule & { project(): Promise<void> };
    const projection = await measure(() => svcm.project(), { warmup: 0, repeats: 1 });
    row.svcmProjectionMs = round(projection.medianMs);
    row.svcmProjectionOverPlainFwdBwd = round(projection.medianMs / plain.medianMs);
    rows.push(row);
    for (const [, layer] of layers) layer.dispose();
    tf.dispose([x, dy, w]);
  }
  writeBenchResult('convs-variants', {
    description:
      'Forward+backward (dx and every trainable variable) of ossnConv2d (10 power iterations per step), svcmConv2d (plain circular conv) and cayleyConv2d (DFT by matMul, per-frequency Cayley transform) vs tf.conv2d "same" and a plain circular conv of the same shape, batch 64, 14×14, k=3, cin = cout, wasm, same run. *OverPlainFwdBwd = ratio to tf.conv2d. Frozen forward: inference with cached kernels. svcmProjection: one project() (50 rounds of Sedghi clipping, float64 on the host), run every 100 steps by default.',
    batch: BATCH,
    spatial: SIZE,
    kernel: KERNEL,
    rows,
  });
});
