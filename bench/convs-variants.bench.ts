// OSSN, SVCM and Cayley convolutions (@lipschitz/layers) against a plain tf.conv2d of the same shape,
// all forward + backward (gradients w.r.t. the input and every trainable variable) on wasm in the same
// run, at batch 64 on 14×14 maps, k = 3, cin = cout ∈ {16, 32}. Also: the frozen (inference) forward of
// each layer against the plain forward, and the cost of one SVCM projection (50 rounds of Sedghi
// clipping on the host). The development machines are shared and loaded, so baseline and layer are
// timed alternately, round by round, and the reported ratio is the median of the per-round ratios.
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
const ROUNDS = 5;

const round = (v: number) => Math.round(v * 100) / 100;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Alternates `baseline` and `ours` for ROUNDS rounds (3 timed runs each, after one warm-up). */
async function compare(baseline: () => unknown, ours: () => unknown) {
  await measure(baseline, { warmup: 1, repeats: 1 });
  await measure(ours, { warmup: 1, repeats: 1 });
  const base: number[] = [];
  const mine: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const b = (await measure(baseline, { warmup: 0, repeats: 3 })).medianMs;
    const o = (await measure(ours, { warmup: 0, repeats: 3 })).medianMs;
    base.push(b);
    mine.push(o);
    ratios.push(o / b);
  }
  return { baselineMs: round(median(base)), oursMs: round(median(mine)), ratio: round(median(ratios)) };
}

test('convs: OSSN / SVCM / Cayley conv fwd+bwd vs plain tf.conv2d (wasm)', async () => {
  await prepareBackend('wasm');
  const rows: Record<string, unknown>[] = [];
  for (const channels of CHANNELS) {
    const x = tf.variable(tf.randomNormal([BATCH, SIZE, SIZE, channels], 0, 1, 'float32', 1), true);
    const dy = tf.randomNormal([BATCH, SIZE, SIZE, channels], 0, 1, 'float32', 2);
    const w = tf.variable(tf.randomNormal([KERNEL, KERNEL, channels, channels], 0, 0.1, 'float32', 3), true);
    const fwdBwd = (f: () => tf.Tensor, vars: tf.Variable[]) => () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(f(), dy)) as tf.Scalar, vars);
      return [value, ...Object.values(grads)];
    };
    const plainStep = fwdBwd(() => tf.conv2d(x as tf.Tensor4D, w as unknown as tf.Tensor4D, 1, 'same'), [x, w]);
    const plainForward = () => tf.conv2d(x as tf.Tensor4D, w as unknown as tf.Tensor4D, 1, 'same');
    const shape = { inChannels: channels, outChannels: channels, kernelSize: KERNEL, inputSize: [SIZE, SIZE] as [number, number] };
    const row: Record<string, unknown> = {
      channels,
      circularConvFwdBwd: await compare(plainStep, fwdBwd(() => circularConv2d(x as tf.Tensor4D, w as unknown as tf.Tensor4D), [x, w])),
    };
    const layers: [string, LayerModule][] = [
      ['ossn', ossnConv2d(shape)],
      ['svcm', svcmConv2d(shape)],
      ['cayley', cayleyConv2d(shape)],
    ];
    for (const [name, layer] of layers) {
      row[`${name}FwdBwd`] = await compare(plainStep, fwdBwd(() => layer.apply(x), [x, ...layer.trainableVariables]));
      layer.freeze();
      row[`${name}FrozenForward`] = await compare(plainForward, () => layer.apply(x));
      layer.unfreeze();
    }
    const svcm = layers[1][1] as LayerModule & { project(): Promise<void> };
    const before = (await measure(plainStep, { warmup: 0, repeats: 3 })).medianMs;
    const projection = (await measure(() => svcm.project(), { warmup: 0, repeats: 1 })).medianMs;
    const after = (await measure(plainStep, { warmup: 0, repeats: 3 })).medianMs;
    row.svcmProjection = {
      baselineMs: round((before + after) / 2),
      oursMs: round(projection),
      ratio: round(projection / ((before + after) / 2)),
      note: 'one project() = 50 rounds (default every 100 steps), vs one plain fwd+bwd step',
    };
    rows.push(row);
    for (const [, layer] of layers) layer.dispose();
    tf.dispose([x, dy, w]);
  }
  writeBenchResult('convs-variants', {
    description:
      'Forward+backward (dx and every trainable variable) of ossnConv2d (10 power iterations per step), svcmConv2d (plain circular conv) and cayleyConv2d (DFT by matMul, per-frequency Cayley transform, complex Gauss–Jordan) vs tf.conv2d "same" of the same shape (baseline), batch 64, 14×14, k=3, cin = cout, wasm, same run. Each entry: baseline and layer medians (ms) and the median of per-round ratios (layer / baseline), timed alternately. *FrozenForward: inference with cached kernels vs the plain forward. svcmProjection: one project() (50 rounds of Sedghi clipping, float64 on the host) vs one plain fwd+bwd step.',
    batch: BATCH,
    spatial: SIZE,
    kernel: KERNEL,
    rows,
  });
});
